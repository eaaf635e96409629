"""``embedcfg bundle``: one relocatable directory, on every installed CPython 3.8-3.14.

Every minor found is bundled (the full matrix: a bundle takes a few seconds;
the tests of the bundle command's own refusals and its import check run on the
newest minor only, since they do not depend on the interpreter). The bundle is
then copied elsewhere (``shutil.copytree``), the original and the
application's sources are deleted, the copy is made read-only, and it runs
from another directory with hostile ``PYTHON*`` variables and a ``PATH``
without any Python. The child reports where each of its modules came from.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from embedcfg import cli

from ..pythons import missing_reason
from .conftest import Shim, clean_env

NAME = "hello-bundle"

MAIN = '''\
import json, math, os, sys
import _json
import app_pkg
from app_pkg import tools
try:
    import no_such_module_guarded
except ImportError:
    no_such_module_guarded = None
try:
    from no_such_package import thing
except (ValueError, ModuleNotFoundError):
    thing = None
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import no_such_module_for_typing


def origin(module):
    return getattr(getattr(module, "__spec__", None), "origin", None)


def loader(module):
    found = module.__loader__
    return getattr(found, "__name__", type(found).__name__)


print("@@" + json.dumps({
    "argv": sys.argv[1:], "cwd": os.getcwd(),
    "prefix": sys.prefix, "exec_prefix": sys.exec_prefix, "base_prefix": sys.base_prefix,
    "base_exec_prefix": sys.base_exec_prefix, "executable": sys.executable,
    "path": sys.path,
    "origins": {name: origin(m) for name, m in sorted(sys.modules.items())
                if origin(m) not in (None, "built-in", "frozen")},
    "main": origin(sys.modules["__main__"]),
    "app": origin(app_pkg), "app_loader": loader(app_pkg),
    "json": origin(json), "json_loader": loader(json),
    "_json": origin(_json), "math": origin(math),
    "c_scanner": json.decoder.scanstring is _json.scanstring,
    "data": app_pkg.__loader__.get_data(
        os.path.join(app_pkg.__path__[0], "res", "greeting.txt")).decode(),
    "tools": tools.add(2, 3), "sqrt": math.sqrt(16.0),
    "isolated": sys.flags.isolated, "ignore_environment": sys.flags.ignore_environment,
}) + "@@")
'''


def write_app(root: Path) -> Path:
    """The application's tree and its document (``root/app.toml``)."""
    src = root / "src"
    (src / "app_pkg" / "res").mkdir(parents=True)
    (src / "app_main.py").write_text(MAIN)
    (src / "app_pkg" / "__init__.py").write_text("from . import tools\n")
    (src / "app_pkg" / "tools.py").write_text("from ._impl import add\n")
    (src / "app_pkg" / "_impl.py").write_text("def add(a, b):\n    return a + b\n")
    (src / "app_pkg" / "res" / "greeting.txt").write_text("hello from the archive\n")
    doc = root / "app.toml"
    doc.write_text('version = 1\n\n[options]\nmodule_search_paths = ["$CONFIG_DIR/src"]\n'
                   'run_module = "app_main"\n')
    return doc


