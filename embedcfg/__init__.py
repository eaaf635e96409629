"""embedcfg: configuration as data for embedded CPython.

A typed document (:class:`~embedcfg.model.EmbedConfig`) describes how an interpreter must be
set up before init; it is read from and written to JSON or TOML, validated
against a JSON Schema and semantic rules, and applied by a small C shim.
"""

from ._api import dump, dumps, load, loads, validate
from .errors import ConfigInvalid, LoadError, Problem, Severity, ShimError
from .model import EmbedConfig, HashCheck, InittabEntry, Profile, Pycache, PycacheMode


def inspect(python: "str | None" = None) -> EmbedConfig:
    """The effective configuration of ``python`` (default: this interpreter)
    as a document; :func:`embedcfg.introspect.inspect` also says where each
    value came from and what was left out."""
    from .introspect import inspect as _inspect

    return _inspect(python).config

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
    "dump",
    "dumps",
    "inspect",
    "load",
    "loads",
    "validate",
]
