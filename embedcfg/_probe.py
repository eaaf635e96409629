"""Run a small script in another interpreter and read the JSON it prints."""

from __future__ import annotations

import json
import subprocess
from typing import Any, List, Mapping


def run_json(python: str, flags: List[str], code: str, *, env: Mapping[str, str],
             timeout: float) -> Any:
    """``python *flags -c code``'s standard output, parsed as JSON.

    Raises ValueError with a message for the user when the interpreter
    cannot be run, fails, or does not answer with JSON.
    """
    try:
        proc = subprocess.run([python, *flags, "-c", code], capture_output=True, text=True,
                              timeout=timeout, env=dict(env), check=False)
    except (OSError, subprocess.SubprocessError) as e:
        raise ValueError(f"cannot run {python!r}: {e}") from e
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"{python!r} exited with status {proc.returncode}: {last}")
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        raise ValueError(f"{python!r} did not answer like a CPython interpreter") from e
