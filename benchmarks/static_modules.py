"""Static extension modules at scale: CPython's inittab against embedcfg's
indexed static importer, with ratios measured in the same run.

For each N (10, 100, 1 000, 10 000, 100 000; ``--max-n`` limits it) the script
generates N trivial multi-phase extension modules (as many init functions in a
few large C files, compiled once per interpreter and shared by every N), bakes
one document's inittab for both mechanisms with :func:`embedcfg.bake.bake`,
links them into one host (tests/integration/static_host.c) and measures, in
fresh processes (medians of ``--repeat`` runs):

- registration: the host's registration call (``PyImport_ExtendInittab``
  before init, or ``embedcfg_static_importer_install`` after it) and the
  start-up it adds (registration + init, minus init with nothing registered
  in the same round: a paired median);
- importing all N modules, and the cost per import;
- one import with N registered (median of 21 single imports spread over the
  table), and one failed import of a name nothing provides (a miss goes
  through every finder: the static one, the builtin, frozen and path ones);
- the indexed importer's own share of an import: its find_spec,
  create_module and exec_module called directly, without importlib.  The
  rest of an import is importlib's (the module lock, module_from_spec,
  sys.modules), which every finder pays, CPython's inittab included; so
  the inittab's import-all time over that rest is the ceiling of the
  import-all ratio for any sys.meta_path finder on this interpreter and
  machine, printed beside the measured ratio.

Each child process first imports one static module untimed, so that the
first pass through importlib's code is not charged to the measured imports.
Times are CPU time of the importing thread (``time.thread_time()``, and
``CLOCK_THREAD_CPUTIME_ID`` in the host), not wall-clock time: on a shared
machine the latter mostly measures the neighbours.

Importing all N through the inittab is quadratic (3 linear scans per import),
so it is skipped above ``--inittab-all-max`` (default 10 000).

With ``--callgrind`` it also counts the instructions of importing all N
through both mechanisms (at the largest N up to ``--inittab-all-max``):
counts do not move with the machine's load, and they show how far the time
ratio sits below the work ratio (the inittab's compare loops run many more
instructions per cycle than importlib's bytecode).

Run:  .venv/bin/python benchmarks/static_modules.py [--max-n 10000] [--python PATH]...
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import _callgrind  # noqa: E402  (benchmarks/, the script's directory)
import _interpreters  # noqa: E402
from embedcfg import bake as _bake  # noqa: E402
from embedcfg import build as _build  # noqa: E402
from embedcfg.model import EmbedConfig, InittabEntry  # noqa: E402

SIZES = (10, 100, 1_000, 10_000, 100_000)
CHUNK = 5_000
SHIM_SRC = ROOT / "capi_shim"
HOST_SRC = ROOT / "tests" / "integration" / "static_host.c"
SAMPLES = 21

ALL_CODE = r"""
import json, sys, time
imp = __import__
imp("bm_000000")  # warm importlib's paths up, untimed
names = [f"bm_{{i:06d}}" for i in range(1, {n})]
t0 = time.thread_time()
for name in names:
    imp(name)
t1 = time.thread_time()
reg, init = sys._static_host
print(json.dumps({{"all_s": (t1 - t0) * {n} / max(len(names), 1), "reg_ns": reg,
                  "init_ns": init}}))
"""

# The indexed importer's own share of an import: its find_spec,
# create_module and exec_module called directly for every name, without
# importlib around them (the modules are created and dropped, as multi-phase
# modules allow).  An import costs that plus importlib's own work
# (_find_and_load, the module lock, module_from_spec, sys.modules), which
# every finder pays, the inittab's included.
OWN_CODE = r"""
import json, sys, time
imp = __import__
imp("bm_000000")  # warm importlib's paths up, untimed
finder = next(f for f in sys.meta_path
              if getattr(f, "__name__", "") == "embedcfg.static_importer")
names = [f"bm_{{i:06d}}" for i in range(1, {n})]
t0 = time.thread_time()
for name in names:
    spec = finder.find_spec(name, None, None)
    finder.exec_module(finder.create_module(spec))
