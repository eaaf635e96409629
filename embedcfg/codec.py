"""Reading and writing documents: JSON, TOML and the canonical form.

Reading is strict: what the stdlib parsers accept silently (duplicate keys,
NaN, NUL characters, lone surrogates) or crash on (deep nesting, huge
integers) becomes a located :class:`~embedcfg.errors.Problem`, never a
traceback. Structuring into the model happens only after the schema passed,
through a private cattrs converter.
"""

from __future__ import annotations

import math
import os
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from .document import MAX_BYTES, MAX_DEPTH
from .errors import CODES, LoadError, Problem, pointer_from_parts
from .model import Archive, EmbedConfig, InittabEntry, Pycache

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Parsed",
    "canonical",
    "dumps",
    "format_of",
    "make_converter",
    "parse",
    "read",
    "structure",
    "unstructure",
    "write_atomic",
]

# MAX_BYTES and MAX_DEPTH (re-exported) come from the document's
# description, which also gives them to the C shim's parser.
FORMATS = ("json", "toml")
# Patterns used on the error path only (re caches them on first use).
_TOML_POSITION = r"\(at line (\d+), column (\d+)\)"
_BIG_INT = r"[0-9_]{1000,}"


def format_of(path: Union[str, "os.PathLike[str]"]) -> Optional[str]:
    """The format a file name implies (``json`` / ``toml``), or None."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()[1:]
    return suffix if suffix in FORMATS else None


@attrs.frozen
class Parsed:
    """A parsed document: the raw value, the problems, and how to locate them."""

    raw: Any
    problems: Tuple[Problem, ...]
    text: str
    fmt: str
    file: Optional[str]

    @property
    def schema_ref(self) -> Optional[str]:
        """The editor's pointer to the JSON Schema: ``$schema`` in JSON, the
        ``#:schema`` comment before the first key or table in TOML (where
        :func:`dumps` writes them); None when there is none."""
        if self.fmt == "json":
            ref = self.raw.get("$schema") if isinstance(self.raw, dict) else None
            return ref if isinstance(ref, str) and ref else None
        for line in self.text.splitlines():
            stripped = line.strip()
            if stripped.startswith("#:schema"):
                ref = stripped[len("#:schema"):].strip()
                return ref or None
            if stripped and not stripped.startswith("#"):
                return None
        return None

    def locate(self, problems: List[Problem]) -> List[Problem]:
        """Fill in file, line and column of problems found in ``raw``."""
        if not problems:
            return problems
        from ._locate import Locator

        locator = Locator(self.text, self.fmt)
        out = []
        for p in problems:
            pos = locator.find(p.pointer) if p.line is None else (p.line, p.col)
            out.append(attrs.evolve(p, file=self.file, line=pos[0] if pos else None,
                                    col=pos[1] if pos else None))
        return out


def _line_col(text: str, offset: int) -> Tuple[int, int]:
    # Positions are only computed for problems: the locator loads on demand.
    from ._locate import line_col

    return line_col(text, offset)


def _problem(code: str, message: str, *, pointer: str = "", file: Optional[str] = None,
             pos: Optional[Tuple[int, int]] = None) -> Problem:
    assert code in CODES, code
    return Problem(code=code, message=message, pointer=pointer, file=file,
                   line=pos[0] if pos else None, col=pos[1] if pos else None)


def read(path: Union[str, "os.PathLike[str]"], fmt: Optional[str] = None) -> Parsed:
    """Read and parse a document file. Raises :class:`~embedcfg.LoadError` only when the
    file cannot be read at all; everything else is a problem in the result."""
    name = os.fspath(path)
    fmt = fmt or format_of(name)
    if fmt is None:
        raise LoadError(_problem(
            "EC002", f"cannot tell the format of {name!r}: expected a .json or .toml file",
            file=name))
    try:
        with open(name, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise LoadError(_problem("EC001", f"cannot read {name!r}: {e.strerror or e}",
                                 file=name)) from e
    return parse(data, fmt, file=name)


def parse(data: Union[bytes, str], fmt: str, *, file: Optional[str] = None) -> Parsed:
    """Parse the bytes or text of a document strictly."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected 'json' or 'toml'")

    def fail(code: str, message: str, pos: Optional[Tuple[int, int]] = None,
             text: str = "") -> Parsed:
        return Parsed(None, (_problem(code, message, file=file, pos=pos),), text, fmt, file)

    if len(data) > MAX_BYTES:
        return fail("EC003", f"the document is larger than {MAX_BYTES} bytes (1 MiB)")
    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            if fmt == "json":
                # RFC 8259 forbids it, and the C shim reads JSON documents
                # itself: what validates must also load there.
                return fail("EC012", "the file starts with a UTF-8 byte order mark, which JSON"
                            " forbids and the C shim refuses; save it without BOM", (1, 1))
            data = data[3:]  # in TOML, an editor's habit rather than content
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            prefix = data[: e.start].decode("utf-8", "replace")
            return fail("EC004",
                        f"byte 0x{data[e.start]:02x} at offset {e.start} is not valid UTF-8;"
                        " save the file as UTF-8", _line_col(prefix, len(prefix)))
    else:
        text = data
        bad = next((i for i, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF), None)
        if bad is not None:
            return fail("EC009", "the text contains a lone surrogate, which is not a character",
                        _line_col(text, bad), text)
    nul = text.find("\x00")
    if nul >= 0:
        return fail("EC008", "the text contains a NUL character; remove it",
                    _line_col(text, nul), text)
    duplicates = False
    try:
        if fmt == "json":
            raw, duplicates = _parse_json(text)
        else:
            raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return _toml_error(text, str(e), file)
    except ValueError as e:
        if fmt == "json":
            import json  # already imported by _parse_json

            if isinstance(e, json.JSONDecodeError):
                return fail("EC005", f"invalid JSON: {e.msg}", (e.lineno, e.colno), text)
        # int() digit limit, in both parsers; its text suggests
        # sys.set_int_max_str_digits, which is no fix for a document
        m = re.search(_BIG_INT, text)
        return fail("EC011", "an integer with thousands of digits is larger than any option"
                    " accepts; use a value in the option's range",
                    _line_col(text, m.start()) if m else None, text)
    except RecursionError:
        return _too_deep(text, fmt, file)
    if _depth(raw) > MAX_DEPTH:
        return _too_deep(text, fmt, file)
    parsed = Parsed(raw, (), text, fmt, file)
    problems = list(_value_problems(raw))
    if duplicates:
        from ._locate import Locator

        for pointer, offset in Locator(text, fmt).duplicates:
            problems.append(_problem(
                "EC006", f"duplicate key {pointer.rsplit('/', 1)[-1]!r}: it already appears"
                " earlier in the same object; keep one", pointer=pointer,
                pos=_line_col(text, offset)))
    if problems:
        return Parsed(raw, tuple(parsed.locate(problems)), text, fmt, file)
    return parsed


