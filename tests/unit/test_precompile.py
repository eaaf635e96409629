"""Tests of embedcfg.precompile with the interpreter running the tests as target.

The integration tests (tests/integration/test_pycache.py) run every installed
CPython and import the results through the launcher; these check the
planning, the all-or-nothing writing and the command line.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import attrs
import pytest

from embedcfg import EmbedConfig, Pycache, PycacheMode, cli
from embedcfg.errors import ConfigInvalid
from embedcfg.precompile import PrecompileError, plan, precompile

TAG = sys.implementation.cache_tag


def app(root: Path) -> Path:
    """A small application: a module, a package, a data directory."""
    src = root / "src"
    (src / "pkg" / "sub").mkdir(parents=True)
    (src / "mod.py").write_text("VALUE = 1\n")
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "sub" / "deep.py").write_text("def f():\n    return 2\n")
    (src / "not-a-module.py").write_text("this is not python\n")
    (src / "site-packages").mkdir()
    (src / "site-packages" / "hidden.py").write_text("syntax error (\n")
    return src


def cfg_for(src: Path, **pycache: object) -> EmbedConfig:
    return EmbedConfig(options={"module_search_paths": [str(src)]},
                       pycache=Pycache(**pycache) if pycache else None)  # type: ignore[arg-type]


def files(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_pycache_beside_sources(tmp_path: Path) -> None:
    """Without a prefix, bytecode goes to __pycache__ beside each module."""
    src = app(tmp_path)
    result = precompile(cfg_for(src, mode=PycacheMode.READONLY), validate=False)
    assert result.ok, result.failed
    assert 3 == result.compiled
    assert (src / "__pycache__" / f"mod.{TAG}.pyc").is_file()
    assert (src / "pkg" / "sub" / "__pycache__" / f"deep.{TAG}.pyc").is_file()
    assert not (src / "site-packages" / "__pycache__").exists()  # not importable


def test_second_run_is_up_to_date(tmp_path: Path) -> None:
    """A pyc that matches its source is left alone."""
    src = app(tmp_path)
    precompile(cfg_for(src), validate=False)
    again = precompile(cfg_for(src), validate=False)
    assert (0, 3) == (again.compiled, again.up_to_date)


def test_prefix_tree_mirrors_sources(tmp_path: Path) -> None:
    """With mode prefix, the tree is what sys.pycache_prefix computes."""
    src = app(tmp_path)
    prefix = tmp_path / "cache"
    result = precompile(cfg_for(src, mode=PycacheMode.PREFIX, prefix=str(prefix)),
                        validate=False)
    assert result.ok
    probe = ("import importlib.util, sys; sys.pycache_prefix = sys.argv[1];"
             " print(importlib.util.cache_from_source(sys.argv[2]))")
    expected = subprocess.run([sys.executable, "-I", "-c", probe, str(prefix),
                               str(src / "mod.py")], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert Path(expected).is_file()
    assert not (src / "__pycache__").exists()


def test_optimization_level_names_the_file(tmp_path: Path) -> None:
    """optimization_level 2 writes .opt-2.pyc files."""
    src = app(tmp_path)
    cfg = EmbedConfig(options={"module_search_paths": [str(src)], "optimization_level": 2})
    assert precompile(cfg, validate=False).ok
    assert (src / "__pycache__" / f"mod.{TAG}.opt-2.pyc").is_file()
    assert not (src / "__pycache__" / f"mod.{TAG}.pyc").exists()


def test_unchecked_hash_pycs(tmp_path: Path) -> None:
    """--unchecked-hash writes PEP 552 pycs with flags 0b01."""
    src = app(tmp_path)
    assert precompile(cfg_for(src), unchecked_hash=True, validate=False).ok
    header = (src / "__pycache__" / f"mod.{TAG}.pyc").read_bytes()[:16]
    assert 1 == int.from_bytes(header[4:8], "little")


def test_failure_writes_nothing(tmp_path: Path) -> None:
    """One module that does not compile: no pyc, no temporary file, no new directory."""
    src = app(tmp_path)
    (src / "pkg" / "broken.py").write_text("def f(:\n")
    before = files(tmp_path)
    result = precompile(cfg_for(src, mode=PycacheMode.PREFIX, prefix=str(tmp_path / "c")),
                        validate=False)
    assert not result.ok
    assert [str(src / "pkg" / "broken.py")] == [f.source for f in result.failed]
    assert "SyntaxError" in result.failed[0].message and "line 1" in result.failed[0].message
    assert before == files(tmp_path)
    assert "nothing was written" in result.summary()


def test_progress_is_reported_per_module(tmp_path: Path) -> None:
    """The callback sees every module, with the total."""
    src = app(tmp_path)
    seen: List[Tuple[int, int, str]] = []
    precompile(cfg_for(src), validate=False, progress=lambda d, t, s: seen.append((d, t, s)))
    assert [(1, 3), (2, 3), (3, 3)] == [(d, t) for d, t, _ in seen]


def test_mode_off_is_refused(tmp_path: Path) -> None:
    """mode off means no cache: there is nothing to precompile."""
    with pytest.raises(PrecompileError, match="readonly"):
        plan(cfg_for(tmp_path, mode=PycacheMode.OFF), config_dir=None)


def test_origin_must_be_given(tmp_path: Path) -> None:
    """$ORIGIN is where the launcher will run: precompile must be told."""
    cfg = EmbedConfig(options={"module_search_paths": ["$ORIGIN/src"]})
    with pytest.raises(PrecompileError, match="--origin"):
        plan(cfg, config_dir=None)
    assert (str(tmp_path / "src"),) == plan(
        EmbedConfig(options={"module_search_paths": ["$ORIGIN/src"]}), config_dir=None,
        origin=str(tmp_path)).skipped[0][:1]


def test_config_dir_is_resolved(tmp_path: Path) -> None:
    """$CONFIG_DIR is the document's real directory, as the shim expands it."""
    app(tmp_path)
    os.symlink(tmp_path, tmp_path.parent / (tmp_path.name + "-link"))
    cfg = EmbedConfig(options={"module_search_paths": ["$CONFIG_DIR/src"]})
    p = plan(cfg, config_dir=str(tmp_path.parent / (tmp_path.name + "-link")))
    assert (os.path.realpath(tmp_path / "src"),) == p.roots


