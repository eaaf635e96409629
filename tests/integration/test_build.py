"""embedcfg.build: compiled once per sources and target, announced once,
safe when several processes build at the same time."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embedcfg import build as _build
from embedcfg.errors import ShimError

ROOT = Path(__file__).resolve().parents[2]


def test_build_is_cached_and_announced_once(tmp_path: Path) -> None:
    """The first build announces itself on stderr; the second is a silent cache hit."""
    first_err, second_err = io.StringIO(), io.StringIO()
    first = _build.build(sys.executable, cache=tmp_path, stderr=first_err)
    mtime = first.shim.stat().st_mtime_ns
    second = _build.build(sys.executable, cache=tmp_path, stderr=second_err)
    assert first_err.getvalue().startswith("embedcfg: building shim for CPython "
                                           f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert first_err.getvalue().count("\n") == 1
    assert second_err.getvalue() == ""
    assert second == first
    assert second.shim.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [first.directory.name]


def test_key_follows_the_sources(tmp_path: Path) -> None:
    """Changing a source file changes the cache key (so it is rebuilt)."""
    src = tmp_path / "src"
    src.mkdir()
    for f in _build.source_dir().iterdir():
        if f.suffix in (".c", ".h"):
            (src / f.name).write_bytes(f.read_bytes())
    target = _build.probe(sys.executable)
    before = _build._key(src, target, ["cc"], "cc 1")
    (src / "embedcfg.c").write_bytes((src / "embedcfg.c").read_bytes() + b"\n")
    assert _build._key(src, target, ["cc"], "cc 1") != before
    assert _build._key(src, target, ["cc"], "cc 2") != _build._key(src, target, ["cc"], "cc 1")


def test_cache_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    """EMBEDCFG_CACHE_DIR, then XDG_CACHE_HOME/embedcfg, then ~/.cache/embedcfg."""
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(tmp_path / "explicit"))
    assert _build.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("EMBEDCFG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _build.cache_dir() == tmp_path / "xdg" / "embedcfg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _build.cache_dir() == tmp_path / "home" / ".cache" / "embedcfg"


def test_concurrent_builds(tmp_path: Path) -> None:
    """Two processes building into an empty cache both succeed with one result."""
    code = ("import sys; from pathlib import Path; from embedcfg import build;"
            " b = build.build(cache=Path(sys.argv[1])); print(b.shim)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=str(ROOT),
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    assert outs[0][0] == outs[1][0]
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 1
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_not_a_python(tmp_path: Path) -> None:
    """A target that is not a CPython interpreter is a ShimError with a reason."""
    with pytest.raises(ShimError, match="cannot run"):
        _build.build(str(tmp_path / "no-such-python"), cache=tmp_path)
