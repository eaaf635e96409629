"""Python code's speed under the static launcher, the dynamic one and ``python``.

The workloads are pyperformance's own benchmark scripts (richards, nbody,
float, deltablue, raytrace, json_dumps, regex_v8, unpack_sequence; see
benchmarks/_pyperformance.py), timed by pyperf in worker processes, as
pyperformance runs them. Each worker runs under each of three variants of
the same CPython:

* ``static``: ``embedcfg-launch-static`` (``embedcfg build --link static``);
* ``dynamic``: ``embedcfg-launch``, which dlopen()s libpython.so;
* ``python``: the CPython's own ``python -s -S``.

The loop count of each benchmark is calibrated once (pyperf's calibration,
in ``python``) and used by every variant. Then ``--processes`` rounds: in
each round every benchmark runs one worker per variant (the order of the
variants rotating), so a drift of the machine's speed falls on all three.
Reported per benchmark: mean +- standard deviation of all values (pyperf's
statistics), the ratios and their geometric mean, then ``pyperf
compare_to --table`` of the three result files (significance per
benchmark).

With valgrind, the noise-free second figure: callgrind's instruction counts
of one worker with loops L and with 2L (no warm-up, one value, the hash seed
fixed), whose difference is L loops of the workload alone, and for one
benchmark (``--profile``) where the difference between static and dynamic
lies, function by function. Finally the
start-up instructions of the static launcher against
benchmarks/startup.py's hand-written host linked with libpython.so, same
document. Targets (issue 14): static at least 8 % faster than dynamic
(geometric mean), static start-up instructions at most the host's.

    python benchmarks/cpu.py [--python PYTHON|3.12] [--processes 6] [--values 3]
                             [--warmups 1] [--benchmarks a,b] [--no-callgrind]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _callgrind  # noqa: E402  (benchmarks/, the script's directory)
import _interpreters  # noqa: E402
import _pyperformance  # noqa: E402
import startup  # noqa: E402
from embedcfg import build as _build  # noqa: E402
from embedcfg import codec  # noqa: E402
from embedcfg.model import EmbedConfig, InittabEntry  # noqa: E402

NAMES = _pyperformance.BENCHMARKS
VARIANTS = ("static", "dynamic", "python")


def geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def ratios(of: Dict[str, float]) -> Tuple[float, float]:
    """static/dynamic and static/python of one figure per variant."""
    return of["static"] / of["dynamic"], of["static"] / of["python"]


class Setup:
    """The three variants of one CPython, ready to run pyperformance workers."""

    def __init__(self, python: str, d: Path, cache: Path) -> None:
        self.python = python
        self.dir = d
        self.dynamic = _build.build(python, stderr=io.StringIO())
        self.static = _build.build(python, stderr=io.StringIO(), link="static")
        self.version = ".".join(map(str, self.static.version))
        self.workloads = _pyperformance.workloads(cache)
        self.site, self.pyperf_version = _pyperformance.pyperf(python, cache)
        self.stdlib = subprocess.run(
            [python, "-I", "-S", "-c", "import sys; print('\\n'.join(p for p in sys.path if p))"],
            capture_output=True, text=True, check=True,
            env=_interpreters.clean_env()).stdout.split()
        self.wrapper = d / "wrapper.py"
        self.wrapper.write_text(_pyperformance.WRAPPER, encoding="utf-8")
        # beside each other, as startup.py places them (getpath walks up from there)
        for f in (self.dynamic.launcher, self.dynamic.shim, self.static.launcher):
            shutil.copy2(f, d / f.name)
        self.documents = {seeded: self._document(seeded) for seeded in (False, True)}
        #: python's environment for :meth:`counted` (the documents set hash_seed)
        self.seeded_env = _interpreters.clean_env()
        self.seeded_env["PYTHONHASHSEED"] = "0"

    def _document(self, seeded: bool) -> Path:
        options: Dict[str, Any] = {
            "module_search_paths": self.stdlib, "site_import": False,
            "run_filename": str(self.wrapper), "argv": [str(self.wrapper)],
            "parse_argv": False}
        if seeded:  # as PYTHONHASHSEED=0 does for python: the same dict orders every run
            options["hash_seed"] = 0
        path = self.dir / ("seeded.json" if seeded else "cpu.json")
        path.write_bytes(codec.canonical(EmbedConfig(options=options)))
        return path

    def command(self, variant: str, name: str, *worker: str, seeded: bool = False) -> List[str]:
        """A pyperf worker of benchmark ``name`` under ``variant``."""
        tail = [str(self.site), str(_pyperformance.script(self.workloads, name)), *worker]
        if variant == "python":
            return [self.python, "-s", "-S", str(self.wrapper), *tail]
        exe = self.dir / (self.static if variant == "static" else self.dynamic).launcher.name
        return [str(exe), str(self.documents[seeded]), *tail]  # after the document's argv

    def counted(self, variant: str, name: str, loops: int) -> List[str]:
        """The worker callgrind counts: ``loops`` loops, one value, no
        warm-up, the hash seed fixed (with :attr:`seeded_env` for python)."""
        return self.command(variant, name, "--worker", "--loops", str(loops), "--warmups", "0",
                            "--values", "1", seeded=True)

    def run(self, cmd: List[str], what: str, env: Optional[Dict[str, str]] = None) -> None:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env=env or _interpreters.clean_env(), check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{what} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def calibrate(s: Setup, name: str) -> int:
    """pyperf's loop count for ``name``, calibrated in ``python``."""
    out = s.dir / f"calibrate-{name}.json"
    s.run(s.command("python", name, "--worker", "--calibrate-loops", "--output", str(out)),
          f"calibrating {name}")
    return _pyperformance.loops_of(out)


