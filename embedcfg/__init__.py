"""embedcfg: configuration as data for embedded CPython.

A typed document (:class:`~embedcfg.model.EmbedConfig`) describes how an interpreter must be
set up before init; it is read from and written to JSON or TOML, validated
against a JSON Schema and semantic rules, and applied by a small C shim.
"""

from typing import TYPE_CHECKING, Sequence

from ._api import dump, dumps, load, loads, validate
from .errors import ConfigInvalid, LoadError, Problem, Severity, ShimError
from .model import (
    EmbedConfig,
    HashCheck,
    InittabEntry,
    Profile,
    Pycache,
    PycacheMode,
    StaticModules,
)


def inspect(python: "str | None" = None) -> EmbedConfig:
    """The effective configuration of ``python`` (default: this interpreter)
    as a document; :func:`embedcfg.introspect.inspect` also says where each
    value came from and what was left out."""
    from .introspect import inspect as _inspect

    return _inspect(python).config


def run(cfg: EmbedConfig, argv: "Sequence[str]" = (), python: "str | None" = None,
        config_dir: "str | None" = None) -> int:
    """Run ``cfg`` through the launcher built for ``python`` and return the
    application's exit status (see :func:`embedcfg.shim.run`)."""
    from .shim import run as _run

    return _run(cfg, argv, python, config_dir)


def attach(cfg: EmbedConfig, config_dir: "str | None" = None) -> "AttachReport":
    """Apply an ``embedded = true`` document to the running interpreter (see
    :func:`embedcfg.shim.attach`); the report says what could not be applied."""
    from .shim import attach as _attach

    return _attach(cfg, config_dir=config_dir)

if TYPE_CHECKING:
    from .shim import AttachReport

__version__ = "0.1.0"

__all__ = [
    "ConfigInvalid",
    "EmbedConfig",
    "HashCheck",
    "InittabEntry",
    "LoadError",
    "Problem",
    "Profile",
    "Pycache",
    "PycacheMode",
    "Severity",
    "ShimError",
    "StaticModules",
    "attach",
    "dump",
    "dumps",
    "inspect",
    "load",
    "loads",
    "run",
    "validate",
]
