"""embedcfg inspect: real interpreters' effective configuration as a document."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

import embedcfg
from embedcfg import _probe, cli, introspect
from embedcfg.options import OPTIONS
from tests.pythons import installed_pythons


INTERPRETERS = list(installed_pythons().values())


def _clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(extra)
    return env


def test_interpreters_found() -> None:
    """Report which CPython versions these tests ran on."""
    if not INTERPRETERS:
        pytest.skip("no pyenv CPython 3.8-3.14 on this machine")


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.name)
def test_inspect_reflects_the_environment(python: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHON* variables of the inspected process show up as option values, and the
    captured document validates against that very interpreter."""
    monkeypatch.setattr(os, "environ", _clean_env(PYTHONOPTIMIZE="2",
                                                  PYTHONDONTWRITEBYTECODE="1",
                                                  PYTHONWARNINGS="error::DeprecationWarning"))
    found = introspect.inspect(str(python))
    opts = found.config.options
    if found.version >= (3, 14):
        assert found.source == "PyConfig_Get (PEP 741)"  # public API since 3.14
    else:
        assert found.source == "_testinternalcapi.get_configs()"
    assert opts["optimization_level"] == 2
    assert opts["write_bytecode"] is False
    assert opts["warnoptions"] == ("error::DeprecationWarning",)
    assert opts["use_environment"] is True
    assert "argv" not in opts and found.skipped["argv"]
    monkeypatch.undo()
    assert embedcfg.validate(found.config, target=str(python)) == []


@pytest.mark.parametrize("python", INTERPRETERS[:1] + INTERPRETERS[-1:], ids=lambda p: p.name)
def test_inspect_without_test_modules_uses_sys(python: Path) -> None:
    """Builds without _testinternalcapi are read through sys.flags and sys attributes
    (3.8-3.13), or through PyConfig_Get (3.14+)."""
    code = ("import sys; sys.modules['_testinternalcapi'] = None\n" + _probe.script())
    proc = subprocess.run([str(python), "-X", "utf8", "-c", code], capture_output=True,
                          text=True, check=True, env=_clean_env(PYTHONOPTIMIZE="1"))
    found = introspect.from_probe(__import__("json").loads(proc.stdout))
    # 3.14 reads everything through PEP 741's PyConfig_Get, which needs no
    # test module: the sys fallback is for 3.8-3.13 builds only.
    assert found.source == ("PyConfig_Get (PEP 741)" if found.version >= (3, 14)
                            else "sys attributes")
    assert found.config.options["optimization_level"] == 1
    assert found.config.options["utf8_mode"] is True
    assert found.config.options["filesystem_encoding"] == "utf-8"


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.name)
def test_sys_flags_agree_with_the_whole_config(python: Path) -> None:
    """Every option options.py mirrors in sys.flags reads the same through the
    fallback as through _testinternalcapi (which is what the flag column and
    its inversions claim), with non-default values where they can be set."""
    env = _clean_env(PYTHONOPTIMIZE="2", PYTHONDONTWRITEBYTECODE="1", PYTHONVERBOSE="0")
    args = [str(python), "-X", "utf8", "-X", "dev", "-s", "-b", "-c"]
    full = subprocess.run([*args, _probe.script()], capture_output=True, text=True,
                          check=True, env=env)
    fallback = subprocess.run(
        [*args, "import sys; sys.modules['_testinternalcapi'] = None\n" + _probe.script()],
        capture_output=True, text=True, check=True, env=env)
    whole = introspect.from_probe(__import__("json").loads(full.stdout)).config.options
    flags = introspect.from_probe(__import__("json").loads(fallback.stdout)).config.options
    mirrored = [o.name for o in OPTIONS.values()
                if (o.sys_attr or "").startswith("flags.") and o.name in flags]
    assert len(mirrored) >= 13
    assert {n: flags[n] for n in mirrored} == {n: whole[n] for n in mirrored}
    assert flags["optimization_level"] == 2 and flags["write_bytecode"] is False
    assert flags["user_site_directory"] is False and flags["dev_mode"] is True


def test_inspect_running_interpreter() -> None:
    """Without --python, the interpreter running embedcfg is inspected in-process."""
    found = introspect.inspect()
    assert found.version == tuple(sys.version_info[:3])
    opts = found.config.options
    assert opts["optimization_level"] == sys.flags.optimize
    assert opts["use_environment"] is (not sys.flags.ignore_environment)
    assert opts["site_import"] is (not sys.flags.no_site)


def test_cli_inspect_toml_and_json() -> None:
    """The command prints a valid document; TOML carries the notes as comments."""
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["inspect"], out, err) == 0
    text = out.getvalue()
    assert text.startswith(f"# captured from CPython {sys.version.split()[0]}")
    assert embedcfg.validate(embedcfg.loads(text, "toml")) == []
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["inspect", "--format", "json"], out, err) == 0
    embedcfg.loads(out.getvalue(), "json")
    assert "captured from" in err.getvalue()


def test_cli_inspect_bad_python(tmp_path: Path) -> None:
    """An interpreter that cannot be run is a usage error."""
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["inspect", "--python", str(tmp_path / "nope")], out, err) == 2
    assert "cannot run" in err.getvalue()


def test_values_read_from_the_environment_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """An option a PYTHON* variable set says which variable it came from."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    found = introspect.inspect(sys.executable)
    assert found.config.options["write_bytecode"] is False
    assert found.from_environment["write_bytecode"] == "PYTHONDONTWRITEBYTECODE=1"


def test_clean_environment_captures_without_python_variables(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """clean_environment starts the interpreter without this process's PYTHON* variables."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    found = introspect.inspect(clean_environment=True)
    assert found.config.options["write_bytecode"] is True
    assert "write_bytecode" not in found.from_environment


def test_cli_inspect_says_what_came_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The TOML document carries one comment per value a PYTHON* variable set."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["inspect", "--python", sys.executable], out, err) == 0
    assert ("# from the environment: write_bytecode (PYTHONDONTWRITEBYTECODE=1);"
            " --clean-env captures without it\n") in out.getvalue()
