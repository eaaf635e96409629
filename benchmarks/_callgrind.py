"""Instruction totals for the benchmarks: callgrind counts instructions, not
seconds, so the same binary, inputs and environment give the same total
whatever else the machine is doing."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple


def instructions(argv: Sequence[str], env: Optional[Dict[str, str]] = None,
                 ok: Tuple[int, ...] = (0,), follow_exec: bool = False) -> Optional[int]:
    """callgrind's instruction total for one run of ``argv``, or None
    without valgrind. Exits with callgrind's output when the run's status
    is not in ``ok``. ``follow_exec``: a program that re-executes itself
    (PyInstaller's bootloader) is counted in its last image; what ran
    before the exec is not counted."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    trace = ["--trace-children=yes"] if follow_exec else []
    proc = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           *trace, *argv], capture_output=True, text=True, env=env,
                          check=False)
    m = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    if proc.returncode not in ok or m is None:
        raise SystemExit(f"callgrind failed for {list(argv)[:3]}...:\n{proc.stderr[-2000:]}")
    return int(m.group(1))


class Profile(NamedTuple):
    """One run's profile: self instructions by function (every object file
    merged), and the total of every event (``Ir``; with the cache
    simulation also ``Dr`` data reads, ``Dw`` data writes and the misses)."""

    functions: Dict[str, int]
    totals: Dict[str, int]


def profile(argv: Sequence[str], env: Optional[Dict[str, str]] = None,
            cache_sim: bool = False) -> Optional[Profile]:
    """callgrind's :class:`Profile` of one run of ``argv``; None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory(prefix="embedcfg-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        sim = ["--cache-sim=yes"] if cache_sim else []
        proc = subprocess.run([valgrind, "--tool=callgrind", f"--callgrind-out-file={out}",
                               *sim, *argv], capture_output=True, text=True, env=env,
                              check=False)
        if proc.returncode != 0 or not out.is_file():
            raise SystemExit(f"callgrind failed for {list(argv)[:3]}...:\n{proc.stderr[-2000:]}")
        return _parse(out.read_text(encoding="utf-8", errors="replace"))


def _parse(text: str) -> Profile:
    """A callgrind output file's :class:`Profile`. A cost line after
    ``calls=`` is the call's inclusive cost, not the caller's own, and is
    skipped; names are compressed as ``(id) name`` the first time (after
    ``fn=`` or ``cfn=``) and ``(id)`` after; the first event is ``Ir``."""
    names: Dict[str, str] = {}
    costs: Dict[str, int] = {}
    events: List[str] = []
    totals: Dict[str, int] = {}
    current = "???"
    skip_next = False
    for line in text.splitlines():
        if skip_next:
            skip_next = False
            continue
        if line.startswith(("fn=", "cfn=")):  # a name is defined where first used
            m = re.match(r"c?fn=(\(\d+\))?\s*(.*)", line)
            assert m is not None
            ident, name = m.group(1), m.group(2)
            if ident and name:
                names[ident] = name
            if line.startswith("fn="):
                current = (names.get(ident, "???") if ident and not name
                           else name).split("'")[0]
        elif line.startswith("calls="):
            skip_next = True
        elif line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith(("summary:", "totals:")):
            totals = dict(zip(events, (int(v) for v in line.split()[1:])))
        elif line[:1].isdigit() or line[:1] in "+-*":
            fields = line.split()
            if len(fields) > 1:
                costs[current] = costs.get(current, 0) + int(fields[1])
    return Profile(costs, totals)