def bundle_cmd(doc: Path, out: Path, python: str, *extra: str) -> Tuple[int, str, str]:
    """``embedcfg bundle`` in this process (it only starts interpreters as children)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.run(["bundle", str(doc), "-o", str(out), "--python", python, *extra],
                   stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def writable(tree: Path, on: bool) -> None:
    """chmod -R u+w (on) or a-w (off)."""
    for top, _, files in os.walk(tree):
        for name in [top, *(os.path.join(top, f) for f in files)]:
            mode = os.lstat(name).st_mode
            os.chmod(name, (mode | stat.S_IWUSR) if on else
                     (mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)))


def snapshot(tree: Path) -> Dict[str, Tuple[int, int, int]]:
    """Every path of the tree with its mode, size and modification time."""
    found = {}
    for top, dirs, files in os.walk(tree):
        for name in [top, *(os.path.join(top, f) for f in files)]:
            st = os.lstat(name)
            found[os.path.relpath(name, tree)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return found


class Bundled:
    """A bundle, moved and read-only, and the hostile places it runs from."""

    def __init__(self, root: Path, shim: Shim, *extra: str) -> None:
        self.shim = shim
        work = root / "work"
        work.mkdir()
        doc = write_app(work)
        code, out, err = bundle_cmd(doc, work / "dist", shim.python, "--name", NAME, *extra)
        assert code == 0, err
        self.stdout = out
        # moved: the original bundle and the application's sources are gone
        self.dir = root / "elsewhere" / "moved-bundle"
        shutil.copytree(work / "dist", self.dir, symlinks=True)
        shutil.rmtree(work)
        writable(self.dir, False)
        self.cwd = root / "cwd"
        self.cwd.mkdir()
        self.poison = root / "poison"
        (self.poison / "app_pkg").mkdir(parents=True)
        for module in ("json.py", "app_main.py", "app_pkg/__init__.py", "encodings.py"):
            (self.poison / module).write_text(
                f"open({str(self.poison / 'imported')!r}, 'w').close()\n"
                "raise SystemExit('poisoned module imported')\n")
        (self.poison / "startup.py").write_text(
            f"open({str(self.poison / 'startup-ran')!r}, 'w').close()\n")
        self.no_python = root / "no-python-bin"  # PATH: an empty directory
        self.no_python.mkdir()

    def hostile_env(self) -> Dict[str, str]:
        p = str(self.poison)
        return clean_env(
            PATH=str(self.no_python), PWD=str(self.cwd), PYTHONPATH=p, PYTHONHOME=p,
            PYTHONSTARTUP=str(self.poison / "startup.py"), PYTHONINSPECT="1",
            PYTHONEXECUTABLE=str(self.poison / "python"), PYTHONPYCACHEPREFIX=str(
                self.poison / "pycache"), PYTHONUSERBASE=p, PYTHONPLATLIBDIR="poison",
            PYTHONVERBOSE="1", PYTHONWARNINGS="error", PYTHONSAFEPATH="",
            PYTHONNOUSERSITE="", PYTHONDEVMODE="1", PYTHONMALLOC="debug")

    def run(self, *args: str, env: Dict[str, str]) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([str(self.dir / "bin" / NAME), *args], cwd=self.cwd, env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120, check=False)


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One moved, read-only bundle per CPython minor and session."""
    made: Dict[Tuple[int, int], Bundled] = {}

    def get(shim: Shim) -> Bundled:
        if shim.minor not in made:
            made[shim.minor] = Bundled(tmp_path_factory.mktemp(f"bundle{shim.minor[1]}"), shim)
        return made[shim.minor]

    yield get
    for b in made.values():
        writable(b.dir, True)


@pytest.fixture
def bundled(shim: Shim, bundles: Any, shim_cache: Path,
            monkeypatch: pytest.MonkeyPatch) -> Bundled:
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(shim_cache))  # the session's builds
    return bundles(shim)  # type: ignore[no-any-return]


def report(proc: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.split("@@")[1]))


def inside(path: str, top: Path) -> bool:
    real = os.path.realpath(path)
    return real == str(top) or real.startswith(str(top) + os.sep)


