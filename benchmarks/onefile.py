"""Start-up of a one-file application against the one-directory bundle.

The application is examples/bundle-app (wordstats: a package, a data file,
the standard library's json, unicodedata and zlib). It is bundled for
``--python`` in each of these ways and started ``--starts`` times (default
20) each, interleaved in a rotating order:

* ``onedir``: ``embedcfg bundle --link static`` (the baseline: the same
  static launcher, archive and lib-dynload files, as a directory);
* ``onefile``: ``embedcfg bundle --onefile``, extension modules loaded from
  memfds;
* ``onefile, extracted``: the same file with ``EMBEDCFG_ONEFILE_EXTRACT=1``
  (the fallback where memfd code cannot be mapped), after one start has
  extracted the modules;
* ``PyInstaller onedir`` and ``PyInstaller onefile`` (``pip install
  pyinstaller`` into a venv of the target, built offline): what a user would
  pick instead; its onefile bootloader unpacks everything into a temporary
  directory at every start.

Reports the CPU time (user + system of the process and its children: the
steadier figure on a shared machine) and wall time per row, their ratio to
``onedir``, the file sizes and, with valgrind, callgrind's instruction count
of one start of each embedcfg row. Target (issue 14): onefile within 1.10x
of onedir.

    python benchmarks/onefile.py [--python PYTHON|3.12] [--starts 20]
                                 [--no-callgrind] [--no-pyinstaller]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _callgrind  # noqa: E402  (benchmarks/, the script's directory)
import _interpreters  # noqa: E402
import _pyinstaller  # noqa: E402
from embedcfg import cli  # noqa: E402
from embedcfg.build import cache_dir  # noqa: E402

APP = ROOT / "examples" / "bundle-app"
TEXT = "the quick brown fox jumps over the lazy dog and the fox runs " * 4
BASELINE = "onedir"
ROWS = (BASELINE, "onefile", "onefile, extracted", "PyInstaller onedir",
        "PyInstaller onefile")


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["LANG"] = "C.UTF-8"
    env.update(extra)
    return env


def timed(cmd: Sequence[str], env: Dict[str, str]) -> Tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the process and the
    children it waited for) of one start."""
    import time

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]}: the start failed: {err.decode()[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def bundle(doc: Path, out: Path, python: str, *extra: str) -> None:
    status = cli.run(["bundle", str(doc), "-o", str(out), "--python", python, *extra],
                     open(os.devnull, "w"), sys.stderr)
    if status != 0:
        raise SystemExit(f"embedcfg bundle {' '.join(extra)} failed ({status})")


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable, type=_interpreters.resolve,
                   help="the CPython to bundle (a path, or 3.12 for pyenv's)")
    p.add_argument("--starts", type=int, default=20, help="starts per row")
    p.add_argument("--no-callgrind", dest="callgrind", action="store_false",
                   help="skip the instruction counts")
    p.add_argument("--no-pyinstaller", dest="pyinstaller", action="store_false",
                   help="leave PyInstaller out")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="embedcfg-onefile-") as tmp:
        return _run(args, Path(tmp))


