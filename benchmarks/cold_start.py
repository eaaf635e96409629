"""Cold start: precompiled trees, packed archives, zipimport and PyInstaller.

An application of 300 generated modules of realistic size (classes,
functions, docstrings, annotations, comprehensions; 60-400 lines each, in
10 packages) plus 50 standard-library imports is started ``--starts`` times
(default 20) in each of these ways, interleaved in a rotating order so that
machine noise and order effects hit all alike:

* ``no cache``: a read-only tree without bytecode, pycache mode
  ``readonly``: every start compiles every module of the application;
* ``precompile + readonly``: the same tree after ``embedcfg precompile``,
  pycache mode ``readonly``;
* ``warm __pycache__`` (the baseline): a writable tree whose ``__pycache__``
  a first run filled, pycache mode ``default``;
* ``packed app``: the application in one archive (``embedcfg pack``,
  ``position = "before_path"``), the standard library from the file system;
* ``packed app + stdlib``: one archive with the application and the standard
  library (``embedcfg pack --stdlib``), ``module_search_paths`` holding only
  ``lib-dynload`` (with a shim that installs archives only after init, the
  standard library directory stays on the path for init's ``encodings``:
  the output says which);
* ``zipimport``: CPython's own zip import: an uncompressed zip of the same
  ``.pyc`` files (the code objects of that archive, compiled by the target
  interpreter) and ``lib-dynload`` as ``module_search_paths``;
* ``PyInstaller onedir``: a PyInstaller onedir build of the same application,
  PyInstaller installed with pip into a venv of the target interpreter kept
  in the build cache (``--no-pyinstaller`` leaves the row out; without the
  package index the row says why and the rest runs).

Every row but PyInstaller's starts through the launcher built by
:mod:`embedcfg.build` (``--plain``, or a launcher that cannot be built: the
first three rows through the plain interpreter with the equivalent flags,
``-I -S``, ``-B`` for the read-only cases, and no archive or zip rows). One
start of each row first writes which modules it loaded and by which loader:
every row must load the whole application, and the output says how each
differs from the baseline. The table gives, in CPU time (user + system of
the started process: steady on a shared machine), the median, the minimum,
the ratio to ``warm __pycache__`` and to ``PyInstaller onedir``, the median
system time (the kernel's share: file system calls, page faults; Linux splits
user and system time by tick samples, so it is indicative), the wall-clock
median, and with ``--callgrind`` the instructions of one start (noise-free;
PyInstaller's bootloader re-executes itself: only its last image is counted).
The targets: precompile + readonly within 1.05x of the warm cache (issue 5);
packed app + stdlib at most 0.80x of the warm cache and of PyInstaller onedir.
Last, the on-disk size of ``embedcfg bundle``'s directory for the same
application and of the bundle equivalent (launcher, shim, archive, all of
lib-dynload, a copy of libpython) beside PyInstaller's ``dist/``.

    python benchmarks/cold_start.py [--python PYTHON|3.14] [--starts 20] [--plain]
        [--no-pyinstaller] [--callgrind] [--keep]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _callgrind  # noqa: E402  (benchmarks/, the script's directory)
import _interpreters  # noqa: E402
import _pyinstaller  # noqa: E402
from embedcfg import codec  # noqa: E402
from embedcfg.model import (Archive, ArchivePosition, EmbedConfig, Pycache,  # noqa: E402
                            PycacheMode)
from embedcfg.pack import pack, read_archive_file  # noqa: E402
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

#: Names the file that a start writes its report to (the modules it loaded,
#: and by which loader), when set.
REPORT_ENV = "COLD_START_REPORT"
#: Modules whose loader the report names: one of the application, one of
#: the standard library, and the one init imports from the file system.
PROBES = ("app.pkg0.mod1", "json", "encodings")
# The end of app/main.py: a start with REPORT_ENV set reports what it loaded.
REPORT = f"""
import os as _os
if _os.environ.get({REPORT_ENV!r}):
    import json as _json
    import sys as _sys

    def _loader(name):
        loader = getattr(_sys.modules.get(name), "__loader__", None)
        # a class (frozen, builtin), a module (the shim's archive finder), an object
        return getattr(loader, "__name__", None) or type(loader).__name__

    with open(_os.environ[{REPORT_ENV!r}], "w") as _f:
        _json.dump({{"modules": sorted(_sys.modules),
                    "loaders": {{n: _loader(n) for n in {PROBES!r}}}}}, _f)