def test_missing_and_archive_paths_are_skipped(tmp_path: Path) -> None:
    """Entries that are not directories are listed with the reason."""
    (tmp_path / "app.zip").write_bytes(b"")
    cfg = EmbedConfig(options={"module_search_paths": [str(tmp_path / "nope"),
                                                       str(tmp_path / "app.zip")]})
    reasons: Dict[str, str] = dict(plan(cfg, config_dir=None).skipped)
    assert "does not exist" == reasons[str(tmp_path / "nope")]
    assert "archive" in reasons[str(tmp_path / "app.zip")]


def test_invalid_document_is_refused(tmp_path: Path) -> None:
    """The document is validated against the target first."""
    cfg = EmbedConfig(options={"module_search_paths": [str(tmp_path)]},
                      pycache=Pycache(mode=PycacheMode.PREFIX))
    with pytest.raises(ConfigInvalid):
        precompile(cfg)


def test_command_line(tmp_path: Path) -> None:
    """embedcfg precompile DOCUMENT: summary on stdout, exit 0."""
    app(tmp_path)
    document = tmp_path / "app.json"
    document.write_text(json.dumps({"version": 1, "options": {
        "module_search_paths": ["$CONFIG_DIR/src"]}, "pycache": {"mode": "readonly"}}))
    out, err = io.StringIO(), io.StringIO()
    assert 0 == cli.run(["precompile", str(document), "--python", sys.executable], out, err)
    assert out.getvalue().startswith("precompiled 3 modules (3 compiled, 0 up to date)")
    assert "" == err.getvalue()


def test_command_line_failure(tmp_path: Path) -> None:
    """A module that does not compile is listed and the exit status is 1."""
    src = app(tmp_path)
    (src / "bad.py").write_text("x = (\n")
    document = tmp_path / "app.json"
    document.write_text(json.dumps({"version": 1, "options": {
        "module_search_paths": ["$CONFIG_DIR/src"]}}))
    out, err = io.StringIO(), io.StringIO()
    assert 1 == cli.run(["precompile", str(document)], out, err)
    assert f"{src / 'bad.py'}: SyntaxError" in err.getvalue()
    assert "precompile failed: 1 of 4 modules" in err.getvalue()
    assert "" == out.getvalue()


def test_command_line_bad_document(tmp_path: Path) -> None:
    """A document with errors is reported like validate does."""
    document = tmp_path / "app.json"
    document.write_text(json.dumps({"version": 1, "pycache": {"mode": "prefix"}}))
    err = io.StringIO()
    assert 1 == cli.run(["precompile", str(document)], io.StringIO(), err)
    assert "EC305" in err.getvalue()


def test_command_line_mode_off(tmp_path: Path) -> None:
    """mode off: exit 1 with one error line."""
    document = tmp_path / "app.json"
    document.write_text(json.dumps({"version": 1, "pycache": {"mode": "off"}}))
    err = io.StringIO()
    assert 1 == cli.run(["precompile", str(document)], io.StringIO(), err)
    assert err.getvalue().startswith("embedcfg: error: pycache mode 'off'")


