"""pyperformance's workloads and pyperf, for benchmarks/cpu.py.

The benchmark scripts (``bm_NAME/run_benchmark.py``) come from one pinned
pyperformance release, taken from its wheel on the package index (the
scripts are plain Python that runs on 3.8 as on 3.14). pyperf, which the
scripts import, is installed per target interpreter by that interpreter's own
pip (``pip install --target``), so each CPython gets the newest pyperf that
supports it. Both are kept in a cache directory, made once, atomically.

Each run of a script is a pyperf *worker* (``--worker --loops N --warmups W
--values V``): one process that times the workload and appends its values to
a pyperf JSON file, exactly the processes pyperf's own runner spawns; the
spawning is done by cpu.py so that the same worker runs under each launcher.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Tuple

from _interpreters import Unavailable, cached, install_step  # benchmarks/, the script's directory

#: The release the scripts are taken from (pinned: the workloads must not
#: change between two runs of the benchmark).
PYPERFORMANCE = "1.14.0"

#: The CPU workloads of issue 14, by pyperformance's names.
BENCHMARKS = ("richards", "nbody", "float", "deltablue", "raytrace", "json_dumps",
              "regex_v8", "unpack_sequence")

#: Runs a pyperformance script with pyperf on sys.path, the same way in
#: ``python`` and under both launchers: ``wrapper.py SITE SCRIPT ARGS...``.
WRAPPER = '''\
import runpy, sys
sys.path.insert(0, sys.argv[1])
script = sys.argv[2]
sys.argv[:] = [script] + sys.argv[3:]
runpy.run_path(script, run_name="__main__")
'''


def workloads(cache: Path) -> Path:
    """A directory with ``bm_NAME/run_benchmark.py`` for every name of
    :data:`BENCHMARKS`, from pyperformance :data:`PYPERFORMANCE`'s wheel."""
    def make(tmp: Path) -> None:
        install_step([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
              "--no-deps", "--only-binary=:all:", "--ignore-requires-python",
              "--dest", str(tmp / "wheel"), f"pyperformance=={PYPERFORMANCE}"],
             f"pip download pyperformance=={PYPERFORMANCE}")
        wheel, = (tmp / "wheel").glob("pyperformance-*.whl")
        with zipfile.ZipFile(wheel) as z:
            for name in BENCHMARKS:
                member = f"pyperformance/data-files/benchmarks/bm_{name}/run_benchmark.py"
                out = tmp / f"bm_{name}" / "run_benchmark.py"
                out.parent.mkdir()
                out.write_bytes(z.read(member))
        wheel.unlink()
    return cached(cache / f"pyperformance-{PYPERFORMANCE}", make)


def pyperf(python: str, cache: Path) -> Tuple[Path, str]:
    """A directory holding pyperf as ``python``'s own pip installs it
    (pure Python, no dependencies: psutil is optional to pyperf), and
    pyperf's version."""
    real = os.path.realpath(python)
    final = cache / f"pyperf-{hashlib.sha256(real.encode()).hexdigest()[:16]}"

    def make(tmp: Path) -> None:
        install_step([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              "--no-deps", "--only-binary=:all:", "--target", str(tmp / "site"), "pyperf"],
             f"{python} -m pip install pyperf")

    site = cached(final, make) / "site"
    versions = [p.name[len("pyperf-"):-len(".dist-info")]
                for p in site.glob("pyperf-*.dist-info")]
    if len(versions) != 1:
        raise Unavailable(f"{site} holds no single pyperf: {sorted(versions)}")
    return site, versions[0]


def script(directory: Path, name: str) -> Path:
    """The script of benchmark ``name`` in :func:`workloads`' directory."""
    return directory / f"bm_{name}" / "run_benchmark.py"


def loops_of(calibration: Path) -> int:
    """The loop count a ``--worker --calibrate-loops -o FILE`` run chose."""
    data = json.loads(calibration.read_text(encoding="utf-8"))
    for metadata in [data.get("metadata", {})] + [b.get("metadata", {})
                                                  for b in data.get("benchmarks", [])]:
        if "loops" in metadata:
            return int(metadata["loops"])
    raise Unavailable(f"{calibration} says no loop count")


def values_of(results: Path) -> Dict[str, List[float]]:
    """Every timed value of every benchmark in a pyperf JSON file (warm-ups
    and calibration runs left out), by benchmark name. Seconds per loop."""
    data = json.loads(results.read_text(encoding="utf-8"))
    common = data.get("metadata", {})
    out: Dict[str, List[float]] = {}
    for bench in data.get("benchmarks", []):
        name = bench.get("metadata", {}).get("name", common.get("name"))
        values = out.setdefault(str(name), [])
        for run in bench.get("runs", []):
            values.extend(float(v) for v in run.get("values", []))
    return out
