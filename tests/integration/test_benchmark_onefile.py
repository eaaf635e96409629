"""benchmarks/onefile.py keeps working: one start per row, without callgrind
and PyInstaller (their figures are the benchmark's, not the suite's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pythons import installed_pythons

ROOT = Path(__file__).resolve().parents[2]


def test_onefile_benchmark_runs(shim_cache: Path) -> None:
    found = installed_pythons()
    if not found:
        pytest.skip("no pyenv CPython is installed")
    python = found[max(found)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["EMBEDCFG_CACHE_DIR"] = str(shim_cache)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "onefile.py"), "--python",
                           str(python), "--starts", "2", "--no-callgrind", "--no-pyinstaller"],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert rows == ["row", "onedir", "onefile", "onefile,", "PyInstaller", "PyInstaller"], (
        proc.stdout)
    assert "left out (--no-pyinstaller)" in proc.stdout
    assert "target: onefile CPU time within 1.10x of onedir:" in proc.stdout