def timings(s: Setup, names: Sequence[str], loops: Dict[str, int],
            args: argparse.Namespace) -> Dict[str, Dict[str, List[float]]]:
    """Every value of every benchmark under every variant (seconds per loop)."""
    results = {v: s.dir / f"{v}.json" for v in VARIANTS}
    for round_ in range(args.processes):
        order = VARIANTS[round_ % 3:] + VARIANTS[:round_ % 3]
        for name in names:
            for variant in order:
                s.run(s.command(variant, name, "--worker", "--loops", str(loops[name]),
                                "--warmups", str(args.warmups), "--values", str(args.values),
                                "--append", str(results[variant])),
                      f"{variant} {name} (round {round_ + 1})")
    values = {v: _pyperformance.values_of(results[v]) for v in VARIANTS}
    return {name: {v: values[v][name] for v in VARIANTS} for name in names}


def _time(values: List[float]) -> str:
    """Mean +- standard deviation, in the unit that suits the mean (as pyperf prints)."""
    mean = statistics.mean(values)
    dev = statistics.stdev(values) if len(values) > 1 else 0.0
    scale, unit = next((f, u) for f, u in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))
                       if mean >= f or u == "ns")
    return f"{mean / scale:7.2f} {unit:2} +- {dev / scale:5.2f}"


def report_timings(s: Setup, names: Sequence[str],
                   t: Dict[str, Dict[str, List[float]]]) -> None:
    sd: List[float] = []
    sp: List[float] = []
    for name in names:
        r = ratios({v: statistics.mean(t[name][v]) for v in VARIANTS})
        sd.append(r[0])
        sp.append(r[1])
        print(f"  {name:16} static {_time(t[name]['static'])}  dynamic {_time(t[name]['dynamic'])}"
              f"  python {_time(t[name]['python'])}  static/dynamic {sd[-1]:.3f}"
              f"  static/python {sp[-1]:.3f}")
    g = geomean(sd)
    print(f"  time geometric mean: static/dynamic {g:.3f} ({(1 - g) * 100:+.1f} % less time,"
          f" {1 / g:.3f}x as fast), static/python {geomean(sp):.3f}")
    # the stricter reading of "8 % faster": 8 % less time, not 1.08x as fast
    print(f"  target: static at least 8 % faster than dynamic (time geometric mean):"
          f" {'met' if g <= 0.92 else 'missed'}")
    # pyperf's own comparison: significance of each difference (Student's t-test)
    env = _interpreters.clean_env()
    env["PYTHONPATH"] = str(s.site)
    proc = subprocess.run([s.python, "-s", "-S", "-m", "pyperf", "compare_to", "--table",
                           *(str(s.dir / f"{v}.json") for v in ("dynamic", "static", "python"))],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"pyperf compare_to failed:\n{proc.stderr[-2000:]}")
    print(f"pyperf {s.pyperf_version} compare_to --table (reference: dynamic):")
    print("".join("  " + line + "\n" for line in proc.stdout.rstrip().splitlines()))


