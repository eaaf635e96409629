"""Generate the C shim's tables from :mod:`embedcfg.options` and :mod:`embedcfg.document`.

``capi_shim/embedcfg_options.h`` and ``capi_shim/embedcfg_document.h`` are
generated, committed, and checked for freshness by the tests (as CPython
checks its generated files), by ``python -m embedcfg.generate [--check]``.

The header is the shim's only knowledge of option names. For each option it
defines a member-offset macro guarded by ``PY_VERSION_HEX`` and the build
macro, so the applier fills ``PyConfig`` / ``PyPreConfig`` with
``offsetof`` in one loop instead of code per option, and a row of the static
table ``embedcfg_option_specs`` with the type, versions, range and choices.
It also carries ``EMBEDCFG_INDEXED_THRESHOLD`` from
:data:`embedcfg.model.INDEXED_THRESHOLD`, so the shim's automatic choice of
the static-module mechanism uses the same number as Python's.
"""

from __future__ import annotations

import keyword
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from . import document
from .model import INDEXED_THRESHOLD, PycacheMode, Pycache
from .options import (
    FIRST_VERSION,
    LAST_VERSION,
    OPTIONS,
    Build,
    CType,
    Kind,
    Option,
    PathUse,
    Struct,
    Version,
    Visibility,
)

__all__ = ["DOCUMENT_HEADER_NAME", "HEADER_NAME", "generate", "generate_document",
           "header_path"]

HEADER_NAME = "embedcfg_options.h"
DOCUMENT_HEADER_NAME = "embedcfg_document.h"


def header_path(name: str = HEADER_NAME) -> Path:
    """Where a generated header lives (the shim's source directory)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "capi_shim", here.parent / "capi_shim"):
        if candidate.is_dir():
            return candidate / name
    return here.parent / "capi_shim" / name


def _hex(version: Optional[Version]) -> str:
    if version is None:
        return "0"
    return f"0x{version[0]:02X}{version[1]:02X}0000"


def _removed(opt: Option) -> Optional[Version]:
    # The first minor without the member (exclusive bound for the guard).
    return None if opt.until is None else (opt.until[0], opt.until[1] + 1)


def _guard(opt: Option) -> str:
    parts = []
    if opt.since > (3, 8):
        parts.append(f"PY_VERSION_HEX >= {_hex(opt.since)}")
    removed = _removed(opt)
    if removed is not None:
        parts.append(f"PY_VERSION_HEX < {_hex(removed)}")
    if opt.build is not None:
        parts.append(f"defined({opt.build.macro})")
    return " && ".join(parts)


def _c_int(value: Optional[int]) -> str:
    return "0" if value is None else f"INT64_C({value})"


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _member_macros(opt: Option) -> List[str]:
    lines = []
    guard = _guard(opt)
    pre = opt.struct in (Struct.PRECONFIG, Struct.BOTH)
    cfg = opt.struct in (Struct.CONFIG, Struct.BOTH)
    defs = [
        ("PRE", "PyPreConfig", pre),
        ("CFG", "PyConfig", cfg),
    ]
    if guard:
        lines.append(f"#if {guard}")
    for tag, struct, present in defs:
        value = f"offsetof({struct}, {opt.name})" if present else "EMBEDCFG_NO_MEMBER"
        lines.append(f"#  define EMBEDCFG_{tag}_{opt.name} {value}")
    if guard:
        lines.append("#else")
        for tag, _, _ in defs:
            lines.append(f"#  define EMBEDCFG_{tag}_{opt.name} EMBEDCFG_NO_MEMBER")
        lines.append("#endif")
    return lines


def _choices(opt: Option) -> List[str]:
    if not opt.choices:
        return []
    rows = [f"static const embedcfg_choice embedcfg_choices_{opt.name}[] = {{"]
    for name, value in opt.choices.items():
        since = opt.values_since.get(name)
        rows.append(f"    {{{_c_string(name)}, {value}, {_hex(since)}}},")
    rows.append("    {NULL, 0, 0}")
    rows.append("};")
    return rows


def _values_since(opt: Option) -> List[str]:
    ints = {k: v for k, v in opt.values_since.items()
            if isinstance(k, int) and not isinstance(k, bool)}
    if not ints:
        return []
    rows = [f"static const embedcfg_value_since embedcfg_since_{opt.name}[] = {{"]
    for value, since in sorted(ints.items()):
        rows.append(f"    {{INT64_C({value}), {_hex(since)}}},")
    rows.append("    {0, 0}")
    rows.append("};")
    return rows


def _row(opt: Option) -> str:
    also = list(opt.also) + [0, 0]
    assert len(opt.also) <= 2, opt.name
    ints_since = any(isinstance(k, int) and not isinstance(k, bool) for k in opt.values_since)
    fields = [
        _c_string(opt.name),
        f"EMBEDCFG_CT_{opt.ctype.value}",
        f"EMBEDCFG_KIND_{opt.value_kind.name}",
        f"EMBEDCFG_ST_{opt.struct.name}",
        f"EMBEDCFG_VIS_{opt.visibility.name}",
        f"EMBEDCFG_BUILD_{opt.build.name if opt.build else 'NONE'}",
        _hex(opt.since),
        _hex(_removed(opt)),
        "1" if opt.minimum is not None or opt.maximum is not None else "0",
        _c_int(opt.minimum),
        _c_int(opt.maximum),
        str(len(opt.also)),
        f"{{INT64_C({also[0]}), INT64_C({also[1]})}}",
        f"embedcfg_choices_{opt.name}" if opt.choices else "NULL",
        f"embedcfg_since_{opt.name}" if ints_since else "NULL",
        "1" if opt.path else "0",
        _c_string(opt.env) if opt.env else "NULL",
        f"EMBEDCFG_PRE_{opt.name}",
        f"EMBEDCFG_CFG_{opt.name}",
    ]
    return "    {" + ", ".join(fields) + "},"


_PREAMBLE = """\
/* Generated by `python -m embedcfg.generate` from embedcfg/options.py.
 * DO NOT EDIT: change the option table and regenerate; a test fails when
 * this file is stale.
 *
 * Internal header of the shim: include it after Python.h and
 * option_spec.h, which define the row type and the enums used here.
 * Each option gets EMBEDCFG_PRE_<name> / EMBEDCFG_CFG_<name>: the offset of
 * its PyPreConfig / PyConfig member, or EMBEDCFG_NO_MEMBER when the CPython
 * the shim is compiled for (PY_VERSION_HEX, build macros) does not have it. */