def _depth(value: Any) -> int:
    """Nesting depth of a parsed value, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((item, d + 1) for item in v if isinstance(item, (dict, list)))
    return deepest


def _too_deep(text: str, fmt: str, file: Optional[str]) -> Parsed:
    from ._locate import first_too_deep

    offset = first_too_deep(text, MAX_DEPTH)
    pos = _line_col(text, offset) if offset >= 0 else None
    return Parsed(None, (_problem("EC010", f"nesting deeper than {MAX_DEPTH} levels", file=file,
                                  pos=pos),), text, fmt, file)


def _parse_json(text: str) -> Tuple[Any, bool]:
    """Parse JSON; also tell whether some object repeats a key (the stdlib
    keeps the last silently; the locator finds where)."""
    import json  # here, not at import: validating TOML needs no JSON

    duplicates = False

    def pairs(items: List[Tuple[str, Any]]) -> Dict[str, Any]:
        nonlocal duplicates
        d = dict(items)
        if len(d) != len(items):
            duplicates = True
        return d

    # NaN/Infinity are kept as floats here and reported with their location
    # by _value_problems, like any other non-finite number (1e999).
    return json.loads(text, parse_constant=float, object_pairs_hook=pairs), duplicates


def _toml_error(text: str, message: str, file: Optional[str]) -> Parsed:
    from ._locate import Locator

    m = re.search(_TOML_POSITION, message)
    pos = (int(m.group(1)), int(m.group(2))) if m else None
    detail = re.sub(_TOML_POSITION, "", message).replace("(at end of document)", "").strip()
    code = "EC005"
    if detail.startswith("Cannot overwrite a value") or detail.startswith("Cannot declare"):
        # tomllib often cannot say where the first definition was; the
        # locator can.
        locator = Locator(text, "toml")
        if locator.duplicates:
            pointer, offset = locator.duplicates[0]
            return Parsed(None, (_problem(
                "EC006", f"duplicate key {pointer.rsplit('/', 1)[-1]!r}: it is already defined"
                " earlier; keep one", pointer=pointer, file=file,
                pos=_line_col(text, offset)),), text, "toml", file)
        code = "EC006"
    elif "Unicode scalar value" in detail:
        code = "EC009"
    return Parsed(None, (_problem(code, f"invalid TOML: {detail}", file=file, pos=pos),),
                  text, "toml", file)


def _value_problems(value: Any, parts: Tuple[object, ...] = ()) -> Any:
    """NUL, lone surrogates and non-finite numbers anywhere in a parsed value."""
    if isinstance(value, str):
        if "\x00" in value:
            yield _problem("EC008", "the string contains a NUL character (\\u0000), which would"
                           " truncate it in C; remove it", pointer=pointer_from_parts(parts))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            yield _problem("EC009", "the string contains a lone surrogate escape, which is not a"
                           " character; write the character or a full surrogate pair",
                           pointer=pointer_from_parts(parts))
    elif isinstance(value, float) and not math.isfinite(value):
        yield _problem("EC007", f"{value!r} is not a valid value; use an integer",
                       pointer=pointer_from_parts(parts))
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and not _encodable(k):
                # The key itself cannot be part of a pointer that is printed.
                yield _problem("EC009", f"a key contains a lone surrogate escape"
                               f" ({k.encode('utf-8', 'backslashreplace').decode()}); write the"
                               " character or a full surrogate pair",
                               pointer=pointer_from_parts(parts))
                continue
            if isinstance(k, str) and "\x00" in k:
                yield _problem("EC008", "a key contains a NUL character (\\u0000); remove it",
                               pointer=pointer_from_parts(parts))
                continue
            yield from _value_problems(v, parts + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _value_problems(v, parts + (i,))


def _encodable(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Structuring and unstructuring.


def make_converter() -> cattrs.BaseConverter:
    """The converter between raw documents and the model.

    Options are structured as they are (their types were checked by the
    schema); ``$schema`` is an editor hint that the model does not keep.
    Defaults and ``None`` are omitted when writing, except the format
    version and the profile, which a reader should always see.
    """
    # Structuring reads the attrs fields at run time (BaseConverter) rather
    # than generating a function per class: embedcfg is started once per
    # check by CI and pre-commit, and compiling those functions cost more
    # than all the structuring they would ever do in one process (about 2 %
    # of a cold `embedcfg validate`). Unknown keys never reach this: every
    # caller structures a document that the schema checked first, and the
    # schema admits no key the model lacks. Writing keeps the generated
    # unstructure functions, for their per-field overrides; they are built
    # on first use (hook factories), so validating never builds them.
    c = cattrs.BaseConverter()
    for cls in (EmbedConfig, InittabEntry, Pycache, Archive):
        attrs.resolve_types(cls)  # the model's annotations are strings
    options_type = attrs.fields(EmbedConfig).options.type
    c.register_structure_hook_func(lambda t: t == options_type, lambda v, _: dict(v))
    parts = (InittabEntry, Pycache, Archive)
    c.register_unstructure_hook_factory(
        lambda t: t in parts, lambda t: make_dict_unstructure_fn(t, c, _cattrs_omit_if_default=True))
    c.register_unstructure_hook_factory(lambda t: t is EmbedConfig, lambda _: make_dict_unstructure_fn(
        EmbedConfig, c, _cattrs_omit_if_default=True,
        version=override(omit_if_default=False),
        profile=override(omit_if_default=False),
        options=override(unstruct_hook=_unstructure_options),
        inittab=override(unstruct_hook=lambda v: [c.unstructure(e, InittabEntry) for e in v]),
        archives=override(unstruct_hook=lambda v: [c.unstructure(e, Archive) for e in v])))
    return c


def _unstructure_options(options: Any) -> Dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


_converter: Optional[cattrs.BaseConverter] = None


def _get_converter() -> cattrs.BaseConverter:
    # Built on first use, not at import: embedcfg must not do work at import.
    global _converter
    if _converter is None:
        _converter = make_converter()
    return _converter


def structure(raw: Dict[str, Any]) -> EmbedConfig:
    """Build the model from a raw document that passed the schema."""
    doc = {k: v for k, v in raw.items() if k != "$schema"}
    return _get_converter().structure(doc, EmbedConfig)


def unstructure(cfg: EmbedConfig) -> Dict[str, Any]:
    """The raw document of a model (plain dicts, lists and scalars)."""
    out: Dict[str, Any] = _get_converter().unstructure(cfg)
    if not out.get("options"):
        out.pop("options", None)
    for listed in ("inittab", "archives"):
        if not out.get(listed):
            out.pop(listed, None)
    return out


def dumps(cfg: EmbedConfig, fmt: str, *, schema_ref: Optional[str] = None) -> str:
    """Serialize a document as ``json`` or ``toml`` text.

    ``schema_ref`` (a path or URL of the JSON Schema) becomes ``$schema`` in
    JSON and a ``#:schema`` comment in TOML, which editors use for completion.
    """
    raw = unstructure(cfg)
    if fmt == "json":
        import json

        if schema_ref:
            raw = {"$schema": schema_ref, **raw}
        return json.dumps(raw, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "toml":
        import tomli_w  # only writers need it

        head = f"#:schema {schema_ref}\n" if schema_ref else ""
        return head + tomli_w.dumps(raw)
    raise ValueError(f"unknown format {fmt!r}: expected 'json' or 'toml'")


def canonical(cfg: EmbedConfig) -> bytes:
    """The canonical form the C shim reads: compact JSON, sorted keys, UTF-8."""
    import json

    return json.dumps(unstructure(cfg), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), allow_nan=False).encode("utf-8")


def write_atomic(path: Union[str, "os.PathLike[str]"], data: bytes,
                 opener: Optional[Callable[..., Any]] = None, mode: int = 0o666) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file,
    never a half-written one, with ``mode`` less the umask (0o777 for a
    program). ``opener`` replaces ``tempfile.mkstemp`` in tests."""
    import tempfile  # writers only

    target = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(target))
    fd, tmp = (opener or tempfile.mkstemp)(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, mode & ~mask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
