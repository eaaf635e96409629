"""The standard library imported from an archive, init included, on every CPython.

``embedcfg pack --stdlib`` packs the target's standard library beside the
application; the document's ``module_search_paths`` then holds only
``lib-dynload`` (the extension modules stay on the file system). The shim
installs ``before_path`` archives between the core and the main phase of
init, so ``encodings``, which CPython imports first, and everything after it
come from the archive: the child checks each module's origin and loader, and
records every file of the standard library directory it opens (an audit hook
on ``open``) while it imports fifty standard modules.

The archive is packed once per CPython minor (about two seconds each).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from embedcfg._probe import probe
from embedcfg.checks import stdlib_problems
from embedcfg.model import Archive, ArchivePosition, EmbedConfig
from embedcfg.pack import pack

from .conftest import DUMP, Shim, dump_of, stdlib_paths

IMPORTS = [
    "argparse", "ast", "base64", "bisect", "calendar", "collections", "configparser",
    "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib",
    "email.message", "email.utils", "enum", "fnmatch", "fractions", "functools", "glob",
    "gzip", "hashlib", "heapq", "hmac", "http.client", "inspect", "ipaddress", "json",
    "logging", "operator", "pathlib", "pprint", "queue", "random", "re", "shlex", "shutil",
    "statistics", "string", "struct", "tempfile", "textwrap", "threading", "typing",
    "urllib.parse", "uuid", "zipfile", "traceback", "weakref",
]

MAIN = '''\
import json, sys
stdlib = sys.argv[1]
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open"
                 and str(args[0]).startswith(stdlib) else None)
for name in NAMES:
    __import__(name)
import encodings
origins = {}
for name, module in sorted(sys.modules.items()):
    spec = getattr(module, "__spec__", None)
    origins[name] = [getattr(spec, "origin", None),
                     getattr(getattr(spec, "loader", None), "__name__", None)]
print("@@" + json.dumps({"opened": opened, "origins": origins,
                         "encodings": [encodings.__file__, encodings.__path__],
                         "meta_path": [getattr(f, "__name__", type(f).__name__)
                                       for f in sys.meta_path]}) + "@@")
'''.replace("NAMES", repr(IMPORTS))


@pytest.fixture(scope="module")
def stdlib_archives(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """One ``--stdlib`` archive per interpreter, packed once for the module."""
    return {}


def stdlib_archive(shim: Shim, cache: Dict[str, Path],
                   factory: pytest.TempPathFactory) -> Path:
    if shim.python not in cache:
        out = factory.mktemp("stdlib") / "std.pack"
        result = pack(EmbedConfig().with_options(module_search_paths=[]), str(out),
                      python=shim.python, include_stdlib=True)
        assert result.ok and result.modules > 500, result.summary()
        cache[shim.python] = out
    return cache[shim.python]


def layout(shim: Shim, root: Path, archive: Path) -> Tuple[EmbedConfig, str]:
    """An app directory with the archive, the app's main module in a second archive."""
    (root / "std.pack").symlink_to(archive)
    src = root / "src"
    src.mkdir()
    (src / "app_main.py").write_text(MAIN)
    result = pack(EmbedConfig().with_options(module_search_paths=[str(src)]),
                  str(root / "app.pack"), python=shim.python)
    assert result.ok, result.summary()
    (src / "app_main.py").unlink()  # nothing to fall back to
    stdlib, dynload = stdlib_paths(shim.python)
    cfg = EmbedConfig(archives=[Archive(path="$CONFIG_DIR/app.pack"),
                                Archive(path="$CONFIG_DIR/std.pack")]).with_options(
        module_search_paths=[dynload], run_module="app_main", argv=["app_main", stdlib],
        site_import=False)
    return cfg, stdlib


def report(proc: Any) -> Dict[str, Any]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.split("@@")[1]))


