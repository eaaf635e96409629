"""The one interpreter probe (embedcfg._probe), run against this interpreter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import List

import pytest

from embedcfg import _probe, build, checks, introspect
from tests.pythons import pyenv_pythons


def test_one_target_type() -> None:
    """The build, the checks and inspect share one Target class."""
    assert build.Target is checks.Target is _probe.Target


def test_one_run_describes_everything() -> None:
    """A probed target carries the build's, the checks' and inspect's facts."""
    target = _probe.probe(sys.executable)
    assert target.version == tuple(sys.version_info[:3])
    assert target.versions == (tuple(sys.version_info[:2]),)
    assert target.hexversion == sys.hexversion
    assert sysconfig.get_paths()["include"] in target.includes
    assert target.stdlib is not None and "json" in target.stdlib
    assert target.builds is not None
    assert target.config["isolated"] == 1 and target.config_source


def test_build_and_checks_probe_alike() -> None:
    """build.probe and checks.inspect_target return the same description."""
    assert build.probe(sys.executable) == checks.inspect_target(sys.executable)


def test_isolated_probe_ignores_the_environment() -> None:
    """By default PYTHON* variables of this process do not reach the target."""
    environ = {**os.environ, "PYTHONOPTIMIZE": "2"}
    isolated = _probe.probe(sys.executable, environ=_probe.clean_environ(environ))
    as_user = _probe.probe(sys.executable, isolated=False, environ=environ)
    assert (isolated.config["optimization_level"], as_user.config["optimization_level"]) == (0, 2)


def test_a_range_has_no_single_version() -> None:
    """A target from requires_python says it is not one interpreter."""
    with pytest.raises(ValueError, match="range of versions"):
        checks.target_from_requires(">=3.9").version


def test_in_process_probe_matches_a_run() -> None:
    """inspect() of this interpreter (in-process) reads what a run of it reports."""
    here = introspect.inspect()
    there = introspect.inspect(sys.executable)
    assert here.version == there.version and here.source == there.source


_PKGUTIL = r'''
import json, os, pkgutil, sys, sysconfig
dirs = [sysconfig.get_path("stdlib"), os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload")]
reference = set(sys.builtin_module_names) | {m.name for m in pkgutil.iter_modules(dirs)}
print(json.dumps([sorted(probe()["stdlib"]), sorted(reference)]))
'''


@pytest.mark.parametrize("python", [p for v, p in pyenv_pythons().items() if v < (3, 10)],
                         ids=lambda p: p.name)
def test_stdlib_scan_finds_what_pkgutil_finds(python: Path) -> None:
    """Before 3.10 the probe's directory scan lists what pkgutil.iter_modules lists."""
    code = _probe.script(printing=False) + _PKGUTIL
    proc = subprocess.run([str(python), "-I", "-S", "-c", code], capture_output=True,
                          text=True, check=True, env=_probe.clean_environ(os.environ))
    scanned, reference = json.loads(proc.stdout)
    assert len(reference) > 200
    assert scanned == reference


def _old_pythons() -> List[Path]:
    """Interpreters older than 3.8 that pyenv has (2.7 and 3.7 here), if any."""
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return []
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True,
                          check=False).stdout.strip()
    found = []
    for exe in sorted(Path(root, "versions").glob("*/bin/python[23].[0-9]")):
        major, minor = (int(n) for n in exe.name[len("python"):].split("."))
        if (major, minor) < (3, 8):
            found.append(exe)
    return found


@pytest.mark.parametrize("python", _old_pythons(), ids=lambda p: p.name)
def test_an_old_interpreter_gets_embedcfgs_version_message(python: Path) -> None:
    """Python 2.7 (which refuses -I) and 3.7 are named with their version, not their error."""
    with pytest.raises(ValueError, match=r"is CPython [23]\.\d+\.\d+; embedcfg needs 3\.8"):
        _probe.probe(str(python))
