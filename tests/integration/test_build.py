"""embedcfg.build: compiled once per sources and target, announced once,
safe when several processes build at the same time."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
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
    assert first_err.getvalue().count("\n") == 2  # the start and the end
    assert second_err.getvalue() == ""
    assert second == first
    assert second.shim.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [first.directory.name]


def test_build_says_what_it_built_and_how_long_it_took(tmp_path: Path) -> None:
    """After the start line, one line names the shim, the launcher and the time."""
    err = io.StringIO()
    _build.build(sys.executable, cache=tmp_path, stderr=err)
    last = err.getvalue().splitlines()[-1]
    version = ".".join(map(str, sys.version_info[:3]))
    assert re.fullmatch(rf"embedcfg: built libembedcfg\.so and embedcfg-launch for CPython"
                        rf" {re.escape(version)} in \d+\.\ds", last), last


def test_key_follows_the_sources(tmp_path: Path) -> None:
    """Changing a source file changes the cache key (so it is rebuilt)."""
    src = tmp_path / "src"
    src.mkdir()
    for f in _build.source_dir().iterdir():
        if f.suffix in (".c", ".h"):
            (src / f.name).write_bytes(f.read_bytes())
    target = _build.probe(sys.executable)
    before = _build._key(src, target, ["cc"], "cc 1")
    (src / "handle.c").write_bytes((src / "handle.c").read_bytes() + b"\n")
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


def test_host_flags_name_the_header_the_library_and_libpython(tmp_path: Path) -> None:
    """The flags find embedcfg.h and Python.h and link the built shim and libpython."""
    flags = _build.host_flags(sys.executable, cache=tmp_path, stderr=io.StringIO())
    target = _build.probe(sys.executable)
    assert target.libpython is not None
    assert (Path(flags.include_dirs[0]) / "embedcfg.h").is_file()
    assert any((Path(i) / "Python.h").is_file() for i in flags.include_dirs[1:])
    assert flags.cflags == tuple(f"-I{i}" for i in flags.include_dirs)
    assert flags.built.directory.parent == tmp_path
    lib = Path(target.libpython)
    assert flags.ldflags == (
        f"-L{flags.built.directory}", f"-Wl,-rpath,{flags.built.directory}", "-lembedcfg",
        f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}",
        f"-lpython{sys.version_info[0]}.{sys.version_info[1]}", "-ldl")


def test_cli_prints_the_flags_and_json(tmp_path: Path) -> None:
    """`embedcfg build --cflags --ldflags` is one shell line; --json has every path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["EMBEDCFG_CACHE_DIR"] = str(tmp_path)
    script = Path(sys.executable).parent / "embedcfg"

    def run(*argv: str) -> str:
        proc = subprocess.run([str(script), "build", *argv], capture_output=True, text=True,
                              env=env, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    flags = _build.host_flags(sys.executable, cache=tmp_path, stderr=io.StringIO())
    assert shlex.split(run("--cflags", "--ldflags")) == [*flags.cflags, *flags.ldflags]
    assert shlex.split(run("--ldflags")) == list(flags.ldflags)
    doc = json.loads(run("--json"))
    assert doc["shim"] == str(flags.built.shim)
    assert doc["include_dirs"] == list(flags.include_dirs)
    assert doc["ldflags"] == list(flags.ldflags)
    assert doc["version"] == ".".join(map(str, sys.version_info[:3]))


def test_host_flags_need_a_shared_libpython(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    """A statically linked interpreter is a ShimError that says what is missing."""
    import attrs

    static = attrs.evolve(_build.probe(sys.executable), libpython=None)
    monkeypatch.setattr(_build, "probe", lambda python=None: static)
    with pytest.raises(ShimError, match="has no shared libpython"):
        _build.host_flags(cache=tmp_path)
