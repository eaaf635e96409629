"""importlib.resources and pkgutil.get_data over packed archives, on every
installed CPython.

The package is packed with ``embedcfg pack`` and its source tree is then
deleted, so nothing can come from the file system. The child, run through the
launcher, exercises the resource API of its own version and prints every
outcome (a value, or ``!ExceptionName``) as JSON; the child runs once per
CPython minor and the tests below each check one part of its report.
"""

from __future__ import annotations

import json
import shutil
from typing import Any, Dict, Tuple

import pytest

from embedcfg.model import Archive, EmbedConfig
from embedcfg.pack import pack

from ..pythons import MINORS
from .conftest import Shim, minor_id, stdlib_paths


def since(first: Tuple[int, int], last: Tuple[int, int] = (3, 99)) -> Any:
    """Run a test on the CPython minors from ``first`` to ``last`` (the API it checks
    exists there; what the others do is another test's)."""
    return pytest.mark.parametrize("shim", [m for m in MINORS if first <= m <= last],
                                   ids=minor_id, indirect=True)

MAIN = r'''
import gc, importlib, importlib.resources as ir, json, os, pkgutil, sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # 3.11, 3.12: legacy API
out = {}


def probe(key, fn):
    try:
        out[key] = fn()
    except Exception as e:
        out[key] = "!" + type(e).__name__


def reader_classes():
    return sorted(o.__name__ for o in gc.get_objects() if isinstance(o, type)
                  and o.__name__ in ("ArchiveResourceReader", "ArchiveTraversable"))


import rpkg, rpkg.mod
loader = rpkg.__loader__
archive = sys.argv[1]
probe("compiled_before", reader_classes)
probe("reader_of_module", lambda: type(loader.get_resource_reader("rpkg.mod")).__name__)
probe("reader_of_unknown", lambda: loader.get_resource_reader("nope"))

# the reader protocol of 3.8 and 3.9, still there in 3.10-3.14
probe("read_text", lambda: ir.read_text("rpkg", "data.txt"))
probe("read_binary", lambda: ir.read_binary("rpkg", "bin.dat").hex())
probe("open_binary", lambda: ir.open_binary("rpkg", "bin.dat").read().hex())
probe("contents", lambda: sorted(ir.contents("rpkg")))
probe("is_resource", lambda: [ir.is_resource("rpkg", n) for n in ("data.txt", "res", "nope")])
probe("open_missing", lambda: ir.open_binary("rpkg", "nope.txt"))


def legacy_path():
    with ir.path("rpkg", "data.txt") as p:
        inside = (p.read_text(), p.is_file(), str(p).startswith(archive))
    return [*inside, p.exists()]


probe("legacy_path", legacy_path)

# pkgutil goes through get_data
probe("pkgutil", lambda: pkgutil.get_data("rpkg", "res/hello.txt").decode("utf-8"))
probe("pkgutil_missing", lambda: pkgutil.get_data("rpkg", "res/nope.txt"))
probe("compiled_after", reader_classes)

if sys.version_info >= (3, 10):
    root = ir.files("rpkg")
    res = root / "res"
    try:
        from importlib.resources.abc import Traversable
    except ImportError:
        from importlib.abc import Traversable
    probe("traversable", lambda: [isinstance(root, Traversable), str(root), root.name,
                                  root.is_dir(), root.is_file()])
    probe("iterdir", lambda: [(p.name, p.is_dir(), p.is_file()) for p in root.iterdir()])
    probe("iterdir_res", lambda: [(p.name, p.is_dir()) for p in res.iterdir()])
    probe("nested", lambda: [root.joinpath("res", "deep", "er", "leaf.txt").read_text("utf-8"),
                             (root / "res/deep/er/leaf.txt").read_bytes().decode(),
                             (res / "deep" / "er").is_dir(), str(res / "a" / "b.txt")])
    probe("open_rb", lambda: (res / "hello.txt").open("rb").read().decode("utf-8"))
    probe("open_r", lambda: (res / "hello.txt").open("r", encoding="utf-8").read())
    probe("read_text_enc", lambda: (res / "hello.txt").read_text(encoding="latin-1"))
    probe("missing", lambda: [(root / "nope.txt").is_file(), (root / "nope.txt").is_dir()])
    probe("missing_read", lambda: (root / "nope.txt").read_bytes())
    probe("missing_open", lambda: (root / "nope.txt").open("rb"))
    probe("missing_iterdir", lambda: list((root / "nope").iterdir()))
    probe("dir_read", lambda: res.read_bytes())
    probe("file_iterdir", lambda: list((root / "data.txt").iterdir()))
    probe("open_write", lambda: (root / "data.txt").open("w"))

    def as_file():
        with ir.as_file(res / "hello.txt") as p:
            inside = [p.read_text(encoding="utf-8"), str(p).startswith(archive),
                      p.name.endswith("hello.txt")]
        return [*inside, p.exists()]

    probe("as_file", as_file)
if sys.version_info >= (3, 12):
    def as_file_dir():
        with ir.as_file(res) as p:
            return sorted(os.path.relpath(os.path.join(d, f), p)
                          for d, _, files in os.walk(p) for f in files)

    probe("as_file_dir", as_file_dir)
    probe("files_of_module", lambda: [str(ir.files("rpkg.mod")), str(ir.files(rpkg.mod))])
if sys.version_info >= (3, 13):
    probe("functional", lambda: ir.read_text("rpkg", "res", "hello.txt", encoding="utf-8"))
if sys.version_info[:2] == (3, 9):
    # files() does not ask the loader: pathlib.Path(spec.origin).parent
    probe("files_39", lambda: [type(ir.files("rpkg")).__name__, str(ir.files("rpkg"))])
    probe("files_39_read", lambda: (ir.files("rpkg") / "data.txt").read_bytes())
if sys.version_info[:2] == (3, 8):
    probe("has_files", lambda: hasattr(ir, "files"))
print("@@" + json.dumps(out) + "@@")
'''