t1 = time.thread_time()
print(json.dumps({{"own_s": (t1 - t0) * {n} / max(len(names), 1)}}))
"""

# ALL_CODE without the imports: what callgrind counts besides them.
LOOP_CODE = r"""
import sys
imp = __import__
imp("bm_000000")
names = [f"bm_{{i:06d}}" for i in range(1, {n})]
for name in names:
    pass
"""

# ALL_CODE as callgrind runs it (no timing, no output).
COUNT_CODE = LOOP_CODE.replace("    pass", "    imp(name)")

ONE_CODE = r"""
import json, sys, time
n = {n}
imp = __import__
imp("bm_000001")  # warm importlib's paths up, untimed
picks = sorted({{(i * (n - 1)) // {samples_1} for i in range({samples})}} - {{1}})
times = []
for i in picks:
    name = f"bm_{{i:06d}}"
    t0 = time.thread_time()
    imp(name)
    times.append(time.thread_time() - t0)
misses = []
for i in range(len(picks)):
    t0 = time.thread_time()
    try:
        imp(f"nothere_{{i}}")
    except ImportError:
        pass
    misses.append(time.thread_time() - t0)
times.sort()
misses.sort()
reg, init = sys._static_host
print(json.dumps({{"one_s": times[len(times) // 2], "miss_s": misses[len(misses) // 2],
                  "reg_ns": reg, "init_ns": init}}))
"""

NONE_CODE = r"""
import json, sys
reg, init = sys._static_host
print(json.dumps({"reg_ns": reg, "init_ns": init}))
"""


def _installed_pythons() -> Dict[Tuple[int, int], str]:
    # The tests' discovery: pyenv, plus the 3.14 test-data build when present.
    from tests.pythons import installed_pythons

    return {minor: str(exe) for minor, exe in installed_pythons().items()}


def _generate(directory: Path, n_max: int) -> List[Path]:
    """C files of CHUNK modules each: bm_000000 ... (multi-phase, no slots)."""
    files = []
    for start in range(0, n_max, CHUNK):
        path = directory / f"mods_{start // CHUNK:03d}.c"
        lines = ["#define PY_SSIZE_T_CLEAN", "#include <Python.h>",
                 "#define BM(n) static struct PyModuleDef d_##n = {PyModuleDef_HEAD_INIT,"
                 ' "bm_" #n, NULL, 0, NULL, NULL, NULL, NULL, NULL}; \\',
                 "PyMODINIT_FUNC PyInit_bm_##n(void) { return PyModuleDef_Init(&d_##n); }"]
        lines += [f"BM({i:06d})" for i in range(start, min(start + CHUNK, n_max))]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    return files


def _cc(args: Sequence[str]) -> None:
    proc = subprocess.run(["cc", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"cc {' '.join(args)}\n{proc.stderr[-3000:]}")


class Host:
    """One interpreter's compiled modules and the hosts built from them."""

    def __init__(self, python: str, directory: Path, sources: List[Path], jobs: int) -> None:
        self.target = _build.probe(python)
        self.python = python
        self.directory = directory
        assert self.target.libpython is not None, f"{python}: a shared libpython is needed"
        self.includes = [f"-I{i}" for i in self.target.includes] + [f"-I{SHIM_SRC}"]
        objects = [directory / (s.stem + ".o") for s in sources]
        common = [str(HOST_SRC), str(SHIM_SRC / "static_importer.c"),
                  str(SHIM_SRC / "importer.c")]
        jobs_list = [["-O0", "-c", *self.includes, str(s), "-o", str(o)]
                     for s, o in zip(sources, objects)]
        jobs_list += [["-O2", "-c", *self.includes, src, "-o",
                       str(directory / (Path(src).stem + ".o"))] for src in common]
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            list(pool.map(_cc, jobs_list))
        self.objects = objects
        self.common = [directory / (Path(src).stem + ".o") for src in common]

    def host_for(self, n: int) -> Path:
        cfg = EmbedConfig(inittab=[InittabEntry(name=f"bm_{i:06d}") for i in range(n)])
        d = self.directory / f"n{n}"
        d.mkdir(exist_ok=True)
        for mech in _bake.MECHANISMS:
            (d / f"{mech}.c").write_text(_bake.bake(cfg, mechanism=mech), encoding="utf-8")
        lib = Path(self.target.libpython or "")
        pyname = lib.name.split(".so")[0][3:]
        out = d / "host"
        needed = self.objects[: (n + CHUNK - 1) // CHUNK]
        _cc(["-O2", *self.includes, str(d / "indexed.c"), str(d / "inittab.c"),
             *map(str, self.common), *map(str, needed), "-o", str(out), f"-L{lib.parent}",
             f"-Wl,-rpath,{lib.parent}", f"-l{pyname}"])
        return out


def _run(host: Path, mode: str, code: str, timeout: float) -> Optional[Dict[str, Any]]:
    try:
        proc = subprocess.run([str(host), mode, code], capture_output=True, text=True,
                              env=_interpreters.clean_env(), timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise SystemExit(f"{host} {mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _median(runs: List[Dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def measure(host: Path, n: int, repeat: int, inittab_all_max: int) -> Dict[str, Any]:
    row: Dict[str, Any] = {"n": n}
    modes = ("indexed", "inittab")
    one_code = ONE_CODE.format(n=n, samples=min(SAMPLES, n),
                               samples_1=max(min(SAMPLES, n) - 1, 1))
    ones: Dict[str, List[Dict[str, Any]]] = {m: [] for m in modes}
    startup: Dict[str, List[float]] = {m: [] for m in modes}
    # Interleaved runs: what registration adds to start-up is measured
    # against an unregistered start of the same round (paired differences),
    # so that drift on a busy machine cancels out.
    for _ in range(3 * repeat):
        base = _run(host, "none", NONE_CODE, 120)
        for mode in modes:
            r = _run(host, mode, one_code, 600)
            if r is None or base is None:
                continue
            ones[mode].append(r)
            startup[mode].append(r["reg_ns"] + r["init_ns"] - base["init_ns"])
    for mode in modes:
        res: Dict[str, Any] = {"one_us": _median(ones[mode], "one_s") * 1e6,
                               "miss_us": _median(ones[mode], "miss_s") * 1e6,
                               "reg_us": _median(ones[mode], "reg_ns") / 1e3,
                               "startup_us": statistics.median(startup[mode]) / 1e3}
        if mode == "inittab" and n > inittab_all_max:
            res["all_s"] = None
        else:
            alls = [r for r in (_run(host, mode, ALL_CODE.format(n=n), 1800)
                                for _ in range(repeat)) if r]
            res["all_s"] = _median(alls, "all_s")
        res["per_us"] = res["all_s"] / n * 1e6 if res["all_s"] is not None else None
        if mode == "indexed":
            owns = [r for r in (_run(host, mode, OWN_CODE.format(n=n), 1800)
                                for _ in range(repeat)) if r]
            res["own_us"] = _median(owns, "own_s") / n * 1e6
        row[mode] = res
    return row


def count(host: Path, n: int) -> Dict[str, float]:
    """Instructions per import when importing all N (callgrind): stable
    whatever the machine's load, unlike the times above."""
    per: Dict[str, float] = {}
    for mode in ("indexed", "inittab"):
        counts = [_callgrind.instructions([str(host), mode, code.format(n=n)],
                                          env=_interpreters.clean_env())
                  for code in (COUNT_CODE, LOOP_CODE)]
        if counts[0] is None or counts[1] is None:
            raise SystemExit("--callgrind needs valgrind")
        per[mode] = (counts[0] - counts[1]) / max(n - 1, 1)
    return per


def _fmt(v: Optional[float], spec: str) -> str:
    return "—" if v is None else format(v, spec)


def report(version: str, rows: List[Dict[str, Any]], out: Any) -> None:
    out.write(f"\nCPython {version}\n")
    head = ("N", "mech", "reg µs", "startup µs", "all s", "per-import µs", "own µs",
            "one import µs", "miss µs")
    out.write("{:>7} {:>8} {:>9} {:>11} {:>9} {:>14} {:>7} {:>14} {:>8}\n".format(*head))
    for row in rows:
        for mode in ("inittab", "indexed"):
            r = row[mode]
            out.write(f"{row['n']:>7} {mode:>8} {_fmt(r['reg_us'], '9.1f')}"
                      f" {_fmt(r['startup_us'], '11.0f')} {_fmt(r['all_s'], '9.4f')}"
                      f" {_fmt(r['per_us'], '14.1f')} {_fmt(r.get('own_us'), '7.1f')}"
                      f" {_fmt(r['one_us'], '14.1f')}"
                      f" {_fmt(r['miss_us'], '8.1f')}\n")
    first = rows[0]["indexed"]
    out.write("ratios (same run):\n")
    for row in rows:
        idx, tab = row["indexed"], row["inittab"]
        parts = [f"N={row['n']}: indexed per-import vs N={rows[0]['n']}:"
                 f" {idx['per_us'] / first['per_us']:.2f}x"]
        parts.append(f"one import vs N={rows[0]['n']}: {idx['one_us'] / first['one_us']:.2f}x")
        if tab["all_s"] is not None:
            parts.append(f"inittab/indexed all: {tab['all_s'] / idx['all_s']:.1f}x")
            # What a finder costing nothing would reach: the inittab's time
            # over importlib's share of the indexed imports.
            floor_s = (idx["per_us"] - idx["own_us"]) * 1e-6 * row["n"]
            parts.append(f"ceiling for any meta-path finder: {tab['all_s'] / floor_s:.1f}x")
        parts.append(f"inittab/indexed one import: {tab['one_us'] / idx['one_us']:.1f}x")
        parts.append(f"reg indexed/inittab: {idx['reg_us'] / max(tab['reg_us'], 1e-3):.2f}x")
        out.write("  " + "; ".join(parts) + "\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--max-n", type=int, default=SIZES[-1])
    p.add_argument("--python", action="append", help="interpreter(s); default: every"
                   " CPython 3.8+ the tests find (pyenv, the 3.14 test-data build)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of each import-all measurement (3x as many of the others)")
    p.add_argument("--inittab-all-max", type=int, default=10_000)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--callgrind", action="store_true",
                   help="also count the instructions of importing all N through both"
                   " mechanisms at the largest N up to --inittab-all-max (slow:"
                   " minutes per interpreter)")
    args = p.parse_args(argv)
    sizes = [n for n in SIZES if n <= args.max_n]
    pythons = args.python or [v for _, v in sorted(_installed_pythons().items())]
    results: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="embedcfg-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        sources = _generate(work, max(sizes))
        sys.stderr.write(f"generated {max(sizes)} modules in {len(sources)} C files"
                         f" ({time.perf_counter() - t0:.1f} s)\n")
        for python in pythons:
            version = ".".join(map(str, _build.probe(python).version))
            d = work / version
            d.mkdir()
            t0 = time.perf_counter()
            host = Host(python, d, sources, args.jobs)
            sys.stderr.write(f"CPython {version}: compiled in {time.perf_counter() - t0:.1f} s\n")
            rows = []
            for n in sizes:
                exe = host.host_for(n)
                rows.append(measure(exe, n, args.repeat, args.inittab_all_max))
                sys.stderr.write(f"  N={n} done\n")
            results[version] = rows
            report(version, rows, sys.stdout)
            counted = [n for n in sizes if n <= args.inittab_all_max]
            if args.callgrind and counted:
                n = counted[-1]
                per = count(host.host_for(n), n)
                rows[sizes.index(n)]["instructions"] = per
                sys.stdout.write(
                    f"instructions per import, importing all N={n} (callgrind):"
                    f" inittab {per['inittab'] / 1e3:.0f}k, indexed"
                    f" {per['indexed'] / 1e3:.0f}k: inittab/indexed"
                    f" {per['inittab'] / per['indexed']:.1f}x\n")
            sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
