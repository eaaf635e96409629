"""Cold start from a read-only tree: does precompile + readonly match a warm cache?

An application of 300 generated modules of realistic size (classes,
functions, docstrings, annotations, comprehensions; 60-400 lines each, in
10 packages) plus 50 standard-library imports is started ``--starts`` times
(default 20) in three ways, interleaved in a rotating order so that machine
noise and order effects hit all alike:

* ``no cache``: a read-only tree without bytecode, pycache mode
  ``readonly``: every start compiles every module of the application;
* ``precompile+readonly``: the same tree after ``embedcfg precompile``,
  pycache mode ``readonly``;
* ``warm writable``: a writable tree whose ``__pycache__`` a first run
  filled, pycache mode ``default``.

The starts go through the launcher built by :mod:`embedcfg.build` when it
can be built, else through the plain interpreter with the equivalent flags
(``-I -S``, ``-B`` for the read-only cases); the output says which. It prints
the medians and the ratios measured in this run, in CPU time (user + system
of the started process: steady on a shared machine) and in wall-clock time;
the targets (issue 5): precompile+readonly within 1.05x of the warm cache,
and how many times faster than no cache.

    python benchmarks/cold_start.py [--python PYTHON|3.14] [--starts 20] [--plain]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _interpreters  # noqa: E402  (benchmarks/, the script's directory)
from embedcfg import codec  # noqa: E402
from embedcfg.model import EmbedConfig, Pycache, PycacheMode  # noqa: E402
from embedcfg.precompile import precompile  # noqa: E402

PACKAGES = 10
MODULES = 300
STDLIB = [
    "abc", "argparse", "ast", "base64", "binascii", "bisect", "calendar", "collections",
    "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal",
    "difflib", "email.message", "email.utils", "enum", "fnmatch", "fractions", "functools",
    "glob", "gzip", "hashlib", "heapq", "hmac", "http.client", "inspect", "ipaddress",
    "itertools", "json", "logging", "operator", "pathlib", "pprint", "queue", "random", "re",
    "shlex", "shutil", "statistics", "string", "struct", "tempfile", "textwrap", "threading",
    "typing", "urllib.parse", "uuid",
]
assert len(STDLIB) == 50


def _function(rng: random.Random, name: str) -> str:
    args = ", ".join(f"a{i}: int" for i in range(rng.randint(1, 4)))
    body = [f"def {name}({args}, *, scale: float = 1.0) -> Dict[str, Any]:",
            f'    """Compute {name.replace("_", " ")} for the given inputs.',
            "",
            "    The result maps each key to a scaled value; see the module docstring.",
            '    """',
            "    total = 0",
            f"    for i in range({rng.randint(3, 30)}):",
            "        if i % 3 == 0:",
            "            total += i * scale",
            "        elif i % 3 == 1:",
            "            total -= i // 2",
            "        else:",
            "            total ^= i",
            "    values = [x * 2 for x in range(10) if x % 2]",
            "    mapping = {f'k{x}': x * total for x in values}",
            "    try:",
            "        mapping['ratio'] = total / max(1, len(values))",
            "    except ZeroDivisionError as exc:  # pragma: no cover",
            "        raise ValueError(f'bad input: {exc}') from exc",
            "    return mapping",
            ""]
    return "\n".join(body)


def _class(rng: random.Random, name: str) -> str:
    fields = [f"field_{i}" for i in range(rng.randint(2, 6))]
    # Most classes are plain; some are dataclasses (whose creation costs
    # more at import than all the rest of a module).
    if rng.random() < 0.1:
        out = ["@dataclasses.dataclass", f"class {name}:",
               f'    """A record of {len(fields)} fields, with helpers."""', ""]
        out += [f"    {f}: int = {i}" for i, f in enumerate(fields)]
    else:
        out = [f"class {name}:", f'    """A record of {len(fields)} fields, with helpers."""',
               "", f"    __slots__ = {tuple(fields)!r}", "",
               "    def __init__(self, " + ", ".join(f"{f}: int = {i}" for i, f in
                                                    enumerate(fields)) + ") -> None:"]
        out += [f"        self.{f} = {f}" for f in fields]
        out += ["", "    def __repr__(self) -> str:",
                f"        return f'{name}(' + ', '.join(f'{{k}}={{getattr(self, k)!r}}'"
                f" for k in self.__slots__) + ')'",
                "", "    def __eq__(self, other: object) -> bool:",
                "        if not isinstance(other, type(self)):",
                "            return NotImplemented",
                "        return all(getattr(self, k) == getattr(other, k) for k in"
                " self.__slots__)"]
    out += ["",
            "    def total(self) -> int:",
            '        """The sum of the fields."""',
            "        return " + " + ".join(f"self.{f}" for f in fields),
            "",
            "    def as_dict(self) -> Dict[str, Any]:",
            "        return {k: getattr(self, k) for k in " + repr(fields) + "}",
            "",
            "    @classmethod",
            f"    def parse(cls, text: str) -> '{name}':",
            "        parts = [int(p) for p in text.split(',') if p.strip()]",
            "        return cls(*parts[:" + str(len(fields)) + "])",
            "",
            "    def __lt__(self, other: object) -> bool:",
            "        if not isinstance(other, type(self)):",
            "            return NotImplemented",
            "        return self.total() < other.total()",
            ""]
    return "\n".join(out)


