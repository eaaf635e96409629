"""benchmarks/startup.py keeps working (one quick run, no callgrind)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_startup_benchmark_runs(shim_cache: Path) -> None:
    """The benchmark builds its three variants and prints the ratios."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["EMBEDCFG_CACHE_DIR"] = str(shim_cache)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--runs",
                           "1", "--no-callgrind"], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "launcher/host" in proc.stdout
    assert "30 options, 20 search paths, 5 inittab entries" in proc.stdout