def _run(args: argparse.Namespace, work: Path) -> int:
    app = work / "app"
    shutil.copytree(APP / "src", app / "src")
    doc = app / "wordstats.toml"
    shutil.copyfile(APP / "wordstats.toml.in", doc)
    bundle(doc, work / "onedir", args.python, "--link", "static")
    bundle(doc, work / "wordstats", args.python, "--onefile")
    extract_tmp = work / "extract-tmp"
    extract_tmp.mkdir(mode=0o700)
    env = clean_env()
    extract_env = clean_env(EMBEDCFG_ONEFILE_EXTRACT="1", TMPDIR=str(extract_tmp),
                            XDG_RUNTIME_DIR="")
    rows: Dict[str, Tuple[List[str], Dict[str, str], Path]] = {
        BASELINE: ([str(work / "onedir" / "bin" / "wordstats"), TEXT], env, work / "onedir"),
        "onefile": ([str(work / "wordstats"), TEXT], env, work / "wordstats"),
        "onefile, extracted": ([str(work / "wordstats"), TEXT], extract_env,
                               work / "wordstats"),
    }
    absent: Dict[str, str] = {}
    if args.pyinstaller:
        try:
            venv, version = _pyinstaller.venv(args.python, cache_dir() / "bench")
            entry = work / "entry.py"
            entry.write_text("import runpy\nrunpy.run_module('wordstats', run_name='__main__')\n")
            hidden = ["wordstats", "wordstats.text", "wordstats.__main__"]
            data = ["--add-data", f"{app / 'src' / 'wordstats' / 'data'}:wordstats/data"]
            pyi_dir, dist, _ = _pyinstaller.onedir(venv, entry, [app / "src"], hidden,
                                                   work / "pyi-dir", data)
            pyi_one, _ = _pyinstaller.onefile(venv, entry, [app / "src"], hidden,
                                              work / "pyi-one", data)
            rows["PyInstaller onedir"] = ([str(pyi_dir), TEXT], env, dist)
            rows["PyInstaller onefile"] = ([str(pyi_one), TEXT], env, pyi_one)
            print(f"PyInstaller {version}")
        except _pyinstaller.Unavailable as e:
            absent["PyInstaller onedir"] = absent["PyInstaller onefile"] = f"left out: {e}"
    else:
        absent["PyInstaller onedir"] = absent["PyInstaller onefile"] = (
            "left out (--no-pyinstaller)")
    for name, (cmd, row_env, _) in rows.items():  # warm-up; extracts once
        out = subprocess.run(cmd, env=row_env, capture_output=True, text=True, check=False)
        if out.returncode != 0 or "wordstats" not in out.stdout:
            raise SystemExit(f"{name}: the application did not run: {out.stderr[-2000:]}")

    names = [r for r in ROWS if r in rows]
    wall: Dict[str, List[float]] = {k: [] for k in names}
    cpu: Dict[str, List[float]] = {k: [] for k in names}
    for i in range(args.starts):
        k = i % len(names)  # rotating order: no row always follows the same one
        for name in names[k:] + names[:k]:
            w, c = timed(rows[name][0], rows[name][1])
            wall[name].append(w)
            cpu[name].append(c)
    counts: Dict[str, Optional[int]] = {}
    if args.callgrind:
        for name in names:
            if not name.startswith("PyInstaller"):  # its onefile runs a second process
                counts[name] = _callgrind.instructions(rows[name][0], env=rows[name][1])

    version = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, env=clean_env(),
                             check=True).stdout.strip()
    print(f"embedcfg one-file start-up: examples/bundle-app, CPython {version}"
          f" ({args.python}), {args.starts} starts per row, interleaved")
    base_cpu = statistics.median(cpu[BASELINE])
    base_wall = statistics.median(wall[BASELINE])
    base_ins = counts.get(BASELINE)
    print(f"  {'row':<22} {'CPU median':>11} {'/ onedir':>9} {'wall median':>12} {'/ onedir':>9}"
          f" {'size':>10}" + (f" {'instructions':>14} {'/ onedir':>9}" if counts else ""))
    for name in ROWS:
        if name not in rows:
            print(f"  {name:<22} {absent.get(name, 'left out')}")
            continue
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        line = (f"  {name:<22} {c * 1000:>8.1f} ms {c / base_cpu:>8.3f}x {w * 1000:>9.1f} ms"
                f" {w / base_wall:>8.3f}x {size_of(rows[name][2]) / (1 << 20):>6.1f} MiB")
        ins = counts.get(name)
        if ins is not None and base_ins:
            line += f" {ins / 1e6:>12.1f} M {ins / base_ins:>8.3f}x"
        print(line)
    ratio = statistics.median(cpu["onefile"]) / base_cpu
    verdict = "met" if ratio <= 1.10 else "missed"
    print(f"target: onefile CPU time within 1.10x of onedir: {ratio:.3f}x ({verdict})")
    if counts.get("onefile") and base_ins:
        print(f"instructions: onefile {counts['onefile'] / base_ins:.3f}x onedir")
    return 0


if __name__ == "__main__":
    sys.exit(main())
