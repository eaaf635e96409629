"""PyInstaller builds (onedir, onefile) for the benchmarks, made by the target interpreter.

PyInstaller freezes the interpreter that runs it, so it is installed
(``pip install pyinstaller``, from the package index) into a venv of the
target interpreter, kept in a cache directory: one venv per interpreter,
created once, then reused. The build itself runs offline.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path
from typing import List, Sequence, Tuple

from _interpreters import Unavailable, cached, clean_env, install_step, last_line

__all__ = ["Unavailable", "venv", "onedir", "onefile"]


def venv(python: str, cache: Path) -> Tuple[Path, str]:
    """The Python of a venv of ``python`` with PyInstaller installed, and
    PyInstaller's version. Creates the venv in ``cache`` the first time
    (atomically: a half-made venv is never used)."""
    real = os.path.realpath(python)
    final = cache / f"pyinstaller-{hashlib.sha256(real.encode()).hexdigest()[:16]}"

    def make(tmp: Path) -> None:
        steps = ([python, "-m", "venv", str(tmp)],
                 [str(tmp / "bin" / "python"), "-m", "pip", "install", "-q",
                  "--disable-pip-version-check", "pyinstaller"])
        for cmd in steps:
            install_step(cmd, " ".join(cmd[-2:]))

    exe = cached(final, make) / "bin" / "python"
    proc = subprocess.run([str(exe), "-m", "PyInstaller", "--version"], capture_output=True,
                          text=True, env=clean_env(), check=False)
    if proc.returncode != 0:
        raise Unavailable(f"PyInstaller in {final} does not run: {last_line(proc.stderr)}")
    return exe, proc.stdout.strip()


def onedir(venv_python: Path, entry: Path, paths: Sequence[Path], hidden: Sequence[str],
           work: Path, extra: Sequence[str] = ()) -> Tuple[Path, Path, float]:
    """Build ``entry`` as a onedir application in ``work``: its executable,
    its dist directory and the build's wall-clock seconds. ``extra``: more
    PyInstaller options (``--add-data``)."""
    seconds = _build(venv_python, entry, paths, hidden, work, ["--onedir", *extra])
    executable = work / "dist" / "app" / "app"
    if not executable.is_file():
        raise Unavailable(f"the PyInstaller build made no {executable}")
    return executable, work / "dist" / "app", seconds


def onefile(venv_python: Path, entry: Path, paths: Sequence[Path], hidden: Sequence[str],
            work: Path, extra: Sequence[str] = ()) -> Tuple[Path, float]:
    """Build ``entry`` as a onefile application in ``work`` (its bootloader
    unpacks everything into a temporary directory at every start): the
    executable and the build's wall-clock seconds."""
    seconds = _build(venv_python, entry, paths, hidden, work, ["--onefile", *extra])
    executable = work / "dist" / "app"
    if not executable.is_file():
        raise Unavailable(f"the PyInstaller build made no {executable}")
    return executable, seconds


def _build(venv_python: Path, entry: Path, paths: Sequence[Path], hidden: Sequence[str],
           work: Path, options: Sequence[str]) -> float:
    cmd: List[str] = [str(venv_python), "-m", "PyInstaller", "--noconfirm", *options,
                      "--name", "app", "--log-level", "WARN",
                      "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
                      "--specpath", str(work)]
    for path in paths:
        cmd += ["--paths", str(path)]
    for name in hidden:
        cmd += ["--hidden-import", name]
    start = time.perf_counter()
    proc = subprocess.run([*cmd, str(entry)], capture_output=True, text=True, env=clean_env(),
                          timeout=1800, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise Unavailable(f"the PyInstaller build failed ({proc.returncode}):"
                          f" {last_line(proc.stderr)}")
    return elapsed