"""


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
    (src / "app" / "main.py").write_text("\n".join(main) + "\n" + REPORT)
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


def disk_size(path: Path) -> int:
    """Bytes of a file, or of the files under a directory (links not followed)."""
    if not path.is_dir():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


class Runner:
    """Starts the application, through the launcher or the plain interpreter."""

    def __init__(self, python: str, work: Path, plain: bool) -> None:
        self.python = python
        self.work = work
        self.launcher: Optional[Path] = None
        self.shim: Optional[Path] = None
        self.libpython: Optional[str] = None
        self.how = "plain interpreter (-I -S, -B for the read-only cases)"
        if not plain:
            try:
                from embedcfg import build as _build

                built = _build.build(python, stderr=io.StringIO())
                self.launcher, self.shim, self.libpython = (built.launcher, built.shim,
                                                            built.libpython)
                self.how = f"launcher {built.launcher}"
            except Exception as e:  # noqa: BLE001 - any failure: fall back, and say why
                self.how += f" (launcher unavailable: {str(e).splitlines()[0]})"
        code = ("import json, os, sysconfig; print(json.dumps([sysconfig.get_path('stdlib'),"
                " os.path.join(sysconfig.get_path('platstdlib'), 'lib-dynload')]))")
        self.stdlib, self.dynload = json.loads(subprocess.run(
            [python, "-I", "-S", "-c", code], capture_output=True, text=True, check=True,
            env=clean_env()).stdout)

    def document(self, paths: Sequence[str], mode: PycacheMode,
                 archives: Sequence[Path] = ()) -> EmbedConfig:
        return EmbedConfig(options={"module_search_paths": list(paths), "site_import": False,
                                    "run_module": "app.main"},
                           pycache=Pycache(mode=mode),
                           archives=[Archive(path=str(a), position=ArchivePosition.BEFORE_PATH)
                                     for a in archives])

    def launch(self, name: str, doc: EmbedConfig) -> List[str]:
        """The launcher's command line for ``doc`` (written as ``name``.json)."""
        assert self.launcher is not None
        path = self.work / f"{name}.json"
        path.write_bytes(codec.canonical(doc))
        return [str(self.launcher), str(path)]

    def command(self, src: Path, mode: PycacheMode, name: str) -> List[str]:
        """A start from the source tree ``src``, the standard library from the file system."""
        if self.launcher is not None:
            return self.launch(name, self.document([self.stdlib, self.dynload, str(src)], mode))
        flags = ["-I", "-S"] + (["-B"] if mode is PycacheMode.READONLY else [])
        return [self.python, *flags, "-c",
                f"import sys, runpy; sys.path.append({str(src)!r});"
                " runpy.run_module('app.main', run_name='__main__')"]


def zip_from_archive(archive: Path, out: Path) -> int:
    """Write the modules of ``archive`` as an uncompressed zip of ``.pyc`` files
    (no sources, so zipimport checks no timestamps); return the entry count."""
    info = read_archive_file(str(archive))
    header = info.magic + struct.pack("<III", 0, 0, 0)  # timestamp pyc, no source to check
    stamp = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for m in info.modules:
            name = m.name.replace(".", "/") + ("/__init__.pyc" if m.is_package else ".pyc")
            z.writestr(zipfile.ZipInfo(name, stamp), header + m.code)
        for d in info.data:
            z.writestr(zipfile.ZipInfo(d.name, stamp), d.data)
    return len(info.modules) + len(info.data)


def run_once(cmd: Sequence[str], report: Optional[Path] = None) -> Tuple[int, str]:
    """One start: its exit status and standard error; with ``report``, the
    application writes what it loaded there."""
    env = clean_env()
    if report is not None:
        env[REPORT_ENV] = str(report)
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    return proc.returncode, proc.stderr.decode(errors="replace")


