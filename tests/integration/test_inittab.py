"""Statically registered extension modules: a real shared library, found by
symbol from the document's inittab, imported and used in the child."""

from __future__ import annotations

import subprocess
from pathlib import Path

from embedcfg import build as _build
from embedcfg.model import EmbedConfig, InittabEntry

from .conftest import HERE, Shim

USE = (
    "import sys, ecfg_single, ecfg_multi\n"
    "assert 'ecfg_single' in sys.builtin_module_names\n"
    "assert 'ecfg_multi' in sys.builtin_module_names\n"
    "print(ecfg_single.kind, ecfg_single.add(2, 3), ecfg_multi.kind, ecfg_multi.add(4, 5))\n"
)


def _library(shim: Shim, directory: Path) -> Path:
    target = _build.probe(shim.python)
    out = directory / "libecfgext.so"
    cmd = ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
           *(f"-I{i}" for i in target.includes), str(HERE / "ext_modules.c"), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return out


def test_inittab_modules_by_symbol(shim: Shim, tmp_path: Path) -> None:
    """Single- and multi-phase modules registered by symbol in a library import and work."""
    _library(shim, tmp_path)
    cfg = EmbedConfig(
        options={"run_command": USE},
        inittab=[InittabEntry(name="ecfg_single", library="$CONFIG_DIR/libecfgext.so"),
                 InittabEntry(name="ecfg_multi", init="embedcfg_test_init_multi",
                              library="$CONFIG_DIR/libecfgext.so")])
    proc = shim.launch(cfg, directory=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["single", "5", "multi", "9"]


def test_missing_symbol_is_a_config_error(shim: Shim, tmp_path: Path) -> None:
    """An init symbol that is not in the library: exit 78 and one line naming it."""
    _library(shim, tmp_path)
    cfg = EmbedConfig(options={"run_command": "pass"},
                      inittab=[InittabEntry(name="ecfg_nothere",
                                            library="$CONFIG_DIR/libecfgext.so")])
    proc = shim.launch(cfg, directory=tmp_path)
    assert proc.returncode == 78
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("embedcfg: error: ")
    assert "PyInit_ecfg_nothere" in proc.stderr


def test_fill_pyconfig_for_a_host_that_owns_init(shim: Shim, tmp_path: Path) -> None:
    """embedcfg_fill_pyconfig: the host's PyConfig gets the document, inittab included."""
    from embedcfg import codec

    from .conftest import SHIM_SRC, clean_env, compile_host

    _library(shim, tmp_path)
    host = compile_host(shim, [HERE / "host_fill.c",
                               *(SHIM_SRC / s for s in _build._SHIM_SOURCES)],
                        tmp_path / "host_fill", f"-I{SHIM_SRC}", "-ldl")
    doc = tmp_path / "doc.json"
    doc.write_bytes(codec.canonical(EmbedConfig(
        options={"optimization_level": 2, "warnoptions": ["error::UserWarning"]},
        inittab=[InittabEntry(name="ecfg_single", library="$CONFIG_DIR/libecfgext.so")])))
    code = ("import sys, ecfg_single; print(sys.flags.optimize, sys.warnoptions,"
            " ecfg_single.add(1, 1), sys.flags.isolated)")
    proc = subprocess.run([str(host), str(doc), code], capture_output=True, text=True,
                          env=clean_env(), timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    # the host chose the python preset for PyConfig: isolated stays 0
    assert proc.stdout.strip() == "2 ['error::UserWarning'] 2 0"
