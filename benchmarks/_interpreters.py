"""The interpreters the benchmarks measure, and how they run them.

``--python`` for the benchmarks is a path, or a CPython minor such as
``3.14``: a minor is looked up as the tests find interpreters
(:mod:`tests.pythons`): pyenv's builds, and the 3.14 test-data build beside
the checkout. Tools a benchmark installs into an interpreter (PyInstaller,
pyperf) are kept in a cache directory made by :func:`cached`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, Sequence

ROOT = Path(__file__).resolve().parent.parent


def resolve(spec: str) -> str:
    """The interpreter ``spec`` names; SystemExit with the reason when a minor is absent."""
    match = re.fullmatch(r"(\d+)\.(\d+)", spec)
    if match is None:
        return spec
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.pythons import installed_pythons, missing_reason

    minor = (int(match.group(1)), int(match.group(2)))
    found = installed_pythons().get(minor)
    if found is None:
        raise SystemExit(missing_reason(minor))
    return str(found)


def clean_env() -> Dict[str, str]:
    """The environment of every measured run: none of the machine's
    ``PYTHON*`` variables (it exports some), a UTF-8 locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["LANG"] = "C.UTF-8"
    return env


def last_line(text: str) -> str:
    """The last non-blank line of a tool's output, for a one-line error."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


class Unavailable(Exception):
    """A tool a benchmark installs or builds cannot be had; the message says why."""


def install_step(cmd: Sequence[str], what: str) -> None:
    """Run one step of making a cached tool (``pip install``, ``venv``):
    :class:`Unavailable` naming ``what`` and pip's last line when it fails."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, env=clean_env(),
                              timeout=900, check=False)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{what} took more than 15 minutes")
    if proc.returncode != 0:
        raise Unavailable(f"{what} failed: {last_line(proc.stderr)}")


def cached(final: Path, make: Callable[[Path], None]) -> Path:
    """``final``, made the first time by ``make(tmp)`` in a temporary
    directory beside it and renamed into place: a half-made directory is
    never used, and two processes making it at once both end with one."""
    if (final / "ready").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="." + final.name + "-", dir=final.parent))
    try:
        make(tmp)
        (tmp / "ready").write_text("ok\n")
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "ready").is_file():  # not another process's: a real error
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
