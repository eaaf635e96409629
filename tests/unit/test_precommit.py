"""The pre-commit hook definition."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent


def _hook() -> dict:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return hook


def test_hook_shape() -> None:
    """One python hook, id embedcfg-validate, running the validate command."""
    hook = _hook()
    assert hook["id"] == "embedcfg-validate"
    assert hook["language"] == "python"
    assert shlex.split(hook["entry"]) == ["embedcfg", "validate"]


def test_hook_file_pattern() -> None:
    """The pattern picks embedcfg documents and leaves other files alone."""
    files = re.compile(_hook()["files"])
    for name in ("embedcfg.toml", "conf/app.embedcfg.json", "deploy/prod-embedcfg.toml"):
        assert files.search(name), name
    for name in ("pyproject.toml", "package.json", "embedcfg/options.py"):
        assert not files.search(name), name


def test_hook_command_runs(tmp_path: Path) -> None:
    """The entry, as pre-commit runs it (with file names appended), exits 1 on a bad file."""
    bad = tmp_path / "embedcfg.toml"
    bad.write_text("version = 1\n[options]\nutf8_mode = 5\n")
    good = tmp_path / "app.embedcfg.json"
    good.write_text('{"version": 1}')
    entry = shlex.split(_hook()["entry"])
    script = Path(sys.executable).parent / entry[0]
    proc = subprocess.run([str(script), *entry[1:], str(good)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    proc = subprocess.run([str(script), *entry[1:], str(good), str(bad)], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "EC100" in proc.stdout
