"""examples/ci: the GitHub Actions workflow and the pre-commit configuration
run embedcfg commands that pass on this repository's examples."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
CI = ROOT / "examples" / "ci"
BIN = Path(sys.executable).parent


def _load(name: str) -> Dict[Any, Any]:
    return yaml.safe_load((CI / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _example_documents() -> List[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").rglob("*")
                  if p.suffix in (".toml", ".json") and "build" not in p.parts)


def test_workflow_shape() -> None:
    """A workflow run on push and pull requests that installs embedcfg and
    validates with --format github."""
    wf = _load("embedcfg-validate.yml")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert set(on) == {"push", "pull_request"}
    (job,) = wf["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert any("pip install embedcfg" in r for r in runs)
    assert any(r.startswith("embedcfg validate") and "--format github" in r for r in runs)


def test_workflow_commands_pass_on_the_examples() -> None:
    """Each `embedcfg` command of the workflow, run as the step's bash would run
    it, exits 0 on the examples, covers every example document and prints no
    annotation."""
    wf = _load("embedcfg-validate.yml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    commands = [line for job in wf["jobs"].values() for step in job["steps"]
                for line in step.get("run", "").splitlines() if line.startswith("embedcfg ")]
    assert commands
    for command in commands:
        proc = subprocess.run(["bash", "-e", "-c", command], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", ""), command
    expanded = subprocess.run(["bash", "-c", f"printf '%s\\n' {commands[-1].split(' ', 1)[1]}"],
                              cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert sorted(a for a in expanded.split() if a.endswith((".toml", ".json"))) == \
        _example_documents()


def test_workflow_annotates_a_bad_document(tmp_path: Path) -> None:
    """The same command on a bad document fails with an ::error annotation."""
    wf = _load("embedcfg-validate.yml")
    (command,) = [line for step in wf["jobs"]["validate"]["steps"]
                  for line in step.get("run", "").splitlines() if line.startswith("embedcfg ")]
    argv = [a for a in shlex.split(command) if not a.endswith((".toml", ".json"))]
    bad = tmp_path / "app.toml"
    bad.write_text("version = 1\n[options]\nutf8_mode = 5\n", encoding="utf-8")
    proc = subprocess.run([str(BIN / "embedcfg"), *argv[1:], str(bad)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"::error file={bad},line=3,col=")


def test_pre_commit_configuration_runs_the_hook_on_the_examples() -> None:
    """The snippet uses the repository's hook id; its entry, its args and the
    files its pattern selects (as pre-commit passes them) exit 0, and the
    pattern selects every example document."""
    (repo,) = _load("pre-commit-config.yaml")["repos"]
    (hook,) = repo["hooks"]
    (defined,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == defined["id"] == "embedcfg-validate"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    files = sorted(name for name in tracked if re.search(hook["files"], name))
    assert files == [d for d in _example_documents() if d in tracked]
    entry = shlex.split(defined["entry"])
    proc = subprocess.run([str(BIN / entry[0]), *entry[1:], *hook.get("args", []), *files],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
