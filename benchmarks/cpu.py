"""Python code's speed under the static launcher, the dynamic one and ``python``.

The workloads are written here after pyperformance's well-known ones
(nbody, float, richards-like method calls, json_dumps, regex, unpack_sequence,
fannkuch); pyperformance itself was not installed: its benchmarks need pyperf
in the target, and these bodies measure the same thing, the interpreter's
own code. Each runs in a fresh process of each variant:

* ``static``: ``embedcfg-launch-static`` (``embedcfg build --link static``);
* ``dynamic``: ``embedcfg-launch``, which dlopen()s libpython.so;
* ``python``: the same CPython's own ``python -I -S``.

Reports per benchmark the best of ``--repeat`` timings inside the process and
the ratios, with their geometric mean; then, with valgrind, callgrind's
instruction counts of a short run of each (start-up subtracted: the run of
the same variant with no workload), which are the figures to conclude from on
a shared machine. Finally the start-up instructions of the static launcher
against benchmarks/startup.py's hand-written host linked with libpython.so,
same document. Targets (issue 14): static at least 8 % faster than dynamic
(geometric mean), static start-up instructions at most the host's.

    python benchmarks/cpu.py [--python PYTHON|3.12] [--scale 1.0] [--repeat 5]
                             [--callgrind-scale 0.05] [--no-callgrind]
"""

from __future__ import annotations

import argparse
import io
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _callgrind  # noqa: E402  (benchmarks/, the script's directory)
import _interpreters  # noqa: E402
import startup  # noqa: E402
from embedcfg import build as _build  # noqa: E402
from embedcfg import codec  # noqa: E402
from embedcfg.model import EmbedConfig, InittabEntry  # noqa: E402

#: Run inside each variant: ``WORKLOAD NAME SIZE REPEAT`` prints the best time.
WORKLOAD = r'''
import json, re, sys, time

def nbody(n):
    PI = 3.14159265358979323
    SOLAR_MASS = 4 * PI * PI
    DAYS = 365.24
    bodies = [
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], SOLAR_MASS),
        ([4.84, -1.16, -0.10], [0.00166 * DAYS, 0.00770 * DAYS, -0.0000690 * DAYS],
         0.000954 * SOLAR_MASS),
        ([8.34, 4.12, -0.40], [-0.00276 * DAYS, 0.00499 * DAYS, 0.0000230 * DAYS],
         0.000285 * SOLAR_MASS),
        ([12.89, -15.11, -0.22], [0.00296 * DAYS, 0.00237 * DAYS, -0.0000296 * DAYS],
         0.0000436 * SOLAR_MASS),
        ([15.37, -25.91, 0.17], [0.00268 * DAYS, 0.00162 * DAYS, -0.0000951 * DAYS],
         0.0000515 * SOLAR_MASS)]
    pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]
    for _ in range(n):
        for ([x1, y1, z1], v1, m1), ([x2, y2, z2], v2, m2) in pairs:
            dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
            mag = 0.01 * ((dx * dx + dy * dy + dz * dz) ** (-1.5))
            b1m, b2m = m1 * mag, m2 * mag
            v1[0] -= dx * b2m; v1[1] -= dy * b2m; v1[2] -= dz * b2m
            v2[0] += dx * b1m; v2[1] += dy * b1m; v2[2] += dz * b1m
        for (r, [vx, vy, vz], m) in bodies:
            r[0] += 0.01 * vx; r[1] += 0.01 * vy; r[2] += 0.01 * vz

class Point:
    __slots__ = ("x", "y", "z")
    def __init__(self, i):
        from math import sin, cos, sqrt
        self.x = x = sin(i)
        self.y = cos(i) * 3
        self.z = (x * x) / 2
    def normalize(self):
        from math import sqrt
        norm = sqrt(self.x * self.x + self.y * self.y + self.z * self.z)
        self.x /= norm; self.y /= norm; self.z /= norm
    def maximize(self, other):
        self.x = max(self.x, other.x); self.y = max(self.y, other.y)
        self.z = max(self.z, other.z)
        return self

def float_(n):
    for _ in range(n):
        points = [Point(i) for i in range(1000)]
        for p in points:
            p.normalize()
        best = points[0]
        for p in points[1:]:
            best = best.maximize(p)

class Task:
    def __init__(self, prio, work):
        self.prio, self.work, self.count = prio, work, 0
    def run(self, packet):
        self.count += 1
        return packet.step(self)
class Packet:
    def __init__(self, link, kind):
        self.link, self.kind, self.datum = link, kind, 0
    def step(self, task):
        self.datum = (self.datum + task.prio * self.kind) % 257
        return self.link if self.datum & 1 else self

def richards(n):
    for _ in range(n):
        tasks = [Task(p, w) for p, w in zip(range(1, 9), range(8, 0, -1))]
        packets = [Packet(None, k) for k in range(4)]
        for i in range(3):
            packets[i].link = packets[i + 1]
        packet = packets[0]
        for i in range(4000):
            packet = tasks[i % 8].run(packet) or packets[0]

DATA = {"key%d" % i: [i, str(i) * 3, {"x": i / 3, "y": [True, None, "é"]}] for i in range(100)}

def json_dumps(n):
    for _ in range(n):
        json.dumps(DATA)
        json.dumps(DATA, sort_keys=True, indent=2)

TEXT = " ".join("user%d@example%d.com http://host%d.org/path?q=%d 2026-12-%02d" %
                (i, i % 7, i, i, i % 28 + 1) for i in range(300))
REGEXES = [re.compile(p) for p in (r"[\w.]+@[\w.]+\.com", r"https?://[^\s/]+(/\S*)?",
                                   r"\d{4}-\d{2}-\d{2}", r"(\w+)\d+@example(\d)")]

def regex(n):
    for _ in range(n):
        for r in REGEXES:
            r.findall(TEXT)
            r.sub("-", TEXT[:2000])

def unpack_sequence(n):
    t = tuple(range(10))
    for _ in range(n):
        for _ in range(1000):
            a, b, c, d, e, f, g, h, i, j = t
            a, b, c, d, e, f, g, h, i, j = t
            a, b, c, d, e, f, g, h, i, j = t
            a, b, c, d, e, f, g, h, i, j = t

def fannkuch(n):
    for _ in range(n):
        count = list(range(1, 8))
        perm1 = list(range(7))
        max_flips = 0
        r = 7
        while True:
            while r != 1:
                count[r - 1] = r
                r -= 1
            if perm1[0] != 0 and perm1[-1] != 6:
                perm = perm1[:]
                flips = 0
                k = perm[0]
                while k:
                    perm[:k + 1] = perm[k::-1]
                    flips += 1
                    k = perm[0]
                max_flips = max(max_flips, flips)
            while r != 7:
                perm1.insert(r, perm1.pop(0))
                count[r] -= 1
                if count[r] > 0:
                    break
                r += 1
            else:
                break

BENCHMARKS = {"nbody": (nbody, 20000), "float": (float_, 15), "richards": (richards, 20),
              "json_dumps": (json_dumps, 60), "regex": (regex, 12),
              "unpack_sequence": (unpack_sequence, 300), "fannkuch": (fannkuch, 1)}

name, scale, repeat = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
if name != "none":
    fn, size = BENCHMARKS[name]
    n = max(1, int(size * scale))
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        fn(n)
        t = time.perf_counter() - t
        best = t if best is None or t < best else best
    print("%.9f" % best)
'''

