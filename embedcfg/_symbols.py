"""Init functions a document names, looked up in the binaries that must hold them.

:func:`missing_symbols` reads symbol tables with ``nm`` and runs nothing (see
its docstring for why not ``dlopen``); :func:`symbol_problems` turns what is
missing into EC505 problems for ``validate``, ``build`` and the Python API.
Its own module because those callers and ``bake`` all need it, and none of
them should import another command's module to get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple, Union

import attrs

from .document import expand, split_anchor
from .errors import Problem, Severity, ShimError, pointer_from_parts
from .model import EmbedConfig

__all__ = ["MissingSymbol", "missing_symbols", "symbol_problems"]

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
    anchor, _ = split_anchor(library)
    path = expand(library, origin=str(origin),
                  config_dir=str(config_dir) if config_dir is not None else None)
    if path is None:
        if anchor is not None:
            raise ValueError(f"{library!r} uses {anchor}, which is not known here")
        return Path(library)
    return Path(path)


def _knowable(library: str, origin_known: bool) -> bool:
    """Whether ``library`` names one file before anything runs: absolute, or
    anchored at a directory known here. A bare name is searched by dlopen at
    run time; a relative path is a problem of its own (EC400)."""
    anchor, _ = split_anchor(library)
    if anchor is None:
        return library.startswith("/")
    return anchor == "$CONFIG_DIR" or origin_known


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