def test_bundle_layout(bundled: Bundled) -> None:
    """bin/NAME (the launcher under the application's name) with its document and the shim
    beside it, libpython (its soname), the archive, lib-dynload; the output lists them and
    the size."""
    d = bundled.dir
    minor = f"{bundled.shim.minor[0]}.{bundled.shim.minor[1]}"
    assert (d / "bin" / NAME).is_file() and os.access(d / "bin" / NAME, os.X_OK)
    assert (d / "bin" / "libembedcfg.so").is_file()
    assert not (d / "bin" / "embedcfg-launch").exists()  # bin/NAME is the launcher itself
    assert (d / "lib" / f"libpython{minor}.so.1.0").is_file()
    assert (d / "lib" / f"{NAME}.pack").is_file() and (d / ".embedcfg-bundle").is_file()
    assert any(p.name.startswith("math.") for p in (d / "lib" / f"python{minor}"
                                                    / "lib-dynload").iterdir())
    doc = json.loads((d / "bin" / f"{NAME}.json").read_text())
    paths = [doc["lib"], doc["options"]["home"], *doc["options"]["module_search_paths"],
             *(a["path"] for a in doc["archives"])]
    assert all(p.startswith("$ORIGIN/") for p in paths), paths
    assert doc["archives"][0]["position"] == "before_path"
    assert "lib-dynload" in bundled.stdout and "bundled hello-bundle" in bundled.stdout
    assert "MiB" in bundled.stdout.splitlines()[-1]


def test_bundled_document_validates(bundled: Bundled) -> None:
    """The document the bundle holds is valid."""
    stdout, stderr = io.StringIO(), io.StringIO()
    assert cli.run(["validate", str(bundled.dir / "bin" / f"{NAME}.json")], stdout, stderr) == 0, \
        stdout.getvalue() + stderr.getvalue()


def test_moved_read_only_bundle_runs_in_a_hostile_environment(bundled: Bundled) -> None:
    """From a copy elsewhere, another cwd, hostile PYTHON* variables, a PATH
    without Python: it runs, its arguments pass through, and everything it
    imports comes from the bundle (app and stdlib from the archive)."""
    before = {p: snapshot(p) for p in (bundled.dir, bundled.cwd, bundled.poison)}
    proc = bundled.run("one", "two words", env=bundled.hostile_env())
    got = report(proc)
    assert proc.stderr == ""  # PYTHONVERBOSE, PYTHONDEVMODE... were not read
    assert {p: snapshot(p) for p in before} == before  # nothing written anywhere
    d = bundled.dir
    archive = d / "lib" / f"{NAME}.pack"
    assert got["argv"] == ["one", "two words"] and got["cwd"] == str(bundled.cwd)
    for key in ("prefix", "exec_prefix", "base_prefix", "base_exec_prefix"):
        assert os.path.realpath(got[key]) == str(d), (key, got[key])
    assert inside(got["executable"], d), got["executable"]
    assert got["path"] and all(inside(p, d) for p in got["path"]), got["path"]
    outside = {name: o for name, o in got["origins"].items() if not inside(o, d)}
    assert outside == {}
    assert os.path.realpath(got["app"]) == str(archive / "app_pkg" / "__init__.py")
    assert os.path.realpath(got["main"]) == str(archive / "app_main.py")
    assert os.path.realpath(got["json"]) == str(archive / "json" / "__init__.py")
    assert got["app_loader"] == got["json_loader"] == "embedcfg.archive_importer"
    dynload = d / "lib" / f"python{bundled.shim.minor[0]}.{bundled.shim.minor[1]}" / "lib-dynload"
    assert inside(got["_json"], dynload) and inside(got["math"], dynload)
    assert got["c_scanner"] and got["sqrt"] == 4.0 and got["tools"] == 5
    assert got["data"] == "hello from the archive\n"
    assert (got["isolated"], got["ignore_environment"]) == (1, 1)
    assert not (bundled.poison / "imported").exists()
    assert not (bundled.poison / "startup-ran").exists()


