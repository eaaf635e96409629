"""The CPython interpreters installed on this machine, for tests that launch them.

Found through pyenv (``pyenv root`` and ``pyenv versions --bare``), one per
minor from 3.8 to 3.14 (free-threaded ``t`` builds left out); tests skip a
minor that is absent and say so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Dict, Tuple

MINORS: Tuple[Tuple[int, int], ...] = tuple((3, m) for m in range(8, 15))


def pyenv_pythons() -> Dict[Tuple[int, int], Path]:
    """Installed CPython minor -> its ``bin/python3.X``, in version order."""
    found: Dict[Tuple[int, int], Path] = {}
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return found
    try:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()
        names = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True,
                               timeout=30, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return found
    for name in names:
        parts = name.split(".")
        if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
            continue
        minor = (int(parts[0]), int(parts[1]))
        exe = Path(root, "versions", name, "bin", f"python{minor[0]}.{minor[1]}")
        if minor in MINORS and exe.exists() and not name.endswith("t"):
            found.setdefault(minor, exe)
    return dict(sorted(found.items()))
