"""The JSON Schema of the document, generated from its description.

``schema/embedcfg-1.schema.json`` is :func:`build_schema` written out (by
``python -m embedcfg.generate``, from :mod:`embedcfg.document` and the option
table) and committed for editors and other tools; a test keeps it fresh.

Documents are checked against the same schema by :func:`iter_problems`, a
small evaluator of the keywords :func:`build_schema` emits. The reference
implementation, jsonschema, costs more to import (about 0.12 s measured here)
than embedcfg's whole cold-start budget for ``validate``; the test suite runs
both on every corpus document and on generated ones and requires the same
verdict, and ``embedcfg validate --engine jsonschema`` runs the reference.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from .document import Key, describe
from .errors import Problem, pointer_from_parts
from .options import OPTIONS, Kind, Option, format_version

__all__ = [
    "SCHEMA_FILE",
    "SCHEMA_ID",
    "build_schema",
    "describe_values",
    "option_schema",
    "iter_problems",
    "iter_reference_problems",
    "render",
]

SCHEMA_ID = "urn:embedcfg:schema:document:1"
#: Where the generated schema is committed, relative to the project root.
SCHEMA_FILE = "schema/embedcfg-1.schema.json"

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def option_schema(opt: Option) -> Dict[str, Any]:
    """The JSON Schema of one option's value, with its description."""
    notes = [opt.doc]
    until = f" to {format_version(opt.until)}" if opt.until else " or newer"
    notes.append(f"CPython {format_version(opt.since)}{until}.")
    if opt.build is not None:
        notes.append(f"Only on {opt.build.label} builds.")
    notes.append("Settable at run time." if opt.runtime_settable else "Fixed at init.")
    kind = opt.value_kind
    s: Dict[str, Any]
    if kind is Kind.BOOL:
        s = {"type": "boolean"}
    elif kind is Kind.STR:
        s = {"type": "string"}
        if opt.choices is not None:
            s["enum"] = list(opt.choices)
    elif kind is Kind.STR_LIST:
        s = {"type": "array", "items": {"type": "string"}}
    else:
        span: Dict[str, Any] = {"type": "integer"}
        if opt.minimum is not None:
            span["minimum"] = opt.minimum
        if opt.maximum is not None:
            span["maximum"] = opt.maximum
        if opt.also:
            s = {"type": "integer", "anyOf": [{"const": v} for v in opt.also] + [span]}
        else:
            s = span
    s["description"] = " ".join(notes)
    return s


def _key_schema(k: Key) -> Dict[str, Any]:
    """The JSON Schema of one described key (or of the whole document)."""
    s: Dict[str, Any] = {"type": k.type}
    if k.const is not None:
        s["const"] = k.const
    if k.enum:
        s["enum"] = list(k.enum)
    if k.non_empty:
        s["minLength"] = 1
    if k.type == "object":
        required = [sub.name for sub in k.keys if sub.required]
        if required:
            s["required"] = required
        s["additionalProperties"] = False
    if k.doc:
        s["description"] = k.doc
    if k.is_options:
        s["properties"] = {name: option_schema(o) for name, o in OPTIONS.items()}
    elif k.type == "object":
        s["properties"] = {sub.name: _key_schema(sub) for sub in k.keys}
    if k.items is not None:
        s["items"] = _key_schema(k.items)
    return s


def build_schema() -> Dict[str, Any]:
    """The JSON Schema (2020-12) of document format version 1, from the
    description of the document (:func:`embedcfg.document.describe`)."""
    body = _key_schema(describe())
    return {"$schema": _DRAFT, "$id": SCHEMA_ID, "title": "embedcfg document",
            "description": body.pop("description"), **body}


def render(schema: Optional[Mapping[str, Any]] = None) -> str:
    """The schema as the committed file spells it."""
    import json

    return json.dumps(schema if schema is not None else build_schema(), indent=2,
                      ensure_ascii=False) + "\n"


# The evaluator.

_TYPE_NAMES = {
    "object": "a table", "array": "an array", "string": "a string",
    "integer": "an integer", "boolean": "true or false", "number": "a number",
}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__  # TOML dates and times


def _show(value: Any) -> str:
    import json  # on the first problem only: most documents have none

    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _found(value: Any) -> str:
    names = {"boolean": "a boolean", "integer": "an integer", "number": "a number",
             "string": "a string", "array": "an array", "object": "a table"}
    kind = _type_of(value)
    shown = f" ({_show(value)})" if kind not in ("object", "array") else ""
    return names.get(kind, f"a {kind}") + shown


def describe_values(s: Mapping[str, Any]) -> str:
    """What a (sub)schema accepts, in words: ``0..2``, ``0 or >= 640``."""
    if "anyOf" in s:
        return " or ".join(describe_values(sub) for sub in s["anyOf"])
    if "const" in s:
        return _show(s["const"])
    if "enum" in s:
        return "one of " + ", ".join(_show(v) for v in s["enum"])
    lo, hi = s.get("minimum"), s.get("maximum")
    if lo is not None and hi is not None:
        if hi - lo <= 2:
            return "one of " + ", ".join(str(v) for v in range(lo, hi + 1))
        if hi == 2**31 - 1:
            return f">= {lo}"
        return f"{lo}..{hi}"
    if lo is not None:
        return f">= {lo}"
    if hi is not None:
        return f"<= {hi}"
    return _TYPE_NAMES.get(s.get("type", ""), "any value")


