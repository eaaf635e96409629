"""Bake a document's inittab into C: the static-module table, compiled in.

``bake(cfg)`` writes a C file holding the document's static extension modules
as a table sorted at build time, for the indexed static importer
(``capi_shim/static_importer.h``): registering it at start-up is one object
allocation, and no document needs to be parsed for it. With
``mechanism="inittab"`` it writes CPython's own ``struct _inittab`` array and a
function that registers it with ``PyImport_ExtendInittab`` before init.

Init functions are declared ``extern``: the linker resolves them in the
objects and libraries the host is linked with, and reports every missing one
by name. :func:`missing_symbols` (from ``embedcfg._symbols``, kept here
under its documented name) checks a built host program and the documents'
libraries without running anything. The ``embedcfg bake`` command line is in
``embedcfg.cli``.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Sequence

from ._symbols import MissingSymbol, missing_symbols, symbol_problems
from .model import INDEXED_THRESHOLD, EmbedConfig, InittabEntry, StaticModules

__all__ = [
    "INDEXED_THRESHOLD",
    "MECHANISMS",
    "MissingSymbol",
    "bake",
    "choose_mechanism",
    "missing_symbols",
    "sorted_entries",
    "symbol_problems",
]

#: The registration mechanisms a table can be baked for.
MECHANISMS = tuple(sorted(m.value for m in StaticModules))

_C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def choose_mechanism(cfg: EmbedConfig, requested: Optional[str] = None) -> str:
    """The mechanism for ``cfg``'s static modules: ``requested`` when given,
    else the document's ``static_modules``; when neither chooses, ``indexed``
    for an embedded document (the inittab cannot change after init) or from
    :data:`INDEXED_THRESHOLD` modules on, else ``inittab``. The C shim
    decides the same way (``embedcfg_set_static_modules``)."""
    if requested is None and cfg.static_modules is not None:
        requested = cfg.static_modules.value
    if requested is not None:
        if requested not in MECHANISMS:
            raise ValueError(f"mechanism {requested!r} is not one of {', '.join(MECHANISMS)}")
        return requested
    if cfg.embedded or len(cfg.inittab) >= INDEXED_THRESHOLD:
        return "indexed"
    return "inittab"


def sorted_entries(entries: Iterable[InittabEntry]) -> List[InittabEntry]:
    """Entries in the order the indexed importer searches: strcmp() of the
    UTF-8 names, which is what C compares."""
    return sorted(entries, key=lambda e: e.name.encode("utf-8"))


def _c_string(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if byte < 0x80 and (ch.isalnum() or ch in "._"):
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _checked(cfg: EmbedConfig, prefix: str) -> List[InittabEntry]:
    if not _C_IDENTIFIER.match(prefix):
        raise ValueError(f"symbol prefix {prefix!r} is not a C identifier")
    seen: Dict[str, int] = {}
    for i, entry in enumerate(cfg.inittab):
        if entry.name in seen:
            raise ValueError(f"inittab[{i}]: module {entry.name!r} is already listed at"
                             f" inittab[{seen[entry.name]}]; keep one")
        seen[entry.name] = i
        if not entry.name.isascii():
            # As the checks (EC504) and the C shim: PEP 489's PyInitU_
            # punycode symbols are not derived anywhere.
            raise ValueError(f"inittab[{i}]: module name {entry.name!r} is not ASCII, which"
                             " embedcfg does not support (EC504)")
        if not _C_IDENTIFIER.match(entry.init_symbol):
            raise ValueError(f"inittab[{i}]: init {entry.init_symbol!r} is not a C"
                             " identifier")
    return sorted_entries(cfg.inittab)


def _libraries_note(entries: Sequence[InittabEntry]) -> List[str]:
    libs = sorted({e.library for e in entries if e.library is not None})
    if not libs:
        return []
    return [" *", " * Init functions in shared libraries: link the program (or the library",
            " * holding this table) with", *(f" *   {_comment(lib)}" for lib in libs)]


def _comment(text: str) -> str:
    """``text`` made safe inside a C comment."""
    return text.replace("*/", "* /")


def bake(cfg: EmbedConfig, *, mechanism: str = "indexed", prefix: str = "embedcfg_static",
         source: Optional[str] = None) -> str:
    """The C source of ``cfg``'s inittab, baked for ``mechanism``.

    ``indexed`` (default) defines ``const embedcfg_static_entry
    <prefix>_table[]`` (sorted, NULL-terminated), ``const size_t
    <prefix>_table_len`` and ``int <prefix>_install(unsigned int flags)``,
    which calls :c:func:`embedcfg_static_importer_install` after init. It
    includes ``static_importer.h`` only, not ``Python.h``.

    ``inittab`` defines ``struct _inittab <prefix>_inittab[]`` and ``int
    <prefix>_register(void)`` (``PyImport_ExtendInittab``, before init); it
    includes ``Python.h``.

    Raises :class:`ValueError` for a duplicate name, an init symbol or a
    prefix that is not a C identifier, or an unknown mechanism.
    """
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism {mechanism!r} is not one of {', '.join(MECHANISMS)}")
    entries = _checked(cfg, prefix)
    symbols = sorted({e.init_symbol for e in entries})
    origin = f" from {_comment(source)}" if source else ""
    lines = [f"/* Generated by embedcfg bake{origin}: do not edit.",
             f" * {len(entries)} static extension module(s) for the {mechanism} mechanism.",
             *_libraries_note(entries), " */", ""]
    if mechanism == "indexed":
        lines += ["#include <stddef.h>", "", '#include "static_importer.h"', ""]
        lines += [f"extern struct _object *{s}(void);" for s in symbols]
        lines += ["", "/* Sorted by strcmp() of the names: the importer binary-searches it. */",
                  f"const embedcfg_static_entry {prefix}_table[] = {{"]
        lines += [f"    {{{_c_string(e.name)}, {e.init_symbol}}}," for e in entries]
        lines += ["    {NULL, NULL}", "};", "",
                  f"const size_t {prefix}_table_len = {len(entries)};", "",
                  f"int {prefix}_install(unsigned int flags)", "{",
                  f"    return embedcfg_static_importer_install({prefix}_table,"
                  f" {prefix}_table_len, flags);", "}"]
    else:
        lines += ["#define PY_SSIZE_T_CLEAN", "#include <Python.h>", ""]
        lines += [f"extern PyObject *{s}(void);" for s in symbols]
        lines += ["", f"struct _inittab {prefix}_inittab[] = {{"]
        lines += [f"    {{{_c_string(e.name)}, {e.init_symbol}}}," for e in entries]
        lines += ["    {NULL, NULL}", "};", "",
                  "/* Before Py_Initialize*(): CPython aborts when called after init. */",
                  f"int {prefix}_register(void)", "{",
                  f"    return PyImport_ExtendInittab({prefix}_inittab);", "}"]
    return "\n".join(lines) + "\n"
