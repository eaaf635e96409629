"""The benchmarks keep working (one quick run each, no callgrind)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pythons import installed_pythons

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


def test_startup_benchmark_runs_on_3_14(shim_cache: Path) -> None:
    """--python 3.14 finds the 3.14 build (pyenv or the test-data archive) and
    measures the launcher on its PEP 741 path."""
    from tests.pythons import missing_reason

    if (3, 14) not in installed_pythons():
        pytest.skip(missing_reason((3, 14)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["EMBEDCFG_CACHE_DIR"] = str(shim_cache)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--runs",
                           "1", "--no-callgrind", "--python", "3.14"], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CPython 3.14."), proc.stdout
    assert "launcher/host" in proc.stdout


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


def test_static_modules_benchmark_runs() -> None:
    """benchmarks/static_modules.py (issue 4's table) keeps working at small
    N on one installed CPython: both mechanisms, the importer's own share
    and the ceiling of the import-all ratio."""
    found = installed_pythons()
    if not found:
        pytest.skip("no pyenv CPython with a shared libpython is installed")
    python = list(found.values())[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    counting = shutil.which("valgrind") is not None
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "static_modules.py"),
                           "--max-n", "100", "--repeat", "1", "--jobs", "2",
                           "--python", str(python), *(["--callgrind"] if counting else [])],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = [line.split() for line in lines if line.split()[:1] in (["10"], ["100"])]
    assert [(r[0], r[1]) for r in rows] == [("10", "inittab"), ("10", "indexed"),
                                           ("100", "inittab"), ("100", "indexed")], proc.stdout
    own = [float(r[6]) for r in rows if r[1] == "indexed"]
    per = [float(r[5]) for r in rows if r[1] == "indexed"]
    assert all(0 < o < p for o, p in zip(own, per)), proc.stdout
    assert proc.stdout.count("ceiling for any meta-path finder:") == 2, proc.stdout
    if counting:
        assert "instructions per import, importing all N=100 (callgrind): inittab" \
            in proc.stdout, proc.stdout


def test_cold_start_benchmark_runs(shim_cache: Path) -> None:
    """benchmarks/cold_start.py keeps working with one start of each row
    (PyInstaller left out: it installs from the package index): every row is
    measured, loads the whole application and is compared to the baseline,
    and the target and size lines are printed."""
    found = installed_pythons()
    if not found:
        pytest.skip("no pyenv CPython with a shared libpython is installed")
    python = found.get((3, 11), list(found.values())[-1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["EMBEDCFG_CACHE_DIR"] = str(shim_cache)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cold_start.py"),
                           "--starts", "1", "--no-pyinstaller", "--python", str(python)],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "started through: launcher" in out, out
    table = out[out.index("  CPU time "):]
    for row in ("no cache", "precompile + readonly", "warm __pycache__", "packed app",
                "packed app + stdlib", "zipimport"):
        line = next(x for x in table.splitlines() if x.startswith(f"  {row:<22} "))
        assert " ms " in line, out  # measured, not "needs the launcher"
    assert f"  {'PyInstaller onedir':<22} left out (--no-pyinstaller)" in table, out
    loaded = out[out.index("loaded (one start of each row"):out.index("  CPU time ")]
    assert "packed app + stdlib    +0 " in loaded, out
    assert "json: embedcfg.archive_importer" in loaded, out
    assert "json: zipimporter" in loaded, out
    for line in ("target: precompile + readonly <= 1.05x warm __pycache__ (CPU medians): ",
                 "target: packed app + stdlib <= 0.80x warm __pycache__ (CPU medians): ",
                 "target: packed app + stdlib <= 0.80x PyInstaller onedir (CPU medians): not"
                 " measured (PyInstaller onedir: left out (--no-pyinstaller))",
                 "on disk: embedcfg bundle directory ",
                 "on disk: embedcfg bundle equivalent (packed app + stdlib) ",
                 "on disk: PyInstaller dist/: left out (--no-pyinstaller)"):
        assert line in out, out


def test_cpu_benchmark_runs(shim_cache: Path) -> None:
    """benchmarks/cpu.py (issue 14's static/dynamic/python table) keeps
    working at its smallest: pyperformance's scripts and the target's pyperf
    from the package index, one worker per benchmark and variant, the table
    with its geometric mean and pyperf's own comparison."""
    found = installed_pythons()
    if not found:
        pytest.skip("no pyenv CPython is installed")
    python = list(found.values())[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["EMBEDCFG_CACHE_DIR"] = str(shim_cache)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cpu.py"), "--python",
                           str(python), "--processes", "1", "--values", "1", "--warmups", "0",
                           "--loops", "1", "--no-callgrind"],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    names = ["richards", "nbody", "float", "deltablue", "raytrace", "json_dumps", "regex_v8",
             "unpack_sequence"]
    assert [line.split()[0] for line in lines[1:1 + len(names)]] == names, proc.stdout
    for line in lines[1:1 + len(names)]:  # a time measured for each variant
        assert line.count(" +- ") == 3, line
    assert "time geometric mean: static/dynamic" in proc.stdout
    table = proc.stdout[proc.stdout.index("compare_to --table (reference: dynamic):"):]
    assert "| Benchmark" in table and "dynamic" in table and "static" in table, proc.stdout
    for name in names:  # pyperf hides a row only when no variant differs significantly
        assert f"| {name} " in table or "not significant" in table, proc.stdout


def test_callgrind_profile_adds_up() -> None:
    """benchmarks/_callgrind.profile's self costs by function add up to the
    run's total, which is what callgrind reports for the same run, and the
    cache simulation adds the data reads."""
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import _callgrind
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    argv = [shutil.which("true") or "/bin/true"]
    got = _callgrind.profile(argv, cache_sim=True)
    assert got is not None
    assert sum(got.functions.values()) == got.totals["Ir"] == _callgrind.instructions(argv)
    assert 0 < got.totals["Dr"] < got.totals["Ir"]
    assert "_dl_start" in got.functions or "_start" in got.functions, sorted(got.functions)[:20]
