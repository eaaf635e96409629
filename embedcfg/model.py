"""The typed embedcfg document (format version 1).

Frozen attrs classes; ``None`` everywhere means "leave the profile's
default". Serialization lives in :mod:`embedcfg.codec`, validation in
:mod:`embedcfg.schema` and :mod:`embedcfg.checks`: the model only holds data.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Iterable, Mapping, Optional, Sequence, Tuple, Union

import attrs

__all__ = [
    "FORMAT_VERSION",
    "INDEXED_THRESHOLD",
    "EmbedConfig",
    "HashCheck",
    "InittabEntry",
    "OptionValue",
    "Profile",
    "Pycache",
    "PycacheMode",
    "StaticModules",
]

#: The document format version this embedcfg reads and writes.
FORMAT_VERSION = 1

#: From this many static modules on, a document that does not choose
#: ``static_modules`` gets the indexed importer: each inittab entry adds cost
#: to every static import (three linear scans), and below this CPython's
#: inittab costs no more (benchmarks/static_modules.py) and is the more
#: compatible of the two. The C shim's copy is generated from this one
#: (``EMBEDCFG_INDEXED_THRESHOLD`` in capi_shim/embedcfg_options.h).
INDEXED_THRESHOLD = 100

#: The value of one option: bool, int, str or a list of str (a tuple here).
OptionValue = Union[bool, int, str, Tuple[str, ...]]


class Profile(enum.Enum):
    """The preset the options are applied on top of."""

    ISOLATED = "isolated"  # PyConfig_InitIsolatedConfig, as PyInitConfig_Create
    PYTHON = "python"  # PyConfig_InitPythonConfig: behaves like the python command


class PycacheMode(enum.Enum):
    """Where bytecode caches are read from and written to."""

    DEFAULT = "default"  # __pycache__ beside the sources
    PREFIX = "prefix"  # a separate tree under pycache.prefix
    READONLY = "readonly"  # read existing caches, never write
    OFF = "off"  # never write (and nothing special to read)


class HashCheck(enum.Enum):
    """How hash-based .pyc files are validated (PEP 552)."""

    DEFAULT = "default"
    ALWAYS = "always"
    NEVER = "never"


class StaticModules(enum.Enum):
    """How the inittab's static extension modules become importable."""

    INITTAB = "inittab"  # CPython's inittab, registered before init
    INDEXED = "indexed"  # embedcfg's indexed importer on sys.meta_path, after init


def _freeze_options(value: Mapping[str, object]) -> Mapping[str, OptionValue]:
    frozen = {}
    for name, v in value.items():
        frozen[name] = tuple(v) if isinstance(v, (list, tuple)) else v
    return MappingProxyType(frozen)  # type: ignore[arg-type]


def _entries(value: Iterable["InittabEntry"]) -> Tuple["InittabEntry", ...]:
    # A Python function rather than ``tuple`` itself: attrs inspects a
    # converter's signature, and for a builtin that means compiling
    # tokenize's large regular expression, several ms of every start-up.
    return tuple(value)


@attrs.frozen
class InittabEntry:
    """A statically linked extension module to register before init."""

    #: The dotted module name, as imported.
    name: str
    #: The C init function; None means ``PyInit_<last part of name>``.
    init: Optional[str] = None
    #: Shared library holding the symbol; None means the host program.
    library: Optional[str] = None

    @property
    def init_symbol(self) -> str:
        """The init function's name, with the default applied."""
        return self.init if self.init is not None else "PyInit_" + self.name.rpartition(".")[2]


@attrs.frozen
class Pycache:
    """The bytecode cache policy."""

    mode: Optional[PycacheMode] = None
    prefix: Optional[str] = None
    check: Optional[HashCheck] = None


@attrs.frozen
class EmbedConfig:
    """How one interpreter must be set up before init."""

    version: int = FORMAT_VERSION
    profile: Profile = Profile.ISOLATED
    lib: Optional[str] = None
    requires_python: Optional[str] = None
    #: True when the host already runs inside Python: attach, do not init.
    embedded: bool = False
    options: Mapping[str, OptionValue] = attrs.field(
        factory=dict, converter=_freeze_options, hash=False
    )
    inittab: Tuple[InittabEntry, ...] = attrs.field(default=(), converter=_entries)
    #: The mechanism for the inittab; None: automatic (see ``INDEXED_THRESHOLD``).
    static_modules: Optional[StaticModules] = None
    pycache: Optional[Pycache] = None

    def with_options(self, **options: Union[OptionValue, Sequence[str]]) -> "EmbedConfig":
        """A copy with ``options`` merged in (a ``None`` value removes one)."""
        merged = dict(self.options)
        for name, value in options.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = tuple(value) if isinstance(value, list) else value  # type: ignore[assignment]
        return attrs.evolve(self, options=merged)