def instructions(s: Setup, names: Sequence[str], small: Dict[str, int], jobs: int) -> None:
    """callgrind's instructions of ``L = small[name]`` loops of each workload
    (a worker with 2L loops minus one with L), every variant."""
    jobs_list = [(n, v, k) for n in names for v in VARIANTS for k in (1, 2)]

    def count(job: Any) -> int:
        n, v, k = job
        total = _callgrind.instructions(s.counted(v, n, k * small[n]), env=s.seeded_env)
        assert total is not None
        return total

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        totals = dict(zip(jobs_list, pool.map(count, jobs_list)))
    sd: List[float] = []
    sp: List[float] = []
    print("instructions (callgrind; a worker of 2L loops minus one of L: the workload alone):")
    for n in names:
        c = {v: totals[(n, v, 2)] - totals[(n, v, 1)] for v in VARIANTS}
        r = ratios({v: float(c[v]) for v in VARIANTS})
        sd.append(r[0])
        sp.append(r[1])
        print(f"  {n:16} L={small[n]:<6} static {c['static']:>14,}  dynamic {c['dynamic']:>14,}"
              f"  python {c['python']:>14,}  static/dynamic {sd[-1]:.4f}"
              f"  static/python {sp[-1]:.4f}")
    g = geomean(sd)
    print(f"  instructions geometric mean: static/dynamic {g:.4f} ({(1 - g) * 100:+.1f} % fewer),"
          f" static/python {geomean(sp):.4f}")


def _in_linker(function: str) -> bool:
    return function.startswith("_dl_") or function == "do_lookup_x"


def explain(s: Setup, name: str, small: int, jobs: int) -> None:
    """Where the static launcher saves instructions on ``name``: callgrind's
    self cost by function of the workload alone (2L loops minus L with
    ``L = small``, as above), dynamic minus static."""
    runs = [(v, k) for v in ("static", "dynamic") for k in (1, 2)]

    def run(job: Any) -> _callgrind.Profile:
        v, k = job
        got = _callgrind.profile(s.counted(v, name, k * small), env=s.seeded_env,
                                 cache_sim=True)
        assert got is not None
        return got

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        prof = dict(zip(runs, pool.map(run, runs)))

    def workload(v: str, counts: Any) -> Dict[str, int]:  # 2L minus L
        one, two = counts(prof[(v, 1)]), counts(prof[(v, 2)])
        return {k: two.get(k, 0) - one.get(k, 0) for k in set(one) | set(two)}

    work = {v: workload(v, lambda p: p.functions) for v in ("static", "dynamic")}
    events = {v: workload(v, lambda p: p.totals) for v in ("static", "dynamic")}
    saved = {f: work["dynamic"].get(f, 0) - work["static"].get(f, 0)
             for f in set(work["static"]) | set(work["dynamic"])}
    total = sum(saved.values())
    dynamic = sum(work["dynamic"].values())
    tls = saved.get("__tls_get_addr", 0)
    linker = sum(c for f, c in saved.items() if _in_linker(f))
    rest = sorted(((c, f) for f, c in saved.items()
                   if f != "__tls_get_addr" and not _in_linker(f)), reverse=True)

    def share(c: int) -> str:
        return f"{c:>13,} ({c / total * 100 if total else 0:5.1f} % of the saving)"

    print(f"where static saves ({name}, L={small}: {total:,} instructions,"
          f" {total / dynamic * 100:.1f} % of dynamic's {dynamic:,}):")
    print(f"  __tls_get_addr (libpython's thread-locals, general-dynamic TLS)  {share(tls)}")
    print(f"  the dynamic linker (_dl_*, do_lookup_x)                            {share(linker)}")
    print(f"  libpython's own functions (PLT calls, GOT loads, code layout)      "
          f"{share(total - tls - linker)}")
    print("    most: " + ", ".join(f"{f} {c:,}" for c, f in rest[:5]))
    # the same instruction count can cost more: a GOT load is a data read
    # that the static link turns into an address computation (lea)
    print("  events of the workload (callgrind's cache simulation), static/dynamic:"
          + "".join(f" {e} {events['static'][e] / events['dynamic'][e]:.4f}"
                    for e in ("Ir", "Dr", "Dw") if events["dynamic"].get(e)))