def generate(root: Path, seed: int = 5) -> Tuple[int, int]:
    """Write the application under root/src; return (modules, lines)."""
    rng = random.Random(seed)
    src = root / "src"
    lines = 0
    names: List[str] = []
    per_package = MODULES // PACKAGES
    for p in range(PACKAGES):
        pkg = src / "app" / f"pkg{p}"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text(f'"""Package {p} of the benchmark application."""\n')
        for m in range(per_package):
            name = f"mod{m}"
            parts = [f'"""Module {p}.{m}: generated, realistic in size and shape."""',
                     "", "from __future__ import annotations", "",
                     "import dataclasses", "from typing import Any, Dict", ""]
            if m > 0:
                parts.append(f"from . import mod{rng.randrange(m)}  # noqa: F401")
            parts.append(f"CONSTANT_{m} = {rng.randint(0, 10**6)}")
            parts.append("")
            for i in range(rng.randint(2, 12)):
                parts.append(_function(rng, f"compute_{i}") if rng.random() < 0.6
                             else _class(rng, f"Record{i}"))
            text = "\n".join(parts) + "\n"
            lines += text.count("\n")
            (pkg / f"{name}.py").write_text(text)
            names.append(f"app.pkg{p}.{name}")
    (src / "app" / "__init__.py").write_text("")
    main = ["import importlib"]
    main += [f"import {m}" for m in STDLIB]
    main += [f"import {m}" for m in names]
    (src / "app" / "main.py").write_text("\n".join(main) + "\n")
    return len(names), lines


def snapshot(root: Path) -> Dict[str, int]:
    return {str(p): p.lstat().st_mtime_ns for p in root.rglob("*")}


def set_writable(root: Path, writable: bool) -> None:
    for p in [root, *root.rglob("*")]:
        mode = p.lstat().st_mode & 0o7777
        os.chmod(p, (mode | 0o200) if writable else (mode & ~0o222))


def clean_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["LANG"] = "C.UTF-8"
    return env


class Runner:
    """Starts the application, through the launcher or the plain interpreter."""

    def __init__(self, python: str, work: Path, plain: bool) -> None:
        self.python = python
        self.work = work
        self.launcher: Optional[Path] = None
        self.how = "plain interpreter (-I -S, -B for the read-only cases)"
        if not plain:
            try:
                from embedcfg import build as _build

                built = _build.build(python, stderr=io.StringIO())
                self.launcher = built.launcher
                self.how = f"launcher {built.launcher}"
            except Exception as e:  # noqa: BLE001 - any failure: fall back, and say why
                self.how += f" (launcher unavailable: {str(e).splitlines()[0]})"
        code = ("import json, os, sysconfig; print(json.dumps([sysconfig.get_path('stdlib'),"
                " os.path.join(sysconfig.get_path('platstdlib'), 'lib-dynload')]))")
        self.stdlib = json.loads(subprocess.run([python, "-I", "-S", "-c", code],
                                                capture_output=True, text=True, check=True,
                                                env=clean_env()).stdout)

    def document(self, src: Path, mode: PycacheMode) -> EmbedConfig:
        return EmbedConfig(options={"module_search_paths": [*self.stdlib, str(src)],
                                    "site_import": False, "run_module": "app.main"},
                           pycache=Pycache(mode=mode))

    def command(self, src: Path, mode: PycacheMode, name: str) -> List[str]:
        if self.launcher is not None:
            doc = self.work / f"{name}.json"
            doc.write_bytes(codec.canonical(self.document(src, mode)))
            return [str(self.launcher), str(doc)]
        flags = ["-I", "-S"] + (["-B"] if mode is PycacheMode.READONLY else [])
        return [self.python, *flags, "-c",
                f"import sys, runpy; sys.path.append({str(src)!r});"
                " runpy.run_module('app.main', run_name='__main__')"]