def _accepts(value: Any, s: Mapping[str, Any]) -> bool:
    return next(_check(value, s, ()), None) is None


def _hint(value: Any, expected: str) -> str:
    if expected == "boolean" and _type_of(value) == "integer" and value in (0, 1):
        return f"; write {'true' if value else 'false'}"
    if expected == "integer" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return f"; write {value.strip()} without quotes"
    if expected == "integer" and isinstance(value, bool):
        return f"; write {int(value)}"
    if expected == "array" and isinstance(value, str):
        return f"; write [{_show(value)}]"
    return ""


def _check(value: Any, s: Mapping[str, Any], parts: Tuple[Any, ...]) -> Iterator[Problem]:
    # Names and pointers are built only when a problem is reported: a valid
    # document costs no string work.
    def problem(code: str, text: str) -> Problem:
        return Problem(code, text, pointer_from_parts(parts))

    expected = s.get("type")
    if expected is not None and _type_of(value) != expected:
        yield problem("EC100", f"{_name(parts)} must be {_TYPE_NAMES[expected]},"
                      f" found {_found(value)}{_hint(value, expected)}")
        return
    if "const" in s and value != s["const"]:
        code = "EC106" if parts == ("version",) else "EC104"
        yield problem(code, f"{_name(parts)} must be {_show(s['const'])}, found {_show(value)}")
        return
    if "enum" in s and value not in s["enum"]:
        import difflib  # only on the error path

        close = difflib.get_close_matches(str(value), [str(v) for v in s["enum"]], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        yield problem("EC104", f"{_name(parts)} must be {describe_values(s)},"
                      f" found {_show(value)}{hint}")
        return
    if "anyOf" in s and not any(_accepts(value, sub) for sub in s["anyOf"]):
        yield problem("EC103", f"{_name(parts)} must be {describe_values(s)}, found {_show(value)}")
        return
    lo, hi = s.get("minimum"), s.get("maximum")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        yield problem("EC103", f"{_name(parts)} must be {describe_values(s)}, found {_show(value)}")
        return
    if "minLength" in s and len(value) < s["minLength"]:
        yield problem("EC107", f"{_name(parts)} must not be empty")
        return
    if expected == "object":
        props: Mapping[str, Any] = s.get("properties", {})
        for key in s.get("required", ()):
            if key not in value:
                add = " (add version = 1)" if key == "version" else ""
                yield problem("EC105", f"{_name(parts)} needs the key {key!r}{add}")
        for key, item in value.items():
            sub = props.get(key)
            if sub is not None:
                yield from _check(item, sub, parts + (key,))
            elif s.get("additionalProperties", True) is False:
                yield _unknown_key(key, props, parts)
    elif expected == "array" and "items" in s:
        for i, item in enumerate(value):
            yield from _check(item, s["items"], parts + (i,))


def _name(parts: Sequence[Any]) -> str:
    if not parts:
        return "the document"
    if len(parts) == 2 and parts[0] == "options":
        return f"option {parts[1]!r}"
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
                   for i, p in enumerate(parts))


def _unknown_key(key: str, props: Mapping[str, Any], parts: Tuple[Any, ...]) -> Problem:
    import difflib  # only on the error path

    pointer = pointer_from_parts(parts + (key,))
    close = difflib.get_close_matches(key, [k for k in props if k != "$schema"], n=1,
                                      cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if parts == ("options",) and any(k.name == key for k in describe().keys):
        # TOML puts every key after [options] into that table: the usual slip.
        return Problem("EC102", f"unknown option {key!r}: {key!r} is a top-level key; move it"
                       " above [options] (in JSON, out of \"options\")", pointer)
    if parts == ("options",):
        return Problem("EC102", f"unknown option {key!r}{hint}"
                       + ("" if hint else "; see the option reference for the names"), pointer)
    where = f"in {_name(parts)}" if parts else "at the top level"
    allowed = ", ".join(k for k in props if k != "$schema")
    return Problem("EC101", f"unknown key {key!r} {where}{hint}"
                   + ("" if hint else f" (allowed: {allowed})"), pointer)


def iter_problems(raw: Any, schema: Optional[Mapping[str, Any]] = None) -> Iterator[Problem]:
    """Every place where ``raw`` breaks the schema, in document order."""
    yield from _check(raw, schema if schema is not None else build_schema(), ())


def iter_reference_problems(raw: Any,
                            schema: Optional[Mapping[str, Any]] = None) -> Iterator[Problem]:
    """The same check done by jsonschema, the reference implementation."""
    import jsonschema  # slow to import: only when asked for

    validator = jsonschema.Draft202012Validator(schema if schema is not None else build_schema())
    codes = {"type": "EC100", "additionalProperties": "EC101", "enum": "EC104",
             "const": "EC104", "minimum": "EC103", "maximum": "EC103", "anyOf": "EC103",
             "required": "EC105", "minLength": "EC107"}
    for e in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path))):
        parts: List[Any] = list(e.absolute_path)
        code = codes.get(str(e.validator), "EC100")
        if parts == ["version"] and code == "EC104":
            code = "EC106"
        if code == "EC101" and parts == ["options"]:
            code = "EC102"
        yield Problem(code, f"{e.message} (jsonschema)", pointer_from_parts(parts))
