"""Cold-start cost of `embedcfg validate` against check-jsonschema.

Run:  .venv/bin/python benchmarks/validate.py [--runs N] [--callgrind]

Each measurement is a fresh process (as in CI and pre-commit), timed as the
median of N interleaved runs (wall clock, and CPU time of the child); both
tools check the same files in the same run, so the ratios hold on a noisy
machine. Installed packages carry compiled bytecode (pip writes it); for an
editable checkout run `python -m compileall embedcfg` first with
PYTHONDONTWRITEBYTECODE unset, or embedcfg pays for compiling its sources. check-jsonschema only checks the schema;
embedcfg also runs the semantic rules. Targets (issue 2): at most 0.3x
check-jsonschema's time for 1 file and 0.5x for 100 files. Besides the
ratio of medians it prints the median and quartiles of the per-round
ratios (how much one run can be trusted on a shared machine) and, with
--callgrind, the instruction totals of the 1-file runs, which do not move
with the machine's load. One more row starts Python and only imports the
libraries embedcfg is built on (attrs, cattrs, argparse, tomllib): the floor
of the 1-file ratio for this design, whatever embedcfg's own code costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema" / "embedcfg-1.schema.json"
SOURCES = sorted((ROOT / "examples").glob("*.toml")) + sorted((ROOT / "examples").glob("*.json")) \
    + sorted((ROOT / "tests" / "data" / "valid").iterdir())


LIBRARIES = "import attrs, cattrs, argparse, tomllib"


def timed(argv: List[str]) -> "tuple[float, float]":
    """Wall-clock and CPU (user+system) seconds of one fresh process."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode not in (0, 1):
        sys.exit(f"{argv[:3]}... failed: {proc.stderr.decode()[-500:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                           - before.children_system)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions of the 1-file runs (needs valgrind)")
    args = ap.parse_args()
    bindir = Path(sys.executable).parent
    embedcfg = [str(bindir / "embedcfg"), "validate"]
    cjs_path = shutil.which("check-jsonschema", path=str(bindir)) or shutil.which("check-jsonschema")
    if cjs_path is None:
        sys.exit("check-jsonschema is not installed: pip install check-jsonschema")
    cjs = [cjs_path, "--schemafile", str(SCHEMA)]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(100):
            src = SOURCES[i % len(SOURCES)]
            dst = Path(tmp) / f"doc{i:03d}{src.suffix}"
            shutil.copy(src, dst)
            files.append(str(dst))
        one = [str(ROOT / "examples" / "hello.toml")]
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            # The floor of any validate built on the chosen libraries: their
            # imports alone, as a share of check-jsonschema's time.
            ("imports of attrs, cattrs, ...", [sys.executable, "-c", LIBRARIES]),
            ("embedcfg validate, 1 file", embedcfg + one),
            ("check-jsonschema, 1 file", cjs + one),
            ("embedcfg validate, 100 files", embedcfg + files),
            ("check-jsonschema, 100 files", cjs + files),
        ]
        # Round robin, so that load from elsewhere on the machine falls on
        # every command alike; one warm-up round fills the OS caches.
        walls: Dict[str, List[float]] = {label: [] for label, _ in rows}
        cpus: Dict[str, List[float]] = {label: [] for label, _ in rows}
        for round_ in range(args.runs + 1):
            for label, argv in rows:
                wall, cpu = timed(argv)
                if round_:
                    walls[label].append(wall)
                    cpus[label].append(cpu)
    wall = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    print(f"{'command':30} {'wall':>9} {'cpu':>9}   ratio to check-jsonschema: wall, cpu (target)")
    for label, _ in rows:
        ratio = ""
        if label.startswith("embedcfg"):
            base, target = _base(label)
            ratio = (f"{wall[label] / wall[base]:.2f}x, {cpu[label] / cpu[base]:.2f}x"
                     f" (<= {target})")
        elif label.startswith("imports"):
            base, _ = _base("1 file")
            ratio = (f"{wall[label] / wall[base]:.2f}x, {cpu[label] / cpu[base]:.2f}x"
                     " (the floor: imports of the chosen libraries alone)")
        print(f"{label:30} {wall[label] * 1000:7.1f}ms {cpu[label] * 1000:7.1f}ms   {ratio}")
    print(f"median of {args.runs} interleaved runs; CPython {sys.version.split()[0]}")
    # The same rounds as pairs: each round's embedcfg time over the same
    # round's check-jsonschema time, so slow phases of a shared machine fall
    # on both; the quartiles show how far one run can be trusted.
    print("per-round wall ratios (median [quartiles]):" if args.runs > 1 else "")
    for label, _ in rows:
        if label.startswith("embedcfg") and args.runs > 1:
            base, target = _base(label)
            q = statistics.quantiles([a / b for a, b in zip(walls[label], walls[base])], n=4)
            print(f"  {label:30} {q[1]:.2f}x [{q[0]:.2f}-{q[2]:.2f}] (<= {target})")
    if args.callgrind:
        counts = {label: _instructions(argv) for label, argv in rows[:4]}
        print("instructions (callgrind, 1 file): " + ", ".join(
            f"{label.split(',')[0]} {n / 1e6:.1f}M" for label, n in counts.items())
            + f"; embedcfg/check-jsonschema {counts[rows[2][0]] / counts[rows[3][0]]:.3f}x"
            f" (the libraries' imports alone: {counts[rows[1][0]] / counts[rows[3][0]]:.3f}x)")


def _base(label: str) -> "tuple[str, str]":
    return (("check-jsonschema, 1 file", "0.30x") if "1 file" in label
            else ("check-jsonschema, 100 files", "0.50x"))


def _instructions(argv: List[str]) -> int:
    """callgrind's instruction total for one run: stable whatever else the
    machine does, unlike times (the target itself is about time)."""
    from _callgrind import instructions  # benchmarks/, the script's directory

    count = instructions(argv)
    if count is None:
        sys.exit("--callgrind needs valgrind")
    return count


if __name__ == "__main__":
    main()