def test_listed_stdlib_needs_the_stdlib_flag(tmp_path: Path) -> None:
    """The interpreter's own standard library is left alone unless --stdlib."""
    import sysconfig

    src = app(tmp_path)
    stdlib = sysconfig.get_path("stdlib")
    cfg = EmbedConfig(options={"module_search_paths": [stdlib, str(src)]})
    result = precompile(cfg, validate=False)
    assert 3 == result.compiled + result.up_to_date
    (reason,) = [why for path, why in result.plan.skipped if path == stdlib]
    assert "--stdlib" in reason


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, stderr shows a bar that ends with a newline."""
    app(tmp_path)
    document = tmp_path / "app.json"
    document.write_text(json.dumps({"version": 1, "options": {
        "module_search_paths": ["$CONFIG_DIR/src"]}}))
    err = _Terminal()
    assert 0 == cli.run(["precompile", str(document)], io.StringIO(), err)
    assert err.getvalue().startswith("\r[")
    assert err.getvalue().endswith(" 3/3\n")


def test_not_a_python(tmp_path: Path) -> None:
    """A --python that is not an interpreter is a clear error."""
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    with pytest.raises(PrecompileError, match="hello"):
        precompile(EmbedConfig(), python=str(fake), validate=False)


def test_readonly_with_a_raw_prefix_fills_the_prefix(tmp_path: Path) -> None:
    """readonly plus the pycache_prefix option reads the prefix tree: fill that."""
    src = app(tmp_path)
    cfg = EmbedConfig(options={"module_search_paths": [str(src)],
                               "pycache_prefix": str(tmp_path / "pyc")},
                      pycache=Pycache(mode=PycacheMode.READONLY))
    assert str(tmp_path / "pyc") == plan(cfg, config_dir=None).prefix


def test_readonly_policy_prefix_fills_the_prefix_tree(tmp_path: Path) -> None:
    """mode readonly with a prefix: the document validates, and the pycs land
    where the target's cache_from_source looks under sys.pycache_prefix; the
    sources' tree gets no __pycache__."""
    src = app(tmp_path)
    prefix = tmp_path / "pyc"
    cfg = cfg_for(src, mode=PycacheMode.READONLY, prefix=str(prefix))
    result = precompile(cfg)  # validated against this interpreter: no EC305
    assert result.ok and 3 == result.compiled, result.failed
    assert f"the prefix tree {prefix}" == result.destination
    probe = ("import importlib.util, sys; sys.pycache_prefix = sys.argv[1];"
             " print('\\n'.join(importlib.util.cache_from_source(s) for s in sys.argv[2:]))")
    expected = subprocess.run([sys.executable, "-I", "-c", probe, str(prefix),
                               str(src / "mod.py"), str(src / "pkg" / "__init__.py"),
                               str(src / "pkg" / "sub" / "deep.py")],
                              capture_output=True, text=True, check=True).stdout.split()
    assert sorted(expected) == sorted(str(p) for p in prefix.rglob("*.pyc"))
    assert [] == list(src.rglob("__pycache__"))


def test_readonly_policy_prefix_is_expanded(tmp_path: Path) -> None:
    """The readonly prefix is anchored like every path: $CONFIG_DIR is the
    document's real directory, $ORIGIN needs --origin."""
    app(tmp_path)
    link = tmp_path.parent / (tmp_path.name + "-cfglink")
    os.symlink(tmp_path, link)
    cfg = EmbedConfig(options={"module_search_paths": ["$CONFIG_DIR/src"]},
                      pycache=Pycache(mode=PycacheMode.READONLY, prefix="$CONFIG_DIR/pyc"))
    assert os.path.realpath(tmp_path / "pyc") == plan(cfg, config_dir=str(link)).prefix
    at_origin = attrs.evolve(cfg, pycache=Pycache(mode=PycacheMode.READONLY,
                                                  prefix="$ORIGIN/pyc"))
    with pytest.raises(PrecompileError, match="pycache.prefix.*--origin"):
        plan(at_origin, config_dir=str(tmp_path))
    assert "/opt/app/pyc" == plan(at_origin, config_dir=str(tmp_path), origin="/opt/app").prefix


def test_command_line_readonly_prefix(tmp_path: Path) -> None:
    """embedcfg precompile fills the prefix of a readonly document, exit 0."""
    src = app(tmp_path)
    document = tmp_path / "app.json"
    document.write_text(json.dumps({"version": 1, "options": {
        "module_search_paths": ["$CONFIG_DIR/src"]},
        "pycache": {"mode": "readonly", "prefix": "$CONFIG_DIR/pyc"}}))
    out, err = io.StringIO(), io.StringIO()
    assert 0 == cli.run(["precompile", str(document), "--python", sys.executable], out, err)
    assert "" == err.getvalue()
    real = os.path.realpath(tmp_path / "pyc")
    assert f"into the prefix tree {real} in" in out.getvalue()
    assert Path(real + os.path.realpath(src), f"mod.{TAG}.pyc").is_file()
