"""Bake a document's inittab into C: the static-module table, compiled in.

``bake(cfg)`` writes a C file holding the document's static extension modules
as a table sorted at build time, for the indexed static importer
(``capi_shim/static_importer.h``): registering it at start-up is one object
allocation, and no document needs to be parsed for it. With
``mechanism="inittab"`` it writes CPython's own ``struct _inittab`` array and a
function that registers it with ``PyImport_ExtendInittab`` before init.

Init functions are declared ``extern``: the linker resolves them in the
objects and libraries the host is linked with, and reports every missing one
by name. :func:`missing_symbols` checks a built host program and the
documents' libraries without running anything (it reads their symbol tables
with ``nm``; see its docstring for why not ``dlopen``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, NoReturn, Optional, Sequence, Set, TextIO, Tuple, Union

import attrs

from .errors import Problem, Severity, ShimError, pointer_from_parts
from .model import INDEXED_THRESHOLD, EmbedConfig, InittabEntry, StaticModules

__all__ = [
    "INDEXED_THRESHOLD",
    "MECHANISMS",
    "MissingSymbol",
    "bake",
    "choose_mechanism",
    "main_bake",
    "missing_symbols",
    "sorted_entries",
    "symbol_problems",
]

#: The registration mechanisms a table can be baked for.
MECHANISMS = tuple(sorted(m.value for m in StaticModules))

_C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


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


# --- missing symbols --------------------------------------------------------

@attrs.frozen
class MissingSymbol:
    """An init function that a document names and a binary does not define."""

    #: Index of the entry in the document's inittab.
    index: int
    module: str
    symbol: str
    #: The file searched (the host program or the entry's library).
    where: str
    #: Why it is missing, with how to fix it.
    reason: str

    @property
    def message(self) -> str:
        """One line naming the module, the symbol and the file."""
        return f"inittab[{self.index}] {self.module!r}: {self.reason}"


def _expand(library: str, origin: Path, config_dir: Optional[Path]) -> Path:
    for anchor, value in (("$ORIGIN", origin), ("$CONFIG_DIR", config_dir)):
        if library == anchor or library.startswith(anchor + "/"):
            if value is None:
                raise ValueError(f"{library!r} uses {anchor}, which is not known here")
            return value / library[len(anchor) + 1:]
    return Path(library)


def _knowable(library: str, origin_known: bool) -> bool:
    """Whether ``library`` names one file before anything runs: absolute, or
    anchored at a directory known here. A bare name is searched by dlopen at
    run time; a relative path is a problem of its own (EC400)."""
    if library.startswith("/"):
        return True
    for anchor, known in (("$CONFIG_DIR", True), ("$ORIGIN", origin_known)):
        if library == anchor or library.startswith(anchor + "/"):
            return known
    return False


def _nm(path: Path, dynamic: bool) -> Optional[Set[str]]:
    nm = shutil.which("nm")
    if nm is None:
        raise ShimError("nm (GNU binutils) is needed to read symbol tables; install binutils")
    cmd = [nm, "--defined-only", "-P"] + (["-D"] if dynamic else []) + [str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        if "no symbols" in proc.stderr:
            return set()
        return None
    names = set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] in "TtWiV":  # code (and weak/indirect)
            names.add(parts[0].split("@", 1)[0])
    return names


def missing_symbols(cfg: EmbedConfig, host: Optional[Union[str, "os.PathLike[str]"]] = None, *,
                    config_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
                    origin: Optional[Union[str, "os.PathLike[str]"]] = None,
                    exported: bool = True, known_only: bool = False) -> List[MissingSymbol]:
    """Every init function of ``cfg``'s inittab that cannot be found, by name.

    Entries with a ``library`` are looked up in that library (``$ORIGIN`` is
    ``origin``, default the host's directory; ``$CONFIG_DIR`` is
    ``config_dir``); the others in ``host``, the built program (skipped when
    ``host`` is None). ``exported=True`` requires a host symbol to be in the
    dynamic symbol table, where ``dlsym`` finds it at run time (the shim's
    inittab-by-symbol; link with ``-rdynamic``); a baked table is resolved by
    the linker and needs ``exported=False``.

    ``known_only=True`` skips the entries whose file cannot be known here
    instead of reporting them: a library name without ``/`` (``dlopen``
    searches the system directories at run time), a relative path (EC400),
    ``$ORIGIN`` without ``origin`` or ``host``, ``$CONFIG_DIR`` without
    ``config_dir``.

    Symbol tables are read with ``nm``, not by ``dlopen`` + ``dlsym`` through
    ctypes: nothing is loaded or run (no library constructors), and a library
    built for another CPython, whose Python symbols resolve only against that
    libpython, can be checked from any interpreter.
    """
    host_path = Path(host) if host is not None else None
    base = Path(origin) if origin is not None else (
        host_path.resolve().parent if host_path is not None else None)
    cdir = Path(config_dir) if config_dir is not None else None
    tables: Dict[Tuple[str, bool], Optional[Set[str]]] = {}

    def symbols(path: Path, dynamic: bool) -> Optional[Set[str]]:
        key = (str(path), dynamic)
        if key not in tables:
            tables[key] = _nm(path, dynamic) if path.is_file() else None
        return tables[key]

    missing: List[MissingSymbol] = []
    for i, entry in enumerate(cfg.inittab):
        symbol = entry.init_symbol
        if entry.library is None:
            if host_path is None:
                continue
            where, dynamic = host_path, exported
        else:
            if known_only and not _knowable(entry.library, base is not None):
                continue
            try:
                where = _expand(entry.library, base or Path.cwd(), cdir)
            except ValueError as e:
                if known_only:
                    continue
                missing.append(MissingSymbol(i, entry.name, symbol, entry.library, str(e)))
                continue
            dynamic = True
        found = symbols(where, dynamic)
        if found is None:
            reason = (f"cannot read {where}: it does not exist or is not a binary"
                      if not where.is_file() else f"cannot read the symbols of {where}")
            missing.append(MissingSymbol(i, entry.name, symbol, str(where), reason))
        elif symbol not in found:
            reason = f"symbol {symbol} not found in {where}"
            if dynamic and entry.library is None:
                static = symbols(where, False)
                if static is not None and symbol in static:
                    reason = (f"symbol {symbol} is in {where} but not exported, so dlsym"
                              " cannot find it: link the host with -rdynamic")
            missing.append(MissingSymbol(i, entry.name, symbol, str(where), reason))
    return missing


def symbol_problems(cfg: EmbedConfig, *, config_dir: Optional[Union[str, "os.PathLike[str]"]],
                    host: Optional[Union[str, "os.PathLike[str]"]] = None) -> List[Problem]:
    """Every init function the C shim would not find, as EC505 problems at
    ``/inittab/<i>`` (``embedcfg validate`` and ``embedcfg build``).

    Checked when it can be known before anything runs (see
    :func:`missing_symbols` with ``known_only=True``): entries with an
    absolute or ``$CONFIG_DIR`` library always, the host program's entries
    (and ``$ORIGIN`` libraries) when ``host`` is given. Host symbols must be
    exported, because the shim finds them with ``dlsym``.
    """
    if not cfg.inittab or (host is None and all(e.library is None for e in cfg.inittab)):
        return []
    try:
        missing = missing_symbols(cfg, host, config_dir=config_dir, exported=True,
                                  known_only=True)
    except ShimError as e:
        return [Problem("EC505", f"init functions cannot be checked: {e}", "/inittab",
                        Severity.WARNING)]
    return [Problem("EC505", f"{m.message}; the C shim would refuse to start (exit 78)",
                    pointer_from_parts(("inittab", m.index))) for m in missing]


# --- command line -----------------------------------------------------------

class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Usage(f"{self.prog}: error: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="embedcfg bake", description="Turn a document's inittab into C source:"
                " a static-module table compiled into the host.")
    p.add_argument("document", help="the document (TOML or JSON)")
    p.add_argument("-o", "--output", required=True,
                   help="the C file to write ('-' for standard output)")
    p.add_argument("--mechanism", choices=MECHANISMS, default=None,
                   help="indexed: a sorted table for the static importer (default, unless"
                        " the document sets static_modules); inittab: CPython's struct"
                        " _inittab array")
    p.add_argument("--prefix", default="embedcfg_static",
                   help="prefix of the generated C symbols (default: embedcfg_static)")
    p.add_argument("--host", help="a built host program: report init functions it lacks")
    return p


def main_bake(args: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    """``embedcfg bake DOCUMENT -o FILE.c``: 0 written, 1 problems, 2 usage."""
    from . import _api, codec
    from .errors import LoadError, Problem
    from .report import report

    try:
        ns = _parser().parse_args(list(args))
    except _Usage as e:
        stderr.write(f"{e}\n")
        return EXIT_USAGE
    except SystemExit as e:  # --help
        return int(e.code or 0)
    problems: List[Problem]
    try:
        parsed = codec.read(ns.document)
    except LoadError as e:
        problems = [e.problem]
        cfg = None
    else:
        cfg, problems = _api.check_parsed(parsed)
    errors = [p for p in problems if p.is_error]
    if cfg is None or errors:
        report("text", problems, [ns.document], True, stderr)
        return EXIT_PROBLEMS
    if ns.host is not None:
        missing = missing_symbols(cfg, ns.host, exported=False,
                                  config_dir=Path(ns.document).resolve().parent)
        if missing:
            for m in missing:
                stderr.write(f"{ns.document}: error: {m.message}\n")
            return EXIT_PROBLEMS
    try:
        # A baked table is compiled in, so the size threshold of the automatic
        # choice does not apply: the document's explicit choice, else indexed.
        mechanism = ns.mechanism or (cfg.static_modules.value if cfg.static_modules is not None
                                     else "indexed")
        text = bake(cfg, mechanism=mechanism, prefix=ns.prefix,
                    source=os.path.basename(ns.document))
    except ValueError as e:
        stderr.write(f"{ns.document}: error: {e}\n")
        return EXIT_PROBLEMS
    if ns.output == "-":
        stdout.write(text)
    else:
        Path(ns.output).write_text(text, encoding="utf-8")
    return EXIT_OK
