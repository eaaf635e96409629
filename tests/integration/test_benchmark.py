"""The benchmarks keep working (one quick run each, no callgrind)."""

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


def test_validate_benchmark_runs() -> None:
    """benchmarks/validate.py (issue 2's cold-start ratios) keeps working:
    two quick rounds, every line it promises."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "validate.py"), "--runs",
                           "2"], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    for line in ("embedcfg validate, 1 file", "check-jsonschema, 100 files",
                 "per-round wall ratios", "(<= 0.30x)", "(<= 0.50x)"):
        assert line in proc.stdout, proc.stdout
