"""Cold-start cost of `embedcfg validate` against check-jsonschema.

Run:  .venv/bin/python benchmarks/validate.py [--runs N]

Each measurement is a fresh process (as in CI and pre-commit), timed as the
median of N runs; both tools check the same files in the same run, so the
ratios hold on a noisy machine. check-jsonschema only checks the schema;
embedcfg also runs the semantic rules. Targets (issue 2): at most 0.3x
check-jsonschema's time for 1 file and 0.5x for 100 files.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema" / "embedcfg-1.schema.json"
SOURCES = sorted((ROOT / "examples").glob("*.toml")) + sorted((ROOT / "examples").glob("*.json")) \
    + sorted((ROOT / "tests" / "data" / "valid").iterdir())


def median_time(argv: List[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            sys.exit(f"{argv[:3]}... failed: {proc.stderr.decode()[-500:]}")
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
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
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("embedcfg validate, 1 file", embedcfg + one, "cjs1"),
            ("check-jsonschema, 1 file", cjs + one, None),
            ("embedcfg validate, 100 files", embedcfg + files, "cjs100"),
            ("check-jsonschema, 100 files", cjs + files, None),
        ]
        results = {}
        for label, argv, _ in rows:
            results[label] = median_time(argv, args.runs)
    base1 = results["check-jsonschema, 1 file"]
    base100 = results["check-jsonschema, 100 files"]
    print(f"{'command':32} {'median':>9}  ratio to check-jsonschema (target)")
    for label, _, _ in rows:
        t = results[label]
        ratio = ""
        if label.startswith("embedcfg") and "1 file" in label:
            ratio = f"{t / base1:.2f}x (<= 0.30x)"
        elif label.startswith("embedcfg"):
            ratio = f"{t / base100:.2f}x (<= 0.50x)"
        print(f"{label:32} {t * 1000:7.1f}ms  {ratio}")
    print(f"runs per command: {args.runs}; CPython {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