def test_bundle_runs_through_a_symbolic_link(bundled: Bundled, tmp_path: Path) -> None:
    """bin/NAME reached through a symbolic link (as from /usr/local/bin) still finds its bundle."""
    link = tmp_path / NAME
    link.symlink_to(bundled.dir / "bin" / NAME)
    env = clean_env(PATH="/usr/bin:/bin")  # readlink resolves the link
    proc = subprocess.run([str(link), "x"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert report(proc)["argv"] == ["x"]


_SYSTEM = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/etc/ld.so.", "/etc/localtime",
           "/usr/share/locale/", "/usr/lib/locale/", "/dev/", "/proc/self/", "/proc/sys/",
           "/sys/")


def test_nothing_outside_the_bundle_is_read(bundled: Bundled, tmp_path: Path) -> None:
    """Under strace, every file the program looks at is in the bundle, a system
    library or locale file, or a parent directory of the bundle (the launcher's
    path-security check stats them): CPython's path calculation searches
    nothing else, and the loader follows no build-machine RUNPATH."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    trace = tmp_path / "trace"
    proc = subprocess.run([strace, "-f", "-qq", "-e", "trace=%file", "-o", str(trace),
                           str(bundled.dir / "bin" / NAME)], cwd=bundled.cwd,
                          env=bundled.hostile_env(), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, check=False)
    report(proc)
    parents = {str(p) for p in bundled.dir.parents}
    looked_at: List[str] = []
    for line in trace.read_text().splitlines():
        if '"' not in line or "execve(" in line and NAME in line:
            continue
        path = line.split('"')[1]
        if path in ("", ".", str(bundled.cwd)) or path in parents:
            continue
        if inside(path, bundled.dir) or path.startswith(_SYSTEM):
            continue
        looked_at.append(line)
    assert looked_at == [], "\n".join(looked_at)


def test_missing_import_is_a_located_error(newest: Shim, tmp_path: Path) -> None:
    """An import that the bundle cannot satisfy is `file:line: error: ...` with
    the fix, exit 1, and nothing is written; guarded imports are not errors."""
    doc = write_app(tmp_path)
    tools = tmp_path / "src" / "app_pkg" / "tools.py"
    tools.write_text("from ._impl import add\n\n\ndef later():\n    import nosuch_dependency.sub\n"
                     "    from .nosuch_sibling import x\n")
    out = tmp_path / "dist"
    code, stdout, stderr = bundle_cmd(doc, out, newest.python)
    assert code == cli.EXIT_PROBLEMS and not out.exists() and stdout == ""
    lines = stderr.splitlines()
    real = os.path.realpath(tools)
    assert lines[0].startswith(f"{real}:5: error: module 'nosuch_dependency'"
                               " (import nosuch_dependency.sub) cannot be found"), lines
    assert lines[1].startswith(f"{real}:6: error: module 'app_pkg.nosuch_sibling'"), lines
    assert "add the directory that holds it to options.module_search_paths" in lines[0]
    assert lines[-1] == "bundle failed: 2 import(s) cannot be found; nothing was written"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_run_module_is_located_in_the_document(newest: Shim, tmp_path: Path) -> None:
    """A run_module that is not there is reported at its line of the document."""
    doc = write_app(tmp_path)
    doc.write_text(doc.read_text().replace('"app_main"', '"app_mian"'))
    code, _, stderr = bundle_cmd(doc, tmp_path / "dist", newest.python)
    assert code == cli.EXIT_PROBLEMS
    assert stderr.startswith(f"{doc}:5: options.run_module: error: module 'app_mian' cannot"
                             " be found"), stderr


def test_refuses_a_directory_that_is_not_a_bundle(newest: Shim, tmp_path: Path) -> None:
    """A non-empty DIR without the bundle marker: usage error, untouched; --force replaces it."""
    doc = write_app(tmp_path)
    out = tmp_path / "dist"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    code, _, stderr = bundle_cmd(doc, out, newest.python)
    assert code == cli.EXIT_USAGE
    assert "is not empty and is not a bundle" in stderr and "--force" in stderr
    assert [p.name for p in out.iterdir()] == ["precious.txt"]
    code, _, stderr = bundle_cmd(doc, out, newest.python, "--force")
    assert code == 0, stderr
    assert not (out / "precious.txt").exists() and (out / "bin" / "app").is_file()


def test_replaces_a_previous_read_only_bundle(newest: Shim, tmp_path: Path) -> None:
    """A previous bundle (read-only, even) is replaced without --force, and
    nothing is left beside it."""
    doc = write_app(tmp_path)
    out = tmp_path / "dist"
    assert bundle_cmd(doc, out, newest.python)[0] == 0
    writable(out, False)
    (tmp_path / "src" / "app_pkg" / "res" / "greeting.txt").write_text("second\n")
    code, _, stderr = bundle_cmd(doc, out, newest.python)
    assert code == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.toml", "dist", "src"]
    proc = subprocess.run([str(out / "bin" / "app")], env=clean_env(), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert report(proc)["data"] == "second\n"


def test_a_module_that_does_not_compile_writes_nothing(newest: Shim, tmp_path: Path) -> None:
    """A syntax error in the application: exit 1, the module named, no directory."""
    doc = write_app(tmp_path)
    (tmp_path / "src" / "app_pkg" / "broken.py").write_text("def f(:\n")
    out = tmp_path / "dist"
    code, _, stderr = bundle_cmd(doc, out, newest.python)
    assert code == cli.EXIT_PROBLEMS and not out.exists()
    assert "broken.py: SyntaxError" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.toml", "src"]


def _run_bundle(out: Path, name: str, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([str(out / "bin" / name), *args], env=clean_env(), cwd=out.parent,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=120, check=False)


def test_run_filename_and_run_command_targets(newest: Shim, tmp_path: Path) -> None:
    """run_filename (the script is copied into the bundle) and run_command run too."""
    doc = write_app(tmp_path)
    script = tmp_path / "script.py"
    script.write_text("import sys, app_pkg.tools\nprint('script', app_pkg.tools.add(1, 2),"
                      " sys.argv[1:])\n")
    for key, value in (("run_filename", "$CONFIG_DIR/script.py"),
                       ("run_command", "import sys, app_pkg; print('command', sys.argv[1:])")):
        doc.write_text(doc.read_text().split("run_")[0] + f"{key} = {json.dumps(value)}\n")
        out = tmp_path / key
        code, _, stderr = bundle_cmd(doc, out, newest.python, "--name", "app")
        assert code == 0, stderr
        proc = _run_bundle(out, "app", "a")
        assert proc.returncode == 0, proc.stderr
        word = "script 3" if key == "run_filename" else "command"
        assert proc.stdout == f"{word} ['a']\n"
    script.unlink()  # the bundle has its own copy
    assert _run_bundle(tmp_path / "run_filename", "app").stdout == "script 3 []\n"


def test_a_document_that_lists_the_stdlib(newest: Shim, tmp_path: Path) -> None:
    """The target's standard library directories on module_search_paths are
    recognized: packed, not walked as the application, replaced in the bundle."""
    from .conftest import stdlib_paths

    doc = write_app(tmp_path)
    paths = [*stdlib_paths(newest.python), "$CONFIG_DIR/src"]
    doc.write_text(doc.read_text().replace('["$CONFIG_DIR/src"]', json.dumps(paths)))
    out = tmp_path / "dist"
    code, _, stderr = bundle_cmd(doc, out, newest.python)
    assert code == 0, stderr
    bundled = json.loads((out / "bin" / "app.json").read_text())
    assert all(p.startswith("$ORIGIN/") for p in bundled["options"]["module_search_paths"])
    assert report(_run_bundle(out, "app"))["tools"] == 5


def test_the_apps_own_extension_module(newest: Shim, tmp_path: Path) -> None:
    """A top-level extension module on the app's search path is copied to
    lib/ext, found by the import check, and imported from there."""
    from embedcfg.build import probe

    from .conftest import HERE

    doc = write_app(tmp_path)
    target = probe(newest.python)
    so = tmp_path / "src" / "ecfg_single.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-std=c99", *(f"-I{i}" for i in target.includes),
                    str(HERE / "ext_modules.c"), "-o", str(so)], check=True)
    main = tmp_path / "src" / "app_main.py"
    main.write_text("import ecfg_single\n" + main.read_text().replace(
        '"tools": tools.add(2, 3)', '"tools": ecfg_single.add(2, 3), "ext": origin(ecfg_single)'))
    out = tmp_path / "dist"
    code, _, stderr = bundle_cmd(doc, out, newest.python)
    assert code == 0, stderr
    got = report(_run_bundle(out, "app"))
    assert got["tools"] == 5 and os.path.realpath(got["ext"]) == str(out / "lib" / "ext"
                                                                      / "ecfg_single.so")


def test_requires_python_is_checked_against_the_target(newest: Shim, tmp_path: Path) -> None:
    """A target that requires_python does not admit: exit 1 before anything is written."""
    doc = write_app(tmp_path)
    below = f"<{newest.minor[0]}.{newest.minor[1]}"
    doc.write_text(doc.read_text().replace("version = 1\n",
                                           f'version = 1\nrequires_python = "{below}"\n'))
    code, _, stderr = bundle_cmd(doc, tmp_path / "dist", newest.python)
    assert code == cli.EXIT_PROBLEMS and not (tmp_path / "dist").exists()
    assert f"requires_python '{below}' does not admit CPython" in stderr, stderr
    assert "--python" in stderr


GUARDS = '''\
import typing
try:
    import gone_1
except ImportError:
    pass
try:
    import gone_2
except (ValueError, ModuleNotFoundError) as e:
    pass
try:
    import gone_3
except:
    pass
if typing.TYPE_CHECKING:
    import gone_4
else:
    import needed_1
try:
    pass
except ImportError:
    import needed_2
else:
    import needed_3
try:
    import needed_4
except ValueError:
    pass
def later():
    import needed_5
import os.path, xml.etree.ElementTree
from xml import etree, sax
from xml.nothere import thing
import collections.abc
from collections.abc import Mapping
'''


def test_which_imports_are_guarded(newest: Shim, tmp_path: Path) -> None:
    """try/except ImportError, ModuleNotFoundError or bare, and TYPE_CHECKING
    guard an import; an else branch, a handler, other exceptions and a
    function body do not. Names below a module that is no package (os.path)
    are not judged; a missing submodule of a stdlib package is, but not one
    that its package puts into sys.modules itself (3.14's collections.abc,
    which has no file: it is _collections_abc)."""
    from embedcfg.bundle import check_imports
    from embedcfg.model import EmbedConfig

    from .conftest import stdlib_paths

    src = tmp_path / "src"
    src.mkdir()
    (src / "guards.py").write_text(GUARDS)
    cfg = EmbedConfig().with_options(module_search_paths=[str(src)], run_module="guards")
    stdlib, dynload = stdlib_paths(newest.python)
    missing = check_imports(cfg, python=newest.python, roots=[str(src)], stdlib=stdlib,
                            dynload=dynload, config_dir=str(tmp_path))
    assert [(m.module, m.line) for m in missing] == [
        ("needed_1", 17), ("needed_2", 21), ("needed_3", 23), ("needed_4", 25),
        ("needed_5", 29), ("xml.nothere", 32)]


def test_the_documents_own_archive(newest: Shim, tmp_path: Path) -> None:
    """An archive the document already imports from is checked, copied in,
    and its modules satisfy the import check; one packed for another CPython
    is refused."""
    from embedcfg.model import EmbedConfig
    from embedcfg.pack import pack
    from tests.pythons import installed_pythons

    doc = write_app(tmp_path)
    extra = tmp_path / "extra"
    (extra / "plugin").mkdir(parents=True)
    (extra / "plugin" / "__init__.py").write_text("NAME = 'plugin from its own archive'\n")
    packed = pack(EmbedConfig().with_options(module_search_paths=[str(extra)]),
                  str(tmp_path / "plugins.pack"), python=newest.python)
    assert packed.ok, packed.summary()
    shutil.rmtree(extra)
    main = tmp_path / "src" / "app_main.py"
    main.write_text("import plugin\n" + main.read_text().replace(
        '"sqrt":', '"plugin": plugin.NAME, "sqrt":'))
    doc.write_text(doc.read_text().replace(
        "[options]", '[[archives]]\npath = "$CONFIG_DIR/plugins.pack"\n\n[options]'))
    out = tmp_path / "dist"
    code, _, stderr = bundle_cmd(doc, out, newest.python)
    assert code == 0, stderr
    (tmp_path / "plugins.pack").rename(tmp_path / "moved.pack")
    assert report(_run_bundle(out, "app"))["plugin"] == "plugin from its own archive"
    others = [str(p) for m, p in sorted(installed_pythons().items()) if m != newest.minor]
    if others:
        assert pack(EmbedConfig().with_options(module_search_paths=[str(tmp_path / "src")]),
                    str(tmp_path / "plugins.pack"), python=others[0]).ok
        code, _, stderr = bundle_cmd(doc, tmp_path / "other", newest.python)
        assert code == cli.EXIT_PROBLEMS and "pack it again with --python" in stderr, stderr


@pytest.fixture(params=["newest", (3, 8)], ids=["newest", "3.8"])
def static_bundled(request: pytest.FixtureRequest, shims: Any,
                   pythons: Dict[Tuple[int, int], str], shim_cache: Path,
                   tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Bundled]:
    """A moved, read-only bundle made with --link static (newest minor and 3.8)."""
    if not pythons:
        pytest.skip("no CPython is installed through pyenv")
    minor = max(pythons) if request.param == "newest" else request.param
    if minor not in pythons:
        pytest.skip(missing_reason(minor))
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(shim_cache))
    made = Bundled(tmp_path_factory.mktemp(f"static-bundle{minor[1]}"), shims.get_shim(minor),
                   "--link", "static")
    yield made
    writable(made.dir, True)


def test_static_bundle_runs_without_libpython(static_bundled: Bundled) -> None:
    """--link static: bin/NAME is the static launcher, alone in bin/ with its document;
    no libpython is copied or needed, the document has no lib, and the moved, read-only
    copy runs in a hostile environment with its extension modules from the bundle."""
    d = static_bundled.dir
    minor = f"{static_bundled.shim.minor[0]}.{static_bundled.shim.minor[1]}"
    assert sorted(p.name for p in (d / "bin").iterdir()) == [NAME, f"{NAME}.json"]
    assert list((d / "lib").glob("libpython*")) == []
    needed = subprocess.run(["readelf", "-d", str(d / "bin" / NAME)], capture_output=True,
                            text=True, check=True).stdout
    assert "(NEEDED)" in needed and "libpython" not in needed, needed
    doc = json.loads((d / "bin" / f"{NAME}.json").read_text())
    assert "lib" not in doc and doc["options"]["home"] == "$ORIGIN/..", doc
    # the size line counts what was written: the launcher, not a libpython
    last = static_bundled.stdout.splitlines()[-1]
    size = sum(os.lstat(os.path.join(top, f)).st_size
               for top, _, files in os.walk(d) for f in files)
    assert f"({size} bytes)" in last, last

    proc = static_bundled.run("one", "two words", env=static_bundled.hostile_env())
    got = report(proc)
    assert proc.stderr == ""
    assert got["argv"] == ["one", "two words"] and got["cwd"] == str(static_bundled.cwd)
    for key in ("prefix", "exec_prefix", "base_prefix", "base_exec_prefix"):
        assert os.path.realpath(got[key]) == str(d), (key, got[key])
    assert os.path.realpath(got["executable"]) == str(d / "bin" / NAME)
    outside = {name: o for name, o in got["origins"].items() if not inside(o, d)}
    assert outside == {}
    archive = d / "lib" / f"{NAME}.pack"
    assert os.path.realpath(got["json"]) == str(archive / "json" / "__init__.py")
    dynload = d / "lib" / f"python{minor}" / "lib-dynload"
    assert inside(got["_json"], dynload) and inside(got["math"], dynload)
    assert got["c_scanner"] and got["sqrt"] == 4.0 and got["tools"] == 5
    assert got["data"] == "hello from the archive\n"
    assert (got["isolated"], got["ignore_environment"]) == (1, 1)
    assert not (static_bundled.poison / "imported").exists()
    assert not (static_bundled.poison / "startup-ran").exists()