def timed(cmd: Sequence[str]) -> Tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system) of one start.

    CPU time is far steadier than wall-clock time on a shared machine: it
    does not count the time the process waited for a core."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=clean_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"start failed ({proc.returncode}): {err.decode()[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable, type=_interpreters.resolve,
                    help="the interpreter: a path, or a minor such as 3.14")
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--plain", action="store_true", help="do not use the launcher")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="embedcfg-cold-"))
    try:
        runner = Runner(args.python, work, args.plain)
        trees = {name: work / name for name in ("nocache", "precompiled", "warm")}
        modules, lines = generate(trees["nocache"])
        for name in ("precompiled", "warm"):
            shutil.copytree(trees["nocache"], trees[name])
        size = sum(p.stat().st_size for p in (trees["nocache"] / "src").rglob("*.py"))

        t0 = time.perf_counter()
        result = precompile(runner.document(trees["precompiled"] / "src", PycacheMode.READONLY),
                            python=args.python)
        precompile_s = time.perf_counter() - t0
        if not result.ok:
            raise SystemExit(f"precompile failed: {result.failed[:3]}")
        warm_cmd = runner.command(trees["warm"] / "src", PycacheMode.DEFAULT, "warm")
        timed(warm_cmd)  # fills the writable __pycache__
        for name in ("nocache", "precompiled"):
            set_writable(trees[name], False)
        before = {n: snapshot(trees[n]) for n in ("nocache", "precompiled")}

        scenarios: Dict[str, Callable[[], Tuple[float, float]]] = {
            "no cache": lambda: timed(runner.command(trees["nocache"] / "src",
                                                     PycacheMode.READONLY, "nocache")),
            "precompile+readonly": lambda: timed(runner.command(
                trees["precompiled"] / "src", PycacheMode.READONLY, "precompiled")),
            "warm writable": lambda: timed(warm_cmd),
        }
        wall: Dict[str, List[float]] = {k: [] for k in scenarios}
        cpu: Dict[str, List[float]] = {k: [] for k in scenarios}
        names = list(scenarios)
        for i in range(args.starts):
            # interleaved, in a rotating order: no scenario always follows
            # the expensive one
            for name in names[i % 3:] + names[:i % 3]:
                w, c = scenarios[name]()
                wall[name].append(w)
                cpu[name].append(c)
        for n in ("nocache", "precompiled"):
            if snapshot(trees[n]) != before[n]:
                raise SystemExit(f"the read-only tree {n} was written to")

        print(f"embedcfg cold start: {modules} modules ({lines} lines, {size // 1024} KiB of"
              f" source) + {len(STDLIB)} stdlib imports, {args.starts} starts each")
        print(f"python: {args.python} (CPython {'.'.join(map(str, result.version))})")
        print(f"started through: {runner.how}")
        print(f"precompile: {result.summary()} (wall {precompile_s:.2f}s)")
        print(f"  {'':<22} {'wall median':>12} {'wall min':>10} {'CPU median':>12}")
        for k in scenarios:
            print(f"  {k:<22} {statistics.median(wall[k]) * 1000:9.1f} ms"
                  f" {min(wall[k]) * 1000:7.1f} ms {statistics.median(cpu[k]) * 1000:9.1f} ms")
        for label, data, stat in (("CPU time medians", cpu, statistics.median),
                                  ("wall clock medians", wall, statistics.median),
                                  ("CPU time minimums", cpu, min)):
            med = {k: stat(v) for k, v in data.items()}
            ratio_warm = med["precompile+readonly"] / med["warm writable"]
            speedup = med["no cache"] / med["precompile+readonly"]
            print(f"{label}: precompile+readonly / warm writable = {ratio_warm:.3f}x"
                  f" (target <= 1.05x: {'met' if ratio_warm <= 1.05 else 'NOT met'});"
                  f" no cache / precompile+readonly = {speedup:.2f}x")
        return 0
    finally:
        if work.exists():
            set_writable(work, True)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