#ifndef EMBEDCFG_OPTIONS_H
#define EMBEDCFG_OPTIONS_H

#ifndef Py_PYTHON_H
#  error "include Python.h before embedcfg_options.h"
#endif
"""


def generate() -> str:
    """The text of the generated header."""
    _self_check()
    out: List[str] = [_PREAMBLE]
    out.append(f"#define EMBEDCFG_OPTION_COUNT {len(OPTIONS)}")
    out.append("")
    out.append("/* static_modules absent: the indexed importer from this many inittab")
    out.append(" * entries on (embedcfg.model.INDEXED_THRESHOLD; embedded: always). */")
    out.append(f"#define EMBEDCFG_INDEXED_THRESHOLD {INDEXED_THRESHOLD}")
    out.append("")
    out.append("/* How messages name the builds that some members need. */")
    for b in Build:
        out.append(f"#define EMBEDCFG_BUILD_LABEL_{b.name} {_c_string(b.label)}")
    out.append("")
    out.append("/* Member offsets, guarded by version and build. */")
    for opt in OPTIONS.values():
        out.extend(_member_macros(opt))
    out.append("")
    out.append("/* Closed sets of values: document name -> C value, first version. */")
    for opt in OPTIONS.values():
        out.extend(_choices(opt))
        out.extend(_values_since(opt))
    out.append("")
    out.append("/* name, C type, document type, struct, visibility, build, since, removed,")
    out.append(" * has_range, min, max, n_also, also, choices, values_since, path, env,")
    out.append(" * PyPreConfig offset, PyConfig offset. Sorted as in options.py. */")
    out.append("static const embedcfg_spec embedcfg_option_specs[EMBEDCFG_OPTION_COUNT] = {")
    for opt in OPTIONS.values():
        out.append(_row(opt))
    out.append("};")
    out.append("")
    names = list(OPTIONS)
    order = sorted(range(len(names)), key=lambda i: names[i].encode("utf-8"))
    out.append("/* Indices into embedcfg_option_specs in strcmp order of the names, for")
    out.append(" * a binary search by name. */")
    out.append("static const unsigned short embedcfg_option_by_name[EMBEDCFG_OPTION_COUNT] = {")
    for start in range(0, len(order), 16):
        out.append("    " + ", ".join(str(i) for i in order[start:start + 16]) + ",")
    out.append("};")
    out.append("")
    out.append("#endif /* EMBEDCFG_OPTIONS_H */")
    return "\n".join(out) + "\n"


def _self_check() -> None:
    # The C side knows these enums; a new member in options.py must be added
    # to option_spec.h as well, and this makes that impossible to miss.
    assert {c.value for c in CType} == {"BOOL", "INT", "UINT", "ULONG", "WSTR",
                                        "WSTR_OPT", "WSTR_LIST"}
    assert {k.name for k in Kind} == {"BOOL", "INT", "STR", "STR_LIST"}
    assert {s.name for s in Struct} == {"CONFIG", "PRECONFIG", "BOTH"}
    assert {v.name for v in Visibility} == {"PUBLIC", "READ_ONLY", "INIT_ONLY"}
    assert all(b.macro and b.label for b in Build)


_DOCUMENT_PREAMBLE = """\
/* Generated by `python -m embedcfg.generate` from embedcfg/document.py (the
 * description of the document, read off the model in embedcfg/model.py).
 * DO NOT EDIT: change the description and regenerate; a test fails when
 * this file is stale.
 *
 * Plain C99 with no Python dependency: the parser, the path checks and the
 * launcher include it before any libpython is loaded. Lists are
 * initializers ending in NULL, for the including file's own arrays. */

