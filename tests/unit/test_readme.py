"""The README's quick start: exactly two commands, and both work."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent.parent


def _quick_start() -> List[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_document_snippets_validate() -> None:
    """Every TOML/JSON document the README shows is valid."""
    from embedcfg import _api, codec

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    snippets = re.findall(r"```(toml|json)\n(.*?)```", text, re.S)
    assert snippets
    for lang, body in snippets:
        _, problems = _api.check_parsed(codec.parse(body, lang, file="README.md"))
        assert [(p.code, p.pointer) for p in problems] == [], body


def test_two_commands_and_ci_runs_the_second() -> None:
    """Two one-line commands; .ci/run runs the second one verbatim."""
    commands = _quick_start()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_first_command_runs_the_example_on_a_fresh_copy(tmp_path: Path) -> None:
    """On a copy of the tracked files, the first command installs embedcfg,
    validates the examples and runs the example application."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    copy = tmp_path / "checkout"
    for name in files:
        src = ROOT / name
        if src.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["EMBEDCFG_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.run(["bash", "-c", _quick_start()[0]], cwd=copy, env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "hello from CPython" in proc.stdout
    assert "utf-8 mode:      True" in proc.stdout
    assert "embedcfg: building shim" in proc.stderr