def test_stdlib_comes_from_the_archive(shim: Shim, tmp_path: Path,
                                       stdlib_archives: Dict[str, Path],
                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    """encodings and every other pure-Python standard module are the archive's; nothing
    of the standard library directory is opened; extension modules come from lib-dynload."""
    archive = stdlib_archive(shim, stdlib_archives, tmp_path_factory)
    cfg, stdlib = layout(shim, tmp_path, archive)
    got = report(shim.launch(cfg, directory=tmp_path))
    std = str(tmp_path / "std.pack")
    assert got["opened"] == []
    assert got["encodings"] == [f"{std}/encodings/__init__.py", [f"{std}/encodings"]]
    # the two archives sit before the path finder, in document order
    finders = got["meta_path"]
    assert finders[-3:] == ["embedcfg.archive_importer", "embedcfg.archive_importer",
                            "PathFinder"], finders
    elsewhere: List[Tuple[str, Any]] = []
    for name, (origin, loader) in got["origins"].items():
        if origin in (None, "built-in", "frozen"):
            continue
        if origin.startswith(std + "/"):
            assert loader == "embedcfg.archive_importer", (name, loader)
        elif not origin.startswith(stdlib_paths(shim.python)[1] + "/"):
            elsewhere.append((name, origin))
    assert elsewhere == [("__main__", f"{tmp_path}/app.pack/app_main.py"),
                         ("app_main", f"{tmp_path}/app.pack/app_main.py")] or \
        elsewhere == [("__main__", f"{tmp_path}/app.pack/app_main.py")], elsewhere
    for name in ("json", "decimal", "email.message", "encodings.utf_8"):
        assert got["origins"][name][0].startswith(std + "/"), (name, got["origins"][name])


def _comparable(dump: Dict[str, Any]) -> Dict[str, Any]:
    """The effective configuration minus what the two layouts set differently."""
    config = dict(dump.get("config", dump))
    for key in ("module_search_paths", "argv", "orig_argv", "sys_path_0", "run_module",
                "path", "runtime"):
        config.pop(key, None)
    return config


def test_effective_config_is_the_same_with_the_archive(
        shim: Shim, tmp_path: Path, stdlib_archives: Dict[str, Path],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Stopping init after its core phase for the archive changes nothing else: on 3.14 the
    document then goes through PyConfig instead of PyInitConfig, with the same result."""
    archive = stdlib_archive(shim, stdlib_archives, tmp_path_factory)
    stdlib, dynload = stdlib_paths(shim.python)
    (tmp_path / "std.pack").symlink_to(archive)
    (tmp_path / "dump.py").write_text(DUMP)
    options = dict(run_filename=str(tmp_path / "dump.py"), user_site_directory=False)
    plain = EmbedConfig().with_options(module_search_paths=[stdlib, dynload], **options)
    packed = EmbedConfig(archives=[Archive(path="$CONFIG_DIR/std.pack")]).with_options(
        module_search_paths=[dynload], **options)
    a = dump_of(shim.launch(plain, directory=tmp_path))
    b = dump_of(shim.launch(packed, directory=tmp_path))
    assert b["runtime"]["path"] == [dynload] + a["runtime"]["path"][2:]
    if b["source"] == "_testinternalcapi":
        # CPython keeps the value init was called with: 0 for the core phase on 3.8-3.13,
        # whose _Py_InitializeMain leaves it; 3.14's second Py_InitializeFromConfig sets 1
        assert b["config"]["_init_main"] == (1 if shim.minor >= (3, 14) else 0)
        b["config"]["_init_main"] = a["config"]["_init_main"]
    assert _comparable(b) == _comparable(a)


def test_after_path_archive_does_not_provide_the_stdlib(
        shim: Shim, tmp_path: Path, stdlib_archives: Dict[str, Path],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """An after_path archive is installed after init, too late for encodings: validate
    and the launcher both refuse the document before init, saying what to do."""
    archive = stdlib_archive(shim, stdlib_archives, tmp_path_factory)
    (tmp_path / "std.pack").symlink_to(archive)
    dynload = stdlib_paths(shim.python)[1]
    cfg = EmbedConfig(archives=[Archive(path="$CONFIG_DIR/std.pack",
                                        position=ArchivePosition.AFTER_PATH)]).with_options(
        module_search_paths=[dynload], run_command="pass")
    proc = shim.launch(cfg, directory=tmp_path)
    assert proc.returncode == 78, proc.stderr
    assert "no archives entry packed with --stdlib" in proc.stderr
    target = probe(shim.python)
    problems = stdlib_problems(cfg, config_dir=str(tmp_path), origin=None, target=target)
    assert [p.code for p in problems] == ["EC420"]
    assert "embedcfg pack --stdlib" in problems[0].message
    before = EmbedConfig(archives=[Archive(path="$CONFIG_DIR/std.pack")]).with_options(
        module_search_paths=[dynload])
    assert stdlib_problems(before, config_dir=str(tmp_path), origin=None, target=target) == []


def test_pack_without_stdlib_skips_a_listed_stdlib(shim: Shim, tmp_path: Path) -> None:
    """A document that lists the standard library, packed without --stdlib, packs the
    application alone and says which entries it left out (it crashed on their report)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "app_main.py").write_text("X = 1\n")
    cfg = EmbedConfig().with_options(module_search_paths=[str(src), *stdlib_paths(shim.python)])
    result = pack(cfg, str(tmp_path / "app.pack"), python=shim.python)
    assert result.ok and result.modules == 1, result.summary()
    assert {path for path, _ in result.skipped} >= set(stdlib_paths(shim.python)[:1])