#ifndef EMBEDCFG_DOCUMENT_H
#define EMBEDCFG_DOCUMENT_H
"""


def _c_list(values: Sequence[str]) -> str:
    return ", ".join([_c_string(v) for v in values] + ["NULL"])


def _c_words(values: Sequence[str]) -> str:
    """A closed set as messages spell it: "a", "b" or "c"."""
    quoted = [f'\\"{v}\\"' for v in values]
    text = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
    return '"' + text + '"'


def _c_name(parts: Sequence[str]) -> str:
    return "_".join(p.upper() for p in parts if p)


def _wrapped(name: str, items: Sequence[str]) -> str:
    """``#define name a, b, ...``, continued over lines of at most 79 columns."""
    lines, line = [], f"#define {name}"
    for item in items:
        if len(line) + len(item) + 3 > 79:
            lines.append(line + " \\")
            line = "   "
        line += f" {item}"
    return "\n".join(lines + [line])


def _tables(desc: document.Key) -> List[Tuple[str, document.Key]]:
    """The document and each of its tables (an array's items too), by C name."""
    out = [("DOCUMENT", desc)]
    for k in desc.keys:
        table = k.items if k.items is not None else k
        if table.type == "object" and not k.is_options:
            out.append((_c_name([k.name]), table))
    return out


def _document_paths() -> List[str]:
    """The path values the launcher checks, as `where` patterns: keys
    separated by '/', '*' for every item of an array."""
    rows: List[str] = []

    def walk(k: document.Key, where: List[str]) -> None:
        if k.path is not None and k.path.use is not None:
            rows.append(_path_row("/".join(where), k.path.anchoring, k.path.use))
        for sub in k.keys:
            walk(sub, [*where, sub.name])
        if k.items is not None:
            walk(k.items, [*where, "*"])
        if k.is_options:
            for opt in OPTIONS.values():
                if opt.loads is None:
                    continue
                tail = ["*"] if opt.value_kind is Kind.STR_LIST else []
                rows.append(_path_row("/".join([*where, opt.name, *tail]),
                                      document.Anchoring.ANCHORED, opt.loads))

    walk(document.describe(), [])
    return rows


def _path_row(where: str, anchoring: document.Anchoring, use: PathUse) -> str:
    library = "1" if anchoring is document.Anchoring.LIBRARY else "0"
    kind = "EMBEDCFG_PATHSEC_FILE" if use is PathUse.FILE else "EMBEDCFG_PATHSEC_CONTENTS"
    return f"    {{{_c_string(where)}, {library}, {kind}}}"


