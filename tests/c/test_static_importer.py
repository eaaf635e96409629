"""The static importer as C: warnings as C99 and C11 against every installed
CPython's headers, the header as C++ and without Python.h, baked tables that
compile, and the table functions under AddressSanitizer and
UndefinedBehaviorSanitizer."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from embedcfg import bake as _bake
from embedcfg import build as _build
from embedcfg.model import EmbedConfig, InittabEntry
from tests.pythons import missing_reason

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "capi_shim"
DRIVER = ROOT / "tests" / "integration" / "static_modules" / "table_driver.c"
GCC = shutil.which("gcc")
GXX = shutil.which("g++")
STRICT = ["-Wall", "-Wextra", "-Wconversion", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1",
            "-fno-omit-frame-pointer"]
MINORS = tuple((3, m) for m in range(8, 15))

pytestmark = pytest.mark.skipif(GCC is None, reason="gcc not found: these tests compile C")


def _pythons() -> Dict[Tuple[int, int], str]:
    from tests.integration.conftest import _pyenv_pythons

    return _pyenv_pythons()


def _run(cmd: List[str], cwd: Path) -> "subprocess.CompletedProcess[str]":
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    assert proc.stderr == "", proc.stderr
    return proc


def _target(minor: Tuple[int, int]) -> _build.Target:
    python = _pythons().get(minor)
    if python is None:
        pytest.skip(missing_reason(minor))
    return _build.probe(python)


@pytest.mark.parametrize("std", ["c99", "c11"])
@pytest.mark.parametrize("minor", MINORS, ids=lambda m: f"{m[0]}.{m[1]}")
def test_compiles_without_warnings(minor: Tuple[int, int], std: str, tmp_path: Path) -> None:
    """static_importer.c and importer.c: no warning with -Wall -Wextra -Wconversion against
    these headers."""
    target = _target(minor)
    for source in ("static_importer.c", "importer.c"):
        _run([str(GCC), f"-std={std}", *STRICT, "-fPIC", *(f"-I{i}" for i in target.includes),
              f"-I{SHIM}", "-c", str(SHIM / source), "-o", str(tmp_path / "si.o")], tmp_path)


@pytest.mark.skipif(GXX is None, reason="g++ not found")
def test_header_compiles_as_cpp(tmp_path: Path) -> None:
    """static_importer.h is valid C++ and needs no Python.h."""
    src = tmp_path / "use.cpp"
    src.write_text('#include "static_importer.h"\n'
                   "int main() { return embedcfg_static_table_check(nullptr, 0, nullptr, 0); }\n",
                   encoding="utf-8")
    _run([str(GXX), "-std=c++11", "-Wall", "-Wextra", "-Werror", f"-I{SHIM}", "-fsyntax-only",
          str(src)], tmp_path)


def test_baked_indexed_table_compiles_without_python_headers(tmp_path: Path) -> None:
    """The indexed table needs only static_importer.h; non-ASCII names are refused
    (EC504: PEP 489's PyInitU_ punycode symbols are not derived), even with an init."""
    cfg = EmbedConfig(inittab=[InittabEntry(name="zeta"), InittabEntry(name="alpha.beta",
                                                                       init="init_ab")])
    with pytest.raises(ValueError, match="not ASCII"):
        _bake.bake(EmbedConfig(inittab=[InittabEntry(name="\u00e9t\u00e9", init="PyInit_ete")]))
    src = tmp_path / "table.c"
    src.write_text(_bake.bake(cfg, prefix="app"), encoding="utf-8")
    _run([str(GCC), "-std=c99", *STRICT, f"-I{SHIM}", "-c", str(src), "-o",
          str(tmp_path / "table.o")], tmp_path)


def test_table_functions_under_sanitizers(tmp_path: Path) -> None:
    """Lookups agree with a linear search; the checker rejects bad tables; no finding."""
    target = None
    for minor in reversed(MINORS):
        python = _pythons().get(minor)
        if python is not None:
            target = _build.probe(python)
            break
    if target is None or target.libpython is None:
        pytest.skip("no CPython with a shared libpython is installed")
    lib = Path(target.libpython)
    exe = tmp_path / "driver"
    _run([str(GCC), "-std=c99", *STRICT, *SANITIZE, f"-I{SHIM}",
          *(f"-I{i}" for i in target.includes), str(DRIVER), str(SHIM / "static_importer.c"),
          str(SHIM / "importer.c"),
          "-o", str(exe), f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}",
          f"-l{lib.name.split('.so')[0][3:]}"], tmp_path)
    proc = _run([str(exe)], tmp_path)
    assert proc.stdout == "ok\n"