def startup_instructions(s: Setup) -> None:
    """The typical document of startup.py under the static launcher, against its host."""
    d = s.dir
    env = _interpreters.clean_env()
    inc = [f"-I{i}" for i in _build.probe(s.python).includes]
    (d / "ext.c").write_text(startup.EXT, encoding="utf-8")
    startup._compile(["cc", "-O2", "-fPIC", "-shared", *inc, str(d / "ext.c"),
                      "-o", str(d / "libbench.so")])
    options = startup.typical_options(s.stdlib, d)
    typical = d / "app.json"
    typical.write_bytes(codec.canonical(EmbedConfig(options=options, inittab=[
        InittabEntry(name=m, library="$CONFIG_DIR/libbench.so") for m in startup.MODULES])))
    lib = Path(s.dynamic.libpython or "")
    (d / "host.c").write_text(startup.host_source(options, d / "libbench.so"), encoding="utf-8")
    startup._compile(["cc", "-O2", *inc, str(d / "host.c"), "-o", str(d / "host"),
                      f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}",
                      "-l" + lib.name.split(".so")[0][3:], "-ldl"])
    up: Dict[str, int] = {}
    for key, cmd in (("static", [str(d / s.static.launcher.name), str(typical)]),
                     ("dynamic", [str(d / s.dynamic.launcher.name), str(typical)]),
                     ("host", [str(d / "host")])):
        total = _callgrind.instructions(cmd, env=env)
        assert total is not None
        up[key] = total
    print("start-up instructions (startup.py's document: 30 options, 20 paths, 5 inittab):"
          + "".join(f" {k} {v:,}" for k, v in up.items()))
    print(f"  static/host {up['static'] / up['host']:.4f} (target <= 1),"
          f" dynamic/host {up['dynamic'] / up['host']:.4f}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable, type=_interpreters.resolve,
                   help="the CPython to measure: a path, or a minor such as 3.12")
    p.add_argument("--processes", type=int, default=6,
                   help="worker processes per benchmark and variant (pyperf's -p)")
    p.add_argument("--values", type=int, default=3, help="values per process (pyperf's -n)")
    p.add_argument("--warmups", type=int, default=1, help="warm-ups per process (pyperf's -w)")
    p.add_argument("--loops", type=int, default=0,
                   help="loops per value (pyperf's -l); 0: calibrated by pyperf")
    p.add_argument("--callgrind-fraction", type=float, default=0.25,
                   help="L of the instruction counts, as a fraction of the calibrated loops")
    p.add_argument("--benchmarks", default=",".join(NAMES),
                   help="comma-separated subset of " + ", ".join(NAMES))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="callgrind runs at once (instruction counts do not depend on load)")
    p.add_argument("--no-callgrind", action="store_true", help="skip instruction counts")
    p.add_argument("--profile", default="richards", metavar="NAME",
                   help="the benchmark whose instruction saving is broken down by function"
                        " ('' for none)")
    args = p.parse_args(argv)
    names = [n for n in args.benchmarks.split(",") if n]
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        raise SystemExit(f"unknown benchmarks: {', '.join(unknown)} (known: {', '.join(NAMES)})")
    if args.profile and args.profile not in names:
        raise SystemExit(f"--profile {args.profile}: not among the benchmarks run")
    if min(args.processes, args.values) < 1 or min(args.warmups, args.loops) < 0:
        raise SystemExit("--processes and --values must be >= 1, --warmups and --loops >= 0")

    with tempfile.TemporaryDirectory(prefix="embedcfg-cpu-") as tmp:
        try:
            s = Setup(args.python, Path(tmp), _build.cache_dir() / "bench")
        except _interpreters.Unavailable as e:
            raise SystemExit(f"cpu.py needs pyperformance's scripts and pyperf: {e}")
        loops = {n: args.loops or calibrate(s, n) for n in names}
        print(f"CPython {s.version}: pyperformance {_pyperformance.PYPERFORMANCE}'s"
              f" {len(names)} benchmarks, pyperf {s.pyperf_version}; {args.processes} processes"
              f" x {args.values} values (+{args.warmups} warm-up) per benchmark and variant;"
              " loops " + ", ".join(f"{n} {loops[n]}" for n in names))
        report_timings(s, names, timings(s, names, loops, args))
        if args.no_callgrind or shutil.which("valgrind") is None:
            return 0
        small = {n: max(1, int(loops[n] * args.callgrind_fraction)) for n in names}
        instructions(s, names, small, args.jobs)
        if args.profile:
            explain(s, args.profile, small[args.profile], args.jobs)
        startup_instructions(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
