"""Generate the C shim's option table from :mod:`embedcfg.options`.

``capi_shim/embedcfg_options.h`` is generated, committed, and checked for
freshness by the tests (as CPython checks its generated files)::

    python -m embedcfg._ctable            # rewrite the header
    python -m embedcfg._ctable --check    # exit 1 when it is stale

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

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from .model import INDEXED_THRESHOLD
from .options import OPTIONS, Build, CType, Kind, Option, Struct, Version, Visibility

__all__ = ["HEADER_NAME", "generate", "header_path", "main"]

HEADER_NAME = "embedcfg_options.h"



def header_path() -> Path:
    """Where the generated header lives (the shim's source directory)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "capi_shim", here.parent / "capi_shim"):
        if candidate.is_dir():
            return candidate / HEADER_NAME
    return here.parent / "capi_shim" / HEADER_NAME


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
/* Generated by `python -m embedcfg._ctable` from embedcfg/options.py.
 * DO NOT EDIT: change the option table and regenerate; a test fails when
 * this file is stale.
 *
 * Internal header of the shim: include it after Python.h and
 * embedcfg_internal.h, which define the row type and the enums used here.
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
    # to embedcfg_internal.h as well, and this makes that impossible to miss.
    assert {c.value for c in CType} == {"BOOL", "INT", "UINT", "ULONG", "WSTR",
                                        "WSTR_OPT", "WSTR_LIST"}
    assert {k.name for k in Kind} == {"BOOL", "INT", "STR", "STR_LIST"}
    assert {s.name for s in Struct} == {"CONFIG", "PRECONFIG", "BOTH"}
    assert {v.name for v in Visibility} == {"PUBLIC", "READ_ONLY", "INIT_ONLY"}
    assert all(b.macro and b.label for b in Build)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Write the header, or with ``--check`` report whether it is stale."""
    p = argparse.ArgumentParser(prog="python -m embedcfg._ctable",
                                description="Generate capi_shim/embedcfg_options.h.")
    p.add_argument("--check", action="store_true", help="exit 1 if the header is stale")
    p.add_argument("--output", type=Path, default=None, help="where to write the header")
    args = p.parse_args(argv)
    _self_check()
    target = args.output or header_path()
    text = generate()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            sys.stderr.write(f"{target} is stale: run python -m embedcfg._ctable\n")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