def timed(cmd: Sequence[str]) -> Tuple[float, float, float]:
    """Wall-clock seconds, CPU seconds (user + system) and system seconds of one start.

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
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_stime


BASELINE = "warm __pycache__"
PYINSTALLER = "PyInstaller onedir"
PACKED_ALL = "packed app + stdlib"
ROWS = ("no cache", "precompile + readonly", BASELINE, "packed app", PACKED_ALL, "zipimport",
        PYINSTALLER)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable, type=_interpreters.resolve,
                    help="the interpreter: a path, or a minor such as 3.14")
    ap.add_argument("--starts", type=int, default=20, help="starts of each row (default 20)")
    ap.add_argument("--plain", action="store_true", help="do not use the launcher")
    ap.add_argument("--no-pyinstaller", action="store_true",
                    help="leave out the PyInstaller row (it installs PyInstaller with pip)")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count the instructions of one start of each row")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (the trees, archives, documents and"
                    " builds, to profile a row by hand) and print where it is")
    args = ap.parse_args(argv)
    if args.starts < 1:
        ap.error("--starts must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="embedcfg-cold-"))
    try:
        return _run(args, work)
    finally:
        if args.keep:
            print(f"kept: {work}")
        elif work.exists():
            set_writable(work, True)
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> int:
    runner = Runner(args.python, work, args.plain)
    trees = {name: work / name for name in ("nocache", "precompiled", "warm")}
    modules, lines = generate(trees["nocache"])
    for name in ("precompiled", "warm"):
        shutil.copytree(trees["nocache"], trees[name])
    size = sum(p.stat().st_size for p in (trees["nocache"] / "src").rglob("*.py"))
    src = trees["nocache"] / "src"
    app_modules = {str(p.relative_to(src).with_suffix("")).replace("/", ".")
                   .replace(".__init__", "") for p in src.rglob("*.py")}
    app_modules.discard("app.main")  # run as __main__ (but imported by PyInstaller's entry)
    info: List[str] = []  # how each row was made, printed before the table

    t0 = time.perf_counter()
    result = precompile(runner.document([runner.stdlib, runner.dynload,
                                         str(trees["precompiled"] / "src")],
                                        PycacheMode.READONLY), python=args.python)
    if not result.ok:
        raise SystemExit(f"precompile failed: {result.failed[:3]}")
    info.append(f"precompile: {result.summary()} (wall {time.perf_counter() - t0:.2f}s)")

    cmds: Dict[str, List[str]] = {}
    absent: Dict[str, str] = {}  # row -> why it was not measured
    cmds["no cache"] = runner.command(trees["nocache"] / "src", PycacheMode.READONLY, "nocache")
    cmds["precompile + readonly"] = runner.command(trees["precompiled"] / "src",
                                                   PycacheMode.READONLY, "precompiled")
    cmds[BASELINE] = runner.command(trees["warm"] / "src", PycacheMode.DEFAULT, "warm")
    timed(cmds[BASELINE])  # fills the writable __pycache__

    packs = work / "packs"
    packs.mkdir()
    sizes: Dict[str, int] = {}
    if runner.launcher is None:
        for row in ("packed app", PACKED_ALL, "zipimport"):
            absent[row] = "needs the launcher"
    else:
        # The document to pack holds the application's directory only: pack
        # adds the standard library with --stdlib (and, on this branch, a
        # standard-library entry on the path without --stdlib makes it fail).
        source_doc = runner.document([str(src)], PycacheMode.READONLY)
        made = []
        for name, stdlib in (("app.pack", False), ("all.pack", True)):
            t0 = time.perf_counter()
            packed = pack(source_doc, str(packs / name), python=args.python,
                          include_stdlib=stdlib)
            if not packed.ok:
                raise SystemExit(f"pack failed: {packed.failed[:3]}")
            made.append(f"{packed.modules} modules{' with --stdlib' if stdlib else ''},"
                        f" {mib(packed.size)} in {time.perf_counter() - t0:.1f}s")
        info.append("pack: " + "; ".join(made))
        cmds["packed app"] = runner.launch("packed-app", runner.document(
            [runner.stdlib, runner.dynload], PycacheMode.READONLY, [packs / "app.pack"]))
        # Only lib-dynload on the path; a shim that installs archives after
        # init needs the standard library directory there for encodings.
        cmd = runner.launch("packed-all", runner.document(
            [runner.dynload], PycacheMode.READONLY, [packs / "all.pack"]))
        status, err = run_once(cmd)
        if status == 0:
            info.append(f"{PACKED_ALL}: module_search_paths = [lib-dynload]")
        elif "encodings" in err:
            cmd = runner.launch("packed-all", runner.document(
                [runner.stdlib, runner.dynload], PycacheMode.READONLY, [packs / "all.pack"]))
            info.append(f"{PACKED_ALL}: module_search_paths = [stdlib, lib-dynload]: this shim"
                        " installs archives after init, which needs the stdlib directory"
                        " for encodings (with lib-dynload alone: "
                        f"{err.strip().splitlines()[-1].split(': ', 3)[-1][:100]}...)")
        else:
            raise SystemExit(f"{PACKED_ALL} failed ({status}): {err[-2000:]}")
        cmds[PACKED_ALL] = cmd
        entries = zip_from_archive(packs / "all.pack", packs / "all.zip")
        info.append(f"zipimport: {entries} entries, {mib((packs / 'all.zip').stat().st_size)},"
                    " stored (uncompressed), the .pyc files of the --stdlib archive's code"
                    " objects; module_search_paths = [the zip, lib-dynload]")
        cmds["zipimport"] = runner.launch("zipimport", runner.document(
            [str(packs / "all.zip"), runner.dynload], PycacheMode.READONLY))
        sizes = {"launcher": disk_size(runner.launcher), "shim": disk_size(runner.shim)
                 if runner.shim else 0, "archive": disk_size(packs / "all.pack"),
                 "lib-dynload": disk_size(Path(runner.dynload)),
                 "libpython": disk_size(Path(os.path.realpath(runner.libpython)))
                 if runner.libpython else 0}

    # The size of `embedcfg bundle`'s directory for the same application.
    bundled: Optional[Tuple[int, str]] = None
    try:
        from embedcfg.bundle import bundle
    except ImportError:
        pass
    else:
        made_b = bundle(runner.document([str(src)], PycacheMode.READONLY), str(work / "bundle"),
                        config_dir=str(work), name="app", python=args.python)
        bundled = (made_b.size, f"{len(made_b.files)} files" if made_b.ok
                   else made_b.summary())
    dist_size: Optional[int] = None
    if args.no_pyinstaller:
        absent[PYINSTALLER] = "left out (--no-pyinstaller)"
    else:
        from embedcfg.build import cache_dir

        try:
            venv, version = _pyinstaller.venv(args.python, cache_dir() / "bench")
            build = work / "pyinstaller"
            shutil.copytree(src, build / "src")  # PyInstaller may write into the tree
            (build / "entry.py").write_text("import app.main  # noqa: F401\n")
            exe, dist, seconds = _pyinstaller.onedir(venv, build / "entry.py", [build / "src"],
                                                     ["app.main"], build)
            cmds[PYINSTALLER] = [str(exe)]
            dist_size = disk_size(dist)
            info.append(f"PyInstaller {version} (venv {venv.parent.parent}): onedir built in"
                        f" {seconds:.0f}s")
        except _pyinstaller.Unavailable as e:
            absent[PYINSTALLER] = f"not measured: {e}"

    for n in ("nocache", "precompiled"):
        set_writable(trees[n], False)
    before = {n: snapshot(trees[n]) for n in ("nocache", "precompiled")}

    # One start of each row reports what it loaded: the whole application,
    # by the loader the row is about.
    reports: Dict[str, Dict[str, object]] = {}
    for row, cmd in cmds.items():
        out = work / f"report-{len(reports)}.json"
        status, err = run_once(cmd, out)
        if status != 0:
            raise SystemExit(f"{row}: the start failed ({status}): {err[-2000:]}")
        reports[row] = json.loads(out.read_text())
        missing = app_modules - set(reports[row]["modules"])  # type: ignore[call-overload]
        if missing:
            raise SystemExit(f"{row}: {len(missing)} application modules were not loaded,"
                             f" such as {sorted(missing)[:3]}")

    names = [r for r in ROWS if r in cmds]
    wall: Dict[str, List[float]] = {k: [] for k in names}
    cpu: Dict[str, List[float]] = {k: [] for k in names}
    system: Dict[str, List[float]] = {k: [] for k in names}
    for i in range(args.starts):
        # interleaved, in a rotating order: no row always follows the expensive one
        k = i % len(names)
        for name in names[k:] + names[:k]:
            w, c, kernel = timed(cmds[name])
            wall[name].append(w)
            cpu[name].append(c)
            system[name].append(kernel)
    for n in ("nocache", "precompiled"):
        if snapshot(trees[n]) != before[n]:
            raise SystemExit(f"the read-only tree {n} was written to")
    counts: Dict[str, Optional[int]] = {}
    if args.callgrind:
        for name in names:
            counts[name] = _callgrind.instructions(cmds[name], env=clean_env(),
                                                   follow_exec=name == PYINSTALLER)

    print(f"embedcfg cold start: {modules} modules ({lines} lines, {size // 1024} KiB of"
          f" source) + {len(STDLIB)} stdlib imports, {args.starts} starts each")
    print(f"python: {args.python} (CPython {'.'.join(map(str, result.version))})")
    print(f"started through: {runner.how}")
    for line in info:
        print(line)
    base_modules = set(reports[BASELINE]["modules"])  # type: ignore[call-overload]
    print(f"loaded (one start of each row, each loads all {len(app_modules)} application"
          f" modules; {BASELINE}: {len(base_modules)} modules):")
    for name in names:
        loaded = set(reports[name]["modules"])  # type: ignore[call-overload]
        more, fewer = sorted(loaded - base_modules), sorted(base_modules - loaded)
        diff = " ".join([f"+{len(more)}", *more[:3], "..." * (len(more) > 3),
                         f"-{len(fewer)}", *fewer[:3], "..." * (len(fewer) > 3)])
        loaders = ", ".join(f"{k}: {v}" for k, v in
                            reports[name]["loaders"].items())  # type: ignore[attr-defined]
        print(f"  {name:<22} {diff:<50} {loaders}")

    med = {k: statistics.median(v) for k, v in cpu.items()}
    base = med[BASELINE]
    pyi = med.get(PYINSTALLER)
    print(f"  {'CPU time':<22} {'median':>9} {'min':>9} {'/ warm':>7} {'/ PyInst':>9}"
          f" {'of it sys':>10} {'wall median':>12}"
          + (f" {'instructions':>14}" if args.callgrind else ""))
    for name in ROWS:
        if name not in cmds:
            print(f"  {name:<22} {absent[name]}")
            continue
        ratio_pyi = f"{med[name] / pyi:6.3f}x" if pyi else f"{'-':>7}"
        count = counts.get(name)
        print(f"  {name:<22} {med[name] * 1000:6.1f} ms {min(cpu[name]) * 1000:6.1f} ms"
              f" {med[name] / base:6.3f}x {ratio_pyi:>9}"
              f" {statistics.median(system[name]) * 1000:7.1f} ms"
              f" {statistics.median(wall[name]) * 1000:9.1f} ms"
              + (f" {count:14,}" if count is not None else
                 (f" {'(no valgrind)':>14}" if args.callgrind else "")))

    def target(row: str, ref: str, limit: float) -> str:
        label = f"target: {row} <= {limit:.2f}x {ref} (CPU medians): "
        if row not in med or ref not in med:
            missing = row if row not in med else ref
            return label + f"not measured ({missing}: {absent[missing]})"
        ratio = med[row] / med[ref]
        text = label + f"{ratio:.3f}x, {'met' if ratio <= limit else 'NOT met'}"
        text += f"; CPU minimums {min(cpu[row]) / min(cpu[ref]):.3f}x"
        if counts.get(row) and counts.get(ref):
            text += f"; instructions {counts[row] / counts[ref]:.3f}x"  # type: ignore[operator]
        return text

    print(target("precompile + readonly", BASELINE, 1.05))
    print(target(PACKED_ALL, BASELINE, 0.80))
    print(target(PACKED_ALL, PYINSTALLER, 0.80))
    if "no cache" in med:
        print(f"no cache / precompile + readonly = "
              f"{med['no cache'] / med['precompile + readonly']:.2f}x")
    if bundled is not None:
        print(f"on disk: embedcfg bundle directory {mib(bundled[0])} ({bundled[1]})")
    if sizes:
        parts = ", ".join(f"{k} {mib(v)}" for k, v in sizes.items())
        print(f"on disk: embedcfg bundle equivalent ({PACKED_ALL}) {mib(sum(sizes.values()))}"
              f" ({parts})")
    print(f"on disk: PyInstaller dist/ {mib(dist_size)}" if dist_size is not None else
          f"on disk: PyInstaller dist/: {absent[PYINSTALLER]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