def generate_document() -> str:
    """The text of the generated document header."""
    desc = document.describe()
    out: List[str] = [_DOCUMENT_PREAMBLE]
    first, last = FIRST_VERSION, LAST_VERSION
    out.append(f"#define EMBEDCFG_FORMAT_VERSION {desc.child('version').const}")
    out.append("")
    out.append("/* The CPython minors embedcfg configures (options.FIRST_VERSION,")
    out.append(" * LAST_VERSION), and how messages name the range. */")
    out.append(f"#define EMBEDCFG_FIRST_MINOR {first[1]}")
    out.append(f"#define EMBEDCFG_LAST_MINOR {last[1]}")
    out.append(f"#define EMBEDCFG_SUPPORTED {_c_string(document.SUPPORTED)}")
    out.append("")
    out.append("/* Reading limits (document.MAX_BYTES, MAX_DEPTH). */")
    out.append(f"#define EMBEDCFG_MAX_DOCUMENT_SIZE ((size_t){document.MAX_BYTES})")
    out.append(f"#define EMBEDCFG_MAX_DEPTH {document.MAX_DEPTH}")
    out.append("")
    out.append("/* Path anchors, and the entries of a module search path that are files. */")
    out.append(f"#define EMBEDCFG_ANCHORS {_c_list(document.ANCHORS)}")
    out.append(_wrapped("EMBEDCFG_ARCHIVE_SUFFIXES", [_c_list(document.ARCHIVE_SUFFIXES)]))
    out.append("")
    out.append("/* The keys of each table of the document, in document order. */")
    for name, table in _tables(desc):
        out.append(_wrapped(f"EMBEDCFG_KEYS_{name}",
                            [_c_string(k.name) + "," for k in table.keys] + ["NULL"]))
    out.append("")
    out.append("/* Closed sets of values: the list, and how messages spell it. */")
    for owner, k in _enums(desc, []):
        name = _c_name([*owner, k.name])
        out.append(_wrapped(f"EMBEDCFG_VALUES_{name}",
                            [_c_string(v) + "," for v in k.enum] + ["NULL"]))
        out.append(f"#define EMBEDCFG_VALUES_{name}_TEXT {_c_words(k.enum)}")
    out.append("")
    out.append("/* pycache.mode: the write_bytecode it sets, whether pycache.prefix")
    out.append(" * becomes pycache_prefix (document.pycache_options), and whether the")
    out.append(" * mode needs a prefix (document.PREFIX_MODES). */")
    rows = []
    for mode in PycacheMode:
        opts = document.pycache_options(Pycache(mode=mode, prefix="/p"))
        rows.append(f"    {{{_c_string(mode.value)}, {int(bool(opts['write_bytecode']))},"
                    f" {int('pycache_prefix' in opts)},"
                    f" {int(document.PREFIX_MODES.get(mode, False))}}}")
    out.append("#define EMBEDCFG_PYCACHE_MODES \\\n" + ", \\\n".join(rows))
    out.append("/* The modes that take a prefix, as messages spell them. */")
    out.append("#define EMBEDCFG_PYCACHE_PREFIX_MODES_TEXT"
               f" {_c_words([m.value for m in document.PREFIX_MODES])}")
    out.append("")
    out.append("/* The paths of a document that the launcher checks before loading")
    out.append(" * anything (embedcfg.security checks the same): where (keys separated")
    out.append(" * by '/', '*' for every item), whether a bare library name is allowed")
    out.append(" * (dlopen searches for it), what is loaded (pathsec.h). */")
    paths = _document_paths()
    out.append("#define EMBEDCFG_DOCUMENT_PATHS \\\n" + ", \\\n".join(paths))
    out.append("/* The most '*' in one `where`: the array indexes a path's label needs. */")
    out.append(f"#define EMBEDCFG_DOCUMENT_PATH_ARRAYS"
               f" {max(row.count('*') for row in paths)}")
    out.append("")
    out.append("/* The options that each name what the interpreter runs: CPython runs")
    out.append(" * only one (document.RUN_OPTIONS). */")
    out.append(_wrapped("EMBEDCFG_RUN_OPTIONS",
                        [_c_string(n) + "," for n in document.RUN_OPTIONS] + ["NULL"]))
    out.append("")
    out.append("/* Python's keywords (keyword.kwlist): not a part of an importable")
    out.append(" * module name. */")
    out.append(_wrapped("EMBEDCFG_PYTHON_KEYWORDS",
                        [_c_string(k) + "," for k in keyword.kwlist] + ["NULL"]))
    out.append("")
    out.append("#endif /* EMBEDCFG_DOCUMENT_H */")
    return "\n".join(out) + "\n"


def _enums(k: document.Key, owner: List[str]) -> List[Tuple[List[str], document.Key]]:
    """Every key with a closed set of values, with the names of its tables."""
    out: List[Tuple[List[str], document.Key]] = []
    for sub in k.keys:
        if sub.enum:
            out.append((owner, sub))
        out.extend(_enums(sub, [*owner, sub.name]))
    if k.items is not None:
        out.extend(_enums(k.items, owner))
    return out
