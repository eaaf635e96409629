"""Instruction totals for the benchmarks: callgrind counts instructions, not
seconds, so the same binary, inputs and environment give the same total
whatever else the machine is doing."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple


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


def profile(argv: Sequence[str], env: Optional[Dict[str, str]] = None) -> Dict[str, int]:
    """callgrind's self instructions of each function (by name, every
    object file merged) for one run of ``argv``; empty without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="embedcfg-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run([valgrind, "--tool=callgrind", f"--callgrind-out-file={out}",
                               *argv], capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0 or not out.is_file():
            raise SystemExit(f"callgrind failed for {list(argv)[:3]}...:\n{proc.stderr[-2000:]}")
        return _self_costs(out.read_text(encoding="utf-8", errors="replace"))


def _self_costs(text: str) -> Dict[str, int]:
    """Self cost by function of a callgrind output file (one event: Ir).
    A cost line after ``calls=`` is the call's inclusive cost, not the
    caller's own, and is skipped; names are compressed as ``(id) name``
    the first time (after ``fn=`` or ``cfn=``) and ``(id)`` after."""
    names: Dict[str, str] = {}
    costs: Dict[str, int] = {}
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
        elif line[:1].isdigit() or line[:1] in "+-*":
            fields = line.split()
            if len(fields) > 1:
                costs[current] = costs.get(current, 0) + int(fields[1])
    return costs