NAMES = ("nbody", "float", "richards", "json_dumps", "regex", "unpack_sequence", "fannkuch")
VARIANTS = ("static", "dynamic", "python")


def _geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable, type=_interpreters.resolve,
                   help="the CPython to measure: a path, or a minor such as 3.12")
    p.add_argument("--scale", type=float, default=1.0, help="workload size factor")
    p.add_argument("--repeat", type=int, default=5, help="timings per process (best kept)")
    p.add_argument("--callgrind-scale", type=float, default=0.05,
                   help="workload size factor of the callgrind runs")
    p.add_argument("--benchmarks", default=",".join(NAMES),
                   help="comma-separated subset of " + ", ".join(NAMES))
    p.add_argument("--no-callgrind", action="store_true", help="skip instruction counts")
    args = p.parse_args(argv)
    names = [n for n in args.benchmarks.split(",") if n]
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        raise SystemExit(f"unknown benchmarks: {', '.join(unknown)}")

    dynamic = _build.build(args.python, stderr=io.StringIO())
    static = _build.build(args.python, stderr=io.StringIO(), link="static")
    stdlib = subprocess.run([args.python, "-I", "-S", "-c",
                             "import sys; print('\\n'.join(p for p in sys.path if p))"],
                            capture_output=True, text=True, check=True,
                            env=startup._env()).stdout.split()
    version = ".".join(map(str, static.version))
    with tempfile.TemporaryDirectory(prefix="embedcfg-cpu-") as tmp:
        d = Path(tmp)
        script = d / "workload.py"
        script.write_text(WORKLOAD, encoding="utf-8")
        doc = d / "cpu.json"
        doc.write_bytes(codec.canonical(EmbedConfig(options={
            "module_search_paths": stdlib, "site_import": False,
            "run_filename": str(script), "argv": [str(script)], "parse_argv": False})))
        # beside each other, as startup.py places them (getpath walks up from there)
        for f in (dynamic.launcher, dynamic.shim, static.launcher):
            shutil.copy2(f, d / f.name)

        def command(variant: str, *workload: str) -> List[str]:
            if variant == "python":
                return [args.python, "-I", "-S", str(script), *workload]
            exe = d / (static if variant == "static" else dynamic).launcher.name
            return [str(exe), str(doc), *workload]  # after the document's argv

        print(f"CPython {version}: {len(names)} benchmarks, best of {args.repeat},"
              f" scale {args.scale}")
        times: Dict[str, Dict[str, float]] = {}
        for name in names:
            times[name] = {}
            for variant in VARIANTS:
                out = subprocess.run(command(variant, name, str(args.scale), str(args.repeat)),
                                     capture_output=True, text=True, env=startup._env(),
                                     check=False)
                if out.returncode != 0:
                    raise SystemExit(f"{variant} {name} failed:\n{out.stderr[-2000:]}")
                times[name][variant] = float(out.stdout.split()[-1])
            t = times[name]
            print(f"  {name:16} static {t['static'] * 1000:9.2f} ms  dynamic"
                  f" {t['dynamic'] * 1000:9.2f} ms  python {t['python'] * 1000:9.2f} ms"
                  f"  static/dynamic {t['static'] / t['dynamic']:.3f}"
                  f"  static/python {t['static'] / t['python']:.3f}")
        sd = _geomean([times[n]["static"] / times[n]["dynamic"] for n in names])
        sp = _geomean([times[n]["static"] / times[n]["python"] for n in names])
        print(f"  wall geometric mean: static/dynamic {sd:.3f} ({(1 - sd) * 100:+.1f} % faster),"
              f" static/python {sp:.3f} (machine shared: prefer the instruction counts)")

        if args.no_callgrind or shutil.which("valgrind") is None:
            return 0
        env = startup._env()
        base = {v: _callgrind.instructions(command(v, "none", "0", "1"), env=env)
                for v in VARIANTS}
        ratios_sd: List[float] = []
        ratios_sp: List[float] = []
        print(f"instructions (callgrind, scale {args.callgrind_scale}, start-up subtracted):")
        for name in names:
            counts = {}
            for v in VARIANTS:
                total = _callgrind.instructions(
                    command(v, name, str(args.callgrind_scale), "1"), env=env)
                assert total is not None and base[v] is not None
                counts[v] = total - base[v]
            ratios_sd.append(counts["static"] / counts["dynamic"])
            ratios_sp.append(counts["static"] / counts["python"])
            print(f"  {name:16} static {counts['static']:>13,}  dynamic {counts['dynamic']:>13,}"
                  f"  python {counts['python']:>13,}  static/dynamic {ratios_sd[-1]:.4f}"
                  f"  static/python {ratios_sp[-1]:.4f}")
        g = _geomean(ratios_sd)
        print(f"  instructions geometric mean: static/dynamic {g:.4f}"
              f" ({(1 - g) * 100:+.1f} % fewer; target >= 8 %),"
              f" static/python {_geomean(ratios_sp):.4f}")

        # Start-up: the typical document of startup.py, against its host.
        inc = [f"-I{i}" for i in _build.probe(args.python).includes]
        (d / "ext.c").write_text(startup.EXT, encoding="utf-8")
        startup._compile(["cc", "-O2", "-fPIC", "-shared", *inc, str(d / "ext.c"),
                          "-o", str(d / "libbench.so")])
        options = startup.typical_options(stdlib, d)
        typical = d / "app.json"
        typical.write_bytes(codec.canonical(EmbedConfig(options=options, inittab=[
            InittabEntry(name=m, library="$CONFIG_DIR/libbench.so") for m in startup.MODULES])))
        lib = Path(dynamic.libpython or "")
        (d / "host.c").write_text(startup.host_source(options, d / "libbench.so"),
                                  encoding="utf-8")
        startup._compile(["cc", "-O2", *inc, str(d / "host.c"), "-o", str(d / "host"),
                          f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}",
                          "-l" + lib.name.split(".so")[0][3:], "-ldl"])
        up = {"static": _callgrind.instructions([str(d / static.launcher.name), str(typical)],
                                                env=env),
              "dynamic": _callgrind.instructions([str(d / dynamic.launcher.name),
                                                  str(typical)], env=env),
              "host": _callgrind.instructions([str(d / "host")], env=env)}
        assert all(v is not None for v in up.values())
        print("start-up instructions (startup.py's document: 30 options, 20 paths, 5 inittab):"
              + "".join(f" {k} {v:,}" for k, v in up.items()))
        print(f"  static/host {up['static'] / up['host']:.4f} (target <= 1),"  # type: ignore
              f" dynamic/host {up['dynamic'] / up['host']:.4f}")  # type: ignore
    return 0


if __name__ == "__main__":
    sys.exit(main())
