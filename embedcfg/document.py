"""The one description of the whole document (format version 1).

Everything about the *shape* of a document that more than one part of
embedcfg needs is stated here, once: its keys and their types (read off the
attrs model, whose fields carry their description in ``metadata``, see
:func:`embedcfg._keys.key`), the closed sets of values, which values are
paths and how they are anchored and used, the reading limits, the supported
CPython range, and the mapping of the pycache policy onto options
(:func:`pycache_options`).
The option table (:mod:`embedcfg.options`) is the same for ``[options]``.

What follows from it: the JSON Schema (:mod:`embedcfg.schema`), the semantic
and path-security checks, ``precompile``, and, generated into
``capi_shim/embedcfg_document.h`` by ``python -m embedcfg.generate``, every
key list, value list, path item and limit of the C shim and launcher. Adding
a top-level key is one field in :mod:`embedcfg.model` plus its behaviour.
"""

from __future__ import annotations

import enum
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

import attrs

from ._keys import META, PATH_NOTE, Anchoring, KeyInfo, PathRule, key
from .model import FORMAT_VERSION, EmbedConfig, OptionValue, Pycache, PycacheMode
from .options import FIRST_VERSION, LAST_VERSION, OPTIONS, PathUse, format_version

__all__ = [
    "ANCHORS",
    "ARCHIVE_SUFFIXES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "PATH_NOTE",
    "PREFIX_MODES",
    "RUN_OPTIONS",
    "SUPPORTED",
    "Anchoring",
    "Key",
    "KeyInfo",
    "PathRule",
    "PathUse",
    "PathValue",
    "describe",
    "document_paths",
    "expand",
    "key",
    "pycache_options",
    "split_anchor",
]

#: The largest document read, in bytes (the shim's parser has the same limit).
MAX_BYTES = 1024 * 1024
#: The deepest nesting of arrays and tables read.
MAX_DEPTH = 64

#: The CPython range embedcfg configures, as messages spell it.
SUPPORTED = f"{format_version(FIRST_VERSION)} to {format_version(LAST_VERSION)}"

#: Path prefixes the shim expands: the launcher's and the document's directory.
ANCHORS = ("$ORIGIN", "$CONFIG_DIR")

#: Entries of a module search path that are files (archives), not directories.
ARCHIVE_SUFFIXES = (".zip", ".egg", ".whl")

#: The options that each say what the interpreter runs; CPython runs only one.
RUN_OPTIONS = ("run_command", "run_module", "run_filename")


@attrs.frozen
class Key:
    """One key of the document (or the document itself), as the schema sees it."""

    name: str
    #: The JSON type: object, array, string, integer, boolean.
    type: str
    doc: str
    enum: Tuple[str, ...] = ()
    const: Optional[int] = None
    required: bool = False
    non_empty: bool = False
    path: Optional[PathRule] = None
    #: For an object: its keys, in document order.
    keys: Tuple["Key", ...] = ()
    #: For an array: what each item is.
    items: Optional["Key"] = None
    #: The ``[options]`` table: its keys are the option table's.
    is_options: bool = False

    def child(self, name: str) -> "Key":
        """The key ``name`` of this object (KeyError when it has none)."""
        for k in self.keys:
            if k.name == name:
                return k
        raise KeyError(name)


_SCHEMA_KEY = Key("$schema", "string", "Path or URL of this schema, for editors.")


def _unwrap_optional(tp: Any) -> Any:
    args = getattr(tp, "__args__", None)
    if getattr(tp, "__origin__", None) is Union and args is not None:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return tp


def _describe_field(field: "attrs.Attribute[Any]") -> Key:
    info: KeyInfo = field.metadata[META]
    tp = _unwrap_optional(field.type)
    common: Dict[str, Any] = {"doc": info.doc, "required": info.required,
                              "non_empty": info.non_empty, "path": info.path}
    origin = getattr(tp, "__origin__", None)
    if field.name == "options":
        return Key(field.name, "object", is_options=True, **common)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return Key(field.name, "string", enum=tuple(m.value for m in tp), **common)
    if isinstance(tp, type) and attrs.has(tp):
        return Key(field.name, "object", keys=_describe_class(tp), **common)
    if origin is tuple:
        item = tp.__args__[0]
        return Key(field.name, "array", items=Key("", "object", "", keys=_describe_class(item)),
                   **common)
    names = {bool: "boolean", int: "integer", str: "string"}
    if tp in names:
        const = FORMAT_VERSION if field.name == "version" else None
        return Key(field.name, names[tp], const=const, **common)
    raise TypeError(f"the description has no JSON type for {field.name}: {tp!r}")


