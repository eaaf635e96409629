"""Packed archives through the launcher, on every installed CPython.

The application is packed with ``embedcfg pack`` by the target itself, its
source tree stays in place (so a silent fallback to the filesystem would
succeed), and the child reports what it sees: where its modules come from,
which loader, and every file of the source tree that was opened (an audit
hook on ``open``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from embedcfg.model import Archive, EmbedConfig
from embedcfg.pack import pack
from tests.pythons import installed_pythons

from .conftest import Shim, stdlib_paths

MAIN = '''\
import json, sys, traceback
src = sys.argv[1]
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open"
                 and str(args[0]).startswith(src) else None)
import pkg.mod
try:
    pkg.mod.boom()
except ValueError:
    tb = traceback.format_exc()
print("@@" + json.dumps({
    "main_origin": __spec__.origin, "main_file": __file__,
    "origin": pkg.mod.__spec__.origin, "file": pkg.mod.__file__,
    "cached": pkg.mod.__cached__, "path": pkg.__path__,
    "loader": pkg.mod.__loader__.__name__, "same_loader": pkg.__loader__ is pkg.mod.__loader__,
    "is_package": [pkg.__loader__.is_package("pkg"), pkg.__loader__.is_package("pkg.mod")],
    "data": pkg.__loader__.get_data(pkg.__path__[0] + "/res/hello.txt").decode(),
    "source": pkg.__loader__.get_source("pkg.mod"),
    "traceback": tb, "opened": opened}) + "@@")
'''


def write_app(root: Path) -> Path:
    src = root / "src"
    (src / "pkg" / "res").mkdir(parents=True)
    (src / "app_main.py").write_text(MAIN)
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "mod.py").write_text("VALUE = 1\n\ndef boom():\n    raise ValueError('boom')\n")
    (src / "pkg" / "res" / "hello.txt").write_text("hello\n")
    return src


def packed(shim: Shim, root: Path, *, python: str = "") -> Tuple[Path, Path]:
    """The app under ``root/src``, packed by ``python`` (default: the shim's) to app.pack."""
    src = write_app(root)
    cfg = EmbedConfig().with_options(module_search_paths=[str(src)])
    result = pack(cfg, str(root / "app.pack"), python=python or shim.python, with_source=True)
    assert result.ok and result.modules == 3 and result.data == 1, result.summary()
    return src, root / "app.pack"


def run_doc(shim: Shim, root: Path, src: Path) -> Any:
    cfg = EmbedConfig(archives=[Archive(path="$CONFIG_DIR/app.pack")]).with_options(
        module_search_paths=stdlib_paths(shim.python), run_module="app_main",
        argv=["app_main", str(src)])
    return shim.launch(cfg, directory=root)


def report(proc: Any) -> Dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.split("@@")[1]))


def test_app_imports_from_the_archive(shim: Shim, tmp_path: Path) -> None:
    """Modules come from the archive with the documented attributes; no source file is opened."""
    src, archive = packed(shim, tmp_path)
    got = report(run_doc(shim, tmp_path, src))
    a = str(archive)
    assert {k: got[k] for k in ("main_origin", "main_file", "origin", "file", "cached", "path",
                                "loader", "same_loader", "is_package", "data", "opened")} == {
        "main_origin": f"{a}/app_main.py", "main_file": f"{a}/app_main.py",
        "origin": f"{a}/pkg/mod.py", "file": f"{a}/pkg/mod.py", "cached": f"{a}/pkg/mod.pyc",
        "path": [f"{a}/pkg"], "loader": "embedcfg.archive_importer", "same_loader": True,
        "is_package": [True, False], "data": "hello\n", "opened": []}
    assert got["source"] == (src / "pkg" / "mod.py").read_text()
    # the traceback names the archive's virtual path, the line, and its source
    assert f'File "{a}/pkg/mod.py", line 4, in boom\n    raise ValueError(\'boom\')' \
        in got["traceback"]


def _other_python(minor: Tuple[int, int]) -> str:
    others = [str(p) for m, p in sorted(installed_pythons().items()) if m != minor]
    if not others:
        pytest.skip("a second CPython minor is needed")
    return others[0]


@pytest.mark.parametrize("damage", ["other_minor", "truncated", "bit_flip", "oversized",
                                    "not_an_archive", "missing"])
def test_bad_archive_is_refused_before_init(shim: Shim, tmp_path: Path, damage: str) -> None:
    """A bad archive exits 78 with one located line, and the application never starts."""
    other = _other_python(shim.minor) if damage == "other_minor" else ""
    src, archive = packed(shim, tmp_path, python=other)
    blob = archive.read_bytes()
    if damage == "truncated":
        archive.write_bytes(blob[:-1])
    elif damage == "bit_flip":
        archive.write_bytes(blob[:100] + bytes([blob[100] ^ 4]) + blob[101:])
    elif damage == "oversized":
        archive.write_bytes(blob + b"\0")
    elif damage == "not_an_archive":
        archive.write_bytes(b"PK\x03\x04" + bytes(100))
    elif damage == "missing":
        archive.unlink()
    proc = run_doc(shim, tmp_path, src)
    reason = {"other_minor": "was packed for CPython", "truncated": "is truncated",
              "bit_flip": "is corrupt: its checksum does not match", "oversized": "is oversized",
              "not_an_archive": "is not an embedcfg archive",
              "missing": ": cannot read it: No such file"}[damage]
    assert (proc.returncode, proc.stdout) == (78, "")
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("embedcfg: error: "), proc.stderr
    assert f"archives[0].path: {archive}" in lines[0] and reason in lines[0], lines[0]


def test_pack_is_deterministic(shim: Shim, tmp_path: Path) -> None:
    """Packing the same tree twice gives the same bytes."""
    _, archive = packed(shim, tmp_path)
    cfg = EmbedConfig().with_options(module_search_paths=[str(tmp_path / "src")])
    again = tmp_path / "again.pack"
    assert pack(cfg, str(again), python=shim.python, with_source=True).ok
    assert again.read_bytes() == archive.read_bytes()
