"""The package as users install it: typing, wheel contents, metadata."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.pythons import installed_pythons

ROOT = Path(__file__).resolve().parent.parent.parent


def test_mypy_strict_clean() -> None:
    """The package type-checks with mypy --strict (configured in pyproject.toml)."""
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the checkout with the declared build backend."""
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(out), str(ROOT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    (found,) = out.glob("embedcfg-*.whl")
    return found


def test_wheel_contents(wheel: Path) -> None:
    """py.typed, the generated schema and every module ship in the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "embedcfg/py.typed" in names
    assert "embedcfg/schema/embedcfg-1.schema.json" in names
    for module in ("options", "model", "codec", "schema", "checks", "errors", "report", "cli"):
        assert f"embedcfg/{module}.py" in names


def test_wheel_schema_is_the_committed_one(wheel: Path) -> None:
    """The schema in the wheel is byte for byte the committed file."""
    data = zipfile.ZipFile(wheel).read("embedcfg/schema/embedcfg-1.schema.json")
    assert data == (ROOT / "schema" / "embedcfg-1.schema.json").read_bytes()


def test_console_script_declared(wheel: Path) -> None:
    """The embedcfg command is an entry point of the wheel."""
    z = zipfile.ZipFile(wheel)
    (ep,) = [n for n in z.namelist() if n.endswith("entry_points.txt")]
    assert "embedcfg = embedcfg.cli:main" in z.read(ep).decode()


def _pyenv_python(minor: str) -> Path:
    found = installed_pythons().get((3, int(minor.split(".")[1])))
    if found is None:
        pytest.skip(f"CPython {minor} is not installed (pyenv or the 3.14 test-data build)")
    return found


def test_sdk_runs_on_oldest_supported_python(tmp_path: Path) -> None:
    """Installed on CPython 3.9 (the oldest the SDK supports, with tomli instead of
    tomllib), validate gives the same report as here for every corpus file."""
    python = _pyenv_python("3.9")
    venv = tmp_path / "venv39"
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    files = sorted(str(p) for d in ("valid", "invalid")
                   for p in (ROOT / "tests" / "data" / d).iterdir())
    runs = []
    for script in (venv / "bin" / "embedcfg", Path(sys.executable).parent / "embedcfg"):
        out = subprocess.run([str(script), "validate", "--format", "json", *files],
                             capture_output=True, text=True, check=False)
        assert out.returncode == 1 and out.stderr == ""
        runs.append(out.stdout)
    old, new = runs
    # Messages may differ where they quote the parser (tomli and tomllib).
    def stable(text: str) -> list:
        return [(p["file"], p["code"], p["pointer"], p["line"])
                for p in json.loads(text)["problems"]]

    assert stable(old) == stable(new)
