"""Instruction totals for the benchmarks: callgrind counts instructions, not
seconds, so the same binary, inputs and environment give the same total
whatever else the machine is doing."""

from __future__ import annotations

import re
import shutil
import subprocess
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