def _describe_class(cls: type) -> Tuple[Key, ...]:
    attrs.resolve_types(cls)  # the model's annotations are strings
    return tuple(_describe_field(f) for f in attrs.fields(cls))


_described: Optional[Key] = None


def describe() -> Key:
    """The whole document, from the model's fields and their metadata."""
    global _described  # computed once: it only reads constant class definitions
    if _described is None:
        _described = Key("", "object", (f"How an embedded CPython interpreter ({SUPPORTED}) is"
                                        " configured before init. Format version 1."),
                         keys=(_SCHEMA_KEY,) + _describe_class(EmbedConfig))
    return _described


# Anchors.

def split_anchor(value: str) -> Tuple[Optional[str], str]:
    """``("$ORIGIN", "/lib/x.so")`` for ``"$ORIGIN/lib/x.so"``; ``(None, value)``
    when ``value`` does not start with a known anchor followed by ``/`` or its end."""
    for anchor in ANCHORS:
        if value == anchor or value.startswith(anchor + "/"):
            return anchor, value[len(anchor):]
    return None, value


def expand(value: str, *, origin: Optional[str], config_dir: Optional[str]) -> Optional[str]:
    """``value`` with a leading ``$ORIGIN`` / ``$CONFIG_DIR`` replaced, or
    None when it cannot be expanded (anchor unknown here, or relative)."""
    anchor, rest = split_anchor(value)
    if anchor is not None:
        base = origin if anchor == "$ORIGIN" else config_dir
        return base + rest if base else None
    if value.startswith("/"):
        return value
    return None  # relative or unknown anchor: reported as EC400/EC401 by checks


# The pycache policy.

#: The modes that take ``pycache.prefix``, and whether they need one:
#: ``prefix`` reads and writes the prefix tree, so it is nothing without
#: one; ``readonly`` reads the prefix tree when given one (a read-only image
#: whose bytecode is on another mount), else ``__pycache__`` beside the
#: sources. With any other mode a prefix would do nothing (EC305).
PREFIX_MODES: Mapping[PycacheMode, bool] = {
    PycacheMode.PREFIX: True,
    PycacheMode.READONLY: False,
}


def pycache_options(pc: Optional[Pycache]) -> Dict[str, OptionValue]:
    """The options a pycache policy sets (the C shim applies the same table)."""
    out: Dict[str, OptionValue] = {}
    if pc is None:
        return out
    if pc.mode in PREFIX_MODES and pc.prefix is not None:
        out["pycache_prefix"] = pc.prefix
    if pc.mode is not None:
        out["write_bytecode"] = pc.mode in (PycacheMode.DEFAULT, PycacheMode.PREFIX)
    if pc.check is not None:
        out["check_hash_pycs_mode"] = pc.check.value
    return out


# Paths.

@attrs.frozen
class PathValue:
    """One path value of a concrete document."""

    #: Where it is: ``("inittab", 0, "library")``.
    parts: Tuple[Union[str, int], ...]
    value: str
    rule: PathRule

    @property
    def label(self) -> str:
        """How messages name it: ``inittab[0].library``."""
        return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p)
                       for i, p in enumerate(self.parts))


def _option_rule(name: str) -> Optional[PathRule]:
    opt = OPTIONS.get(name)
    if opt is None or not opt.path:
        return None
    return PathRule(Anchoring.ANCHORED, opt.loads)


def _walk(k: Key, raw: Any, parts: Tuple[Union[str, int], ...]) -> Iterator[PathValue]:
    # ``raw`` is a raw document (dicts and lists) or the model itself.
    if attrs.has(type(raw)):
        raw = {name: getattr(raw, name) for name in attrs.fields_dict(type(raw))}
    if k.path is not None and isinstance(raw, str):
        yield PathValue(parts, raw, k.path)
    elif k.is_options and isinstance(raw, Mapping):
        for name, value in raw.items():
            rule = _option_rule(name)
            if rule is None:
                continue
            if isinstance(value, str):
                yield PathValue(parts + (name,), value, rule)
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, str):
                        yield PathValue(parts + (name, i), v, rule)
    elif k.keys and isinstance(raw, Mapping):
        for sub in k.keys:
            if sub.name in raw:
                yield from _walk(sub, raw[sub.name], parts + (sub.name,))
    elif k.items is not None and isinstance(raw, (list, tuple)):
        for i, item in enumerate(raw):
            yield from _walk(k.items, item, parts + (i,))


def document_paths(doc: Union[EmbedConfig, Mapping[str, Any]]) -> List[PathValue]:
    """Every path value of a model or of a raw document, in document order."""
    return list(_walk(describe(), doc, ()))

