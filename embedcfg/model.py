"""The typed embedcfg document (format version 1).

Frozen attrs classes; ``None`` everywhere means "leave the profile's
default". Serialization lives in :mod:`embedcfg.codec`, validation in
:mod:`embedcfg.schema` and :mod:`embedcfg.checks`: the model only holds data.
Each field's ``metadata`` describes its key (:func:`embedcfg._keys.key`);
the schema, the docs and the C shim's key lists are generated from it, so a
new key is a new field here plus its behaviour.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

import attrs

from ._keys import PATH_NOTE, Anchoring, PathRule, key
from .options import PathUse

__all__ = [
    "FORMAT_VERSION",
    "Archive",
    "ArchivePosition",
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
    READONLY = "readonly"  # read existing caches (beside sources, or under prefix), never write
    OFF = "off"  # never write (and nothing special to read)


class HashCheck(enum.Enum):
    """How hash-based .pyc files are validated (PEP 552)."""

    DEFAULT = "default"
    ALWAYS = "always"
    NEVER = "never"


class ArchivePosition(enum.Enum):
    """Where an archive's importer sits on sys.meta_path."""

    BEFORE_PATH = "before_path"  # before the path finder: the archive wins over sys.path
    AFTER_PATH = "after_path"  # after it: sys.path wins, the archive is the fallback


class StaticModules(enum.Enum):
    """How the inittab's static extension modules become importable."""

    INITTAB = "inittab"  # CPython's inittab, registered before init
    INDEXED = "indexed"  # embedcfg's indexed importer on sys.meta_path, after init


#: lib and inittab[].library: a file that is loaded, or a library name.
_LIBRARY = PathRule(Anchoring.LIBRARY, PathUse.FILE)


def _freeze_options(value: Mapping[str, object]) -> Mapping[str, OptionValue]:
    frozen = {}
    for name, v in value.items():
        frozen[name] = tuple(v) if isinstance(v, (list, tuple)) else v
    return MappingProxyType(frozen)  # type: ignore[arg-type]


def _entries(value: Iterable[Any]) -> Tuple[Any, ...]:
    # A Python function rather than ``tuple`` itself: attrs inspects a
    # converter's signature, and for a builtin that means compiling
    # tokenize's large regular expression, several ms of every start-up.
    return tuple(value)


@attrs.frozen
class InittabEntry:
    """A statically linked extension module to register before init."""

    #: The dotted module name, as imported.
    name: str = attrs.field(metadata=key("Dotted module name, as imported.", required=True,
                                         non_empty=True))
    #: The C init function; None means ``PyInit_<last part of name>``.
    init: Optional[str] = attrs.field(default=None, metadata=key(
        "C init function; default PyInit_<last part of name>.", non_empty=True))
    #: Shared library holding the symbol; None means the host program.
    library: Optional[str] = attrs.field(default=None, metadata=key(
        "Shared library holding the init function; absent: the host program. " + PATH_NOTE,
        non_empty=True, path=_LIBRARY))

    @property
    def init_symbol(self) -> str:
        """The init function's name, with the default applied."""
        return self.init if self.init is not None else "PyInit_" + self.name.rpartition(".")[2]


@attrs.frozen
class Archive:
    """A bytecode archive written by ``embedcfg pack``, imported from memory."""

    path: str = attrs.field(metadata=key(
        "The archive file (embedcfg pack -o). " + PATH_NOTE, required=True, non_empty=True,
        path=PathRule(Anchoring.ANCHORED, PathUse.FILE)))
    #: None means ``before_path``.
    position: Optional[ArchivePosition] = attrs.field(default=None, metadata=key(
        "Where its importer goes on sys.meta_path: 'before_path' (default: before the path"
        " finder, so the archive wins over sys.path) or 'after_path' (after it: a fallback)."
        " Archives of the same position keep their document order."))


@attrs.frozen
class Pycache:
    """The bytecode cache policy."""

    mode: Optional[PycacheMode] = attrs.field(default=None, metadata=key(
        "'default' (__pycache__ beside sources), 'prefix' (under prefix), 'readonly' (read,"
        " never write: beside sources, or under prefix when given), 'off' (never write)."))
    prefix: Optional[str] = attrs.field(default=None, metadata=key(
        "Cache directory: mode 'prefix' reads and writes bytecode there, mode 'readonly'"
        " only reads it from there (a tree embedcfg precompile filled). " + PATH_NOTE,
        non_empty=True,
        path=PathRule(Anchoring.ANCHORED, PathUse.CONTENTS)))
    check: Optional[HashCheck] = attrs.field(default=None, metadata=key(
        "Hash-based .pyc validation (PEP 552)."))


@attrs.frozen
class EmbedConfig:
    """How one interpreter must be set up before init."""

    version: int = attrs.field(default=FORMAT_VERSION, metadata=key(
        "Document format version; this format is 1.", required=True))
    profile: Profile = attrs.field(default=Profile.ISOLATED, metadata=key(
        "The preset the options apply on top of: 'isolated' (default; no environment"
        " variables, no user site, safe path) or 'python' (as the python command)."))
    lib: Optional[str] = attrs.field(default=None, metadata=key(
        "The libpython to load. " + PATH_NOTE + " A name without '/' is searched as dlopen"
        " does. Absent: the libpython the launcher was built for.", non_empty=True,
        path=_LIBRARY))
    requires_python: Optional[str] = attrs.field(default=None, metadata=key(
        "CPython versions the document must work on, as a specifier: '>=3.10',"
        " '>=3.9,<3.14'.", non_empty=True))
    #: True when the host already runs inside Python: attach, do not init.
    embedded: bool = attrs.field(default=False, metadata=key(
        "True when the host already runs inside a Python process: attach to it instead of"
        " initializing."))
    options: Mapping[str, OptionValue] = attrs.field(
        factory=dict, converter=_freeze_options, hash=False, metadata=key(
            "CPython configuration options by PEP 741 name; absent means the profile's"
            " default."))
    inittab: Tuple[InittabEntry, ...] = attrs.field(default=(), converter=_entries, metadata=key(
        "Statically linked extension modules to register before init."))
    #: The mechanism for the inittab; None: automatic (see ``INDEXED_THRESHOLD``).
    static_modules: Optional[StaticModules] = attrs.field(default=None, metadata=key(
        "How the inittab's modules become importable: 'inittab' (CPython's, registered before"
        " init) or 'indexed' (embedcfg's importer on sys.meta_path, installed after init; works"
        " when embedded). Absent: 'indexed' when embedded or from"
        f" {INDEXED_THRESHOLD} modules on, else 'inittab'."))
    pycache: Optional[Pycache] = attrs.field(default=None, metadata=key(
        "Bytecode cache policy."))
    archives: Tuple[Archive, ...] = attrs.field(default=(), converter=_entries, metadata=key(
        "Bytecode archives (embedcfg pack) whose modules are imported from memory, installed"
        " on sys.meta_path after init; each is checked before init (built for this CPython,"
        " complete, not corrupt)."))

    def with_options(self, **options: Union[OptionValue, Sequence[str]]) -> "EmbedConfig":
        """A copy with ``options`` merged in (a ``None`` value removes one)."""
        merged = dict(self.options)
        for name, value in options.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = tuple(value) if isinstance(value, list) else value  # type: ignore[assignment]
        return attrs.evolve(self, options=merged)