TREE = {
    "app_main.py": MAIN,
    "rpkg/__init__.py": "",
    "rpkg/mod.py": "X = 1\n",
    "rpkg/data.txt": "top\n",
    "rpkg/res/hello.txt": "h\u00e9llo\n",
    "rpkg/res/a.txt": "a\n",
    "rpkg/res/a/b.txt": "b\n",
    "rpkg/res/deep/er/leaf.txt": "leaf\n",
    "rpkg/sub/__init__.py": "",
    "rpkg/sub/s.txt": "s\n",
}

_REPORTS: Dict[Tuple[int, int], Dict[str, Any]] = {}


@pytest.fixture
def got(shim: Shim, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """The child's report for the shim's CPython (packed, source deleted, run once)."""
    if shim.minor not in _REPORTS:
        root = tmp_path_factory.mktemp("resources")
        src = root / "src"
        for name, text in TREE.items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_text(text, encoding="utf-8")
        (src / "rpkg" / "bin.dat").write_bytes(b"\x00\xff\n")
        archive = root / "app.pack"
        cfg = EmbedConfig().with_options(module_search_paths=[str(src)])
        result = pack(cfg, str(archive), python=shim.python)
        assert result.ok and (result.modules, result.data) == (4, 7), result.summary()
        shutil.rmtree(src)
        doc = EmbedConfig(archives=[Archive(path="$CONFIG_DIR/app.pack")]).with_options(
            module_search_paths=stdlib_paths(shim.python), run_module="app_main",
            argv=["app_main", str(archive)])
        proc = shim.launch(doc, directory=root)
        assert proc.returncode == 0, proc.stderr
        report = dict(json.loads(proc.stdout.split("@@")[1]))
        report["archive"] = str(archive)
        _REPORTS[shim.minor] = report
    return _REPORTS[shim.minor]


def test_reader_is_compiled_on_first_use(got: Dict[str, Any]) -> None:
    """No reader class exists until importlib.resources asks for one."""
    assert (got["compiled_before"], got["compiled_after"]) == (
        [], ["ArchiveResourceReader", "ArchiveTraversable"])


def test_reader_for_modules_and_unknown_names(got: Dict[str, Any]) -> None:
    """A module gets the reader of its directory; a name not in the archive gets None."""
    assert (got["reader_of_module"], got["reader_of_unknown"]) == ("ArchiveResourceReader", None)


def test_reader_protocol(got: Dict[str, Any]) -> None:
    """read_text, read_binary, open_binary, contents, is_resource: every version."""
    assert {k: got[k] for k in ("read_text", "read_binary", "open_binary", "contents",
                                "is_resource", "open_missing")} == {
        "read_text": "top\n", "read_binary": "00ff0a", "open_binary": "00ff0a",
        "contents": ["bin.dat", "data.txt", "res", "sub"],
        "is_resource": [True, False, False], "open_missing": "!FileNotFoundError"}


def test_path_copies_into_a_temporary_file(got: Dict[str, Any]) -> None:
    """importlib.resources.path(): a temporary file, outside the archive, removed after."""
    assert got["legacy_path"] == ["top\n", True, False, False]


def test_pkgutil_get_data(got: Dict[str, Any]) -> None:
    """pkgutil.get_data reads nested data files; a missing one is FileNotFoundError."""
    assert (got["pkgutil"], got["pkgutil_missing"]) == ("h\u00e9llo\n", "!FileNotFoundError")


@since((3, 10))
def test_files_traversable(shim: Shim, got: Dict[str, Any]) -> None:
    """3.10+: files() is a Traversable over the package's data, sorted, with directories."""
    a = got["archive"]
    assert got["traversable"] == [True, f"{a}/rpkg", "rpkg", True, False]
    assert got["iterdir"] == [["bin.dat", False, True], ["data.txt", False, True],
                              ["res", True, False], ["sub", True, False]]
    # "a.txt" is before "a/b.txt" in the archive's byte order, after "a" here
    assert got["iterdir_res"] == [["a", True], ["a.txt", False], ["deep", True],
                                  ["hello.txt", False]]
    assert got["nested"] == ["leaf\n", "leaf\n", True, f"{a}/rpkg/res/a/b.txt"]


@since((3, 10))
def test_files_open_and_read(shim: Shim, got: Dict[str, Any]) -> None:
    """3.10+: open('rb'), open('r', encoding=...) and read_text(encoding=...)."""
    assert [got["open_rb"], got["open_r"], got["read_text_enc"]] == [
        "h\u00e9llo\n", "h\u00e9llo\n", "h\u00e9llo\n".encode("utf-8").decode("latin-1")]


@since((3, 10))
def test_files_missing_names_behave_like_pathlib(shim: Shim, got: Dict[str, Any]) -> None:
    """3.10+: missing names, a directory read and a file listed raise what pathlib raises."""
    assert {k: got[k] for k in ("missing", "missing_read", "missing_open", "missing_iterdir",
                                "dir_read", "file_iterdir", "open_write")} == {
        "missing": [False, False], "missing_read": "!FileNotFoundError",
        "missing_open": "!FileNotFoundError", "missing_iterdir": "!FileNotFoundError",
        "dir_read": "!IsADirectoryError", "file_iterdir": "!NotADirectoryError",
        "open_write": "!ValueError"}


@since((3, 10))
def test_as_file(shim: Shim, got: Dict[str, Any]) -> None:
    """3.10+: as_file() gives a temporary copy, removed afterwards; 3.12+: of a directory too."""
    assert got["as_file"] == ["h\u00e9llo\n", False, True, False]
    if shim.minor >= (3, 12):
        assert got["as_file_dir"] == ["a.txt", "a/b.txt", "deep/er/leaf.txt", "hello.txt"]


@since((3, 12))
def test_files_of_a_module_and_functional_api(shim: Shim, got: Dict[str, Any]) -> None:
    """3.12+: files(module) is the module's directory; 3.13+: read_text(pkg, *names)."""
    a = got["archive"]
    assert got["files_of_module"] == [f"{a}/rpkg", f"{a}/rpkg"]
    if shim.minor >= (3, 13):
        assert got["functional"] == "h\u00e9llo\n"


@since((3, 8), (3, 9))
def test_files_on_39_and_38(shim: Shim, got: Dict[str, Any]) -> None:
    """3.9: files() ignores the loader (a path inside the archive file); 3.8 has no files()."""
    if shim.minor == (3, 9):
        assert got["files_39"] == ["PosixPath", f"{got['archive']}/rpkg"]
        assert got["files_39_read"] == "!NotADirectoryError"
    else:
        assert got["has_files"] is False
