"""``embedcfg bundle --onefile``: one executable, on every installed CPython 3.8-3.14.

Every minor with a static library is bundled into one file: an application
package (from the archive), a nested and a top-level third-party extension
module compiled here the way a wheel builds them (one of them multi-phase), a
binary wheel from the package index (markupsafe, with its C extension inside
the package), and the standard library's C extensions. The file is copied to another
directory under another name, the original and the sources are deleted, and
it runs from a read-only directory with a ``PATH`` that holds no Python and
``HOME``, ``TMPDIR`` and ``XDG_RUNTIME_DIR`` pointing at empty directories,
which must stay empty: the extension modules are loaded from anonymous
memory files (the child reads its own ``/proc/self/maps``). Then the
extraction fallback (``EMBEDCFG_ONEFILE_EXTRACT=1``), the refusal of a
corrupted payload (the launcher and :func:`embedcfg.onefile.read_onefile`
give the same message) and the command's own refusals.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest

from embedcfg import cli
from embedcfg.onefile import (ARCHIVE, DOCUMENT, EXTENSION, OneFileError, read_onefile)

from .conftest import Shim, clean_env, compile_extension

MAIN = r'''
import json, os, sys
import _json, math
import app_pkg
from app_pkg import ecfg_nested
import ecfg_multi
import markupsafe, markupsafe._speedups

results = {}
def attempt(name, work):
    try:
        module = __import__(name)
    except ImportError as e:
        results[name] = "absent: %s" % e
        return
    results[name] = work(module)
attempt("_ctypes", lambda m: __import__("ctypes").c_int(41).value + 1)
attempt("_decimal", lambda m: str(m.Decimal(1) / m.Decimal(7)))
attempt("_sqlite3", lambda m: m.connect(":memory:").execute("select 6 * 7").fetchone()[0])
import ctypes
first = sys.modules.pop("ecfg_multi")
import ecfg_multi  # again: the same library, from the same memory file
again = [ecfg_multi is not first, ecfg_multi.add(1, 1)]
maps = open("/proc/self/maps").read().splitlines()
inodes = {}
for line in maps:
    fields = line.split(None, 5)
    if len(fields) == 6 and fields[5].startswith("/memfd:"):
        inodes.setdefault(fields[5].split()[0][len("/memfd:"):], set()).add(fields[4])
mapped = sorted(set(line.split(None, 5)[5] for line in maps if len(line.split(None, 5)) == 6))
print("@@" + json.dumps({
    "argv": sys.argv, "executable": sys.executable, "path": sys.path,
    "prefix": sys.prefix,
    "files": {name: getattr(sys.modules[name], "__file__", None)
              for name in ("app_pkg", "json", "_json", "math", "app_pkg.ecfg_nested",
                           "ecfg_multi", "markupsafe._speedups")},
    "loaders": {name: type(sys.modules[name].__loader__).__name__
                if not hasattr(sys.modules[name].__loader__, "__name__")
                else sys.modules[name].__loader__.__name__
                for name in ("app_pkg", "_json", "ecfg_multi")},
    "results": results, "nested": [ecfg_nested.kind, ecfg_nested.add(40, 2)],
    "multi": [ecfg_multi.kind, ecfg_multi.add(2, 3)], "again": again,
    "wheel": str(markupsafe.escape("<a & b>")),
    "inodes": {name: len(found) for name, found in inodes.items()},
    "data": app_pkg.__loader__.get_data(app_pkg.__path__[0] + "/res/greeting.txt").decode(),
    "pythonapi": ctypes.pythonapi.Py_IsInitialized(),
    "memfd": sorted(p for p in mapped if p.startswith("/memfd:")),
    "mapped": mapped,
}) + "@@")
'''

EXTENSION_C = r'''
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args)
{
    long a, b;
    (void)self;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) {
        return NULL;
    }
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {{"add", add, METH_VARARGS, NULL}, {NULL, NULL, 0, NULL}};
%s
'''

SINGLE = r'''
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ecfg_nested", NULL, -1, methods,
                                 NULL, NULL, NULL, NULL};
PyMODINIT_FUNC PyInit_ecfg_nested(void)
{
    PyObject *m = PyModule_Create(&def);
    if (m != NULL && PyModule_AddStringConstant(m, "kind", "single") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
'''

MULTI = r'''
static int exec_(PyObject *m) { return PyModule_AddStringConstant(m, "kind", "multi"); }
static PyModuleDef_Slot slots[] = {{Py_mod_exec, (void *)exec_}, {0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ecfg_multi", NULL, 0, methods,
                                 slots, NULL, NULL, NULL};
PyMODINIT_FUNC PyInit_ecfg_multi(void) { return PyModuleDef_Init(&def); }
'''


def write_app(root: Path, python: str, wheel: Path) -> Path:
    """The application's tree, with the wheel installed in ``wheel``, and its
    document (``root/app.toml``)."""
    src = root / "src"
    shutil.copytree(wheel, src)
    (src / "app_pkg" / "res").mkdir(parents=True)
    (src / "app_main.py").write_text(MAIN)
    (src / "app_pkg" / "__init__.py").write_text("")
    (src / "app_pkg" / "res" / "greeting.txt").write_text("hello from the payload\n")
    build = root / "build"
    build.mkdir()
    for name, body, where in (("ecfg_nested", SINGLE, src / "app_pkg"),
                              ("ecfg_multi", MULTI, src)):
        source = build / f"{name}.c"
        source.write_text(EXTENSION_C % body)
        built = compile_extension(python, source, name, build)
        shutil.copy2(built, where / built.name)
    doc = root / "app.toml"
    doc.write_text('version = 1\nprofile = "isolated"\n\n[options]\nsite_import = false\n'
                   'module_search_paths = ["$CONFIG_DIR/src"]\nrun_module = "app_main"\n')
    return doc


def bundle_cmd(doc: Path, out: Path, python: str, *extra: str) -> Tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.run(["bundle", str(doc), "-o", str(out), "--python", python, "--onefile",
                    *extra], stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


class OneFile:
    """A one-file application, copied elsewhere under another name, and the
    empty places it runs with."""

    def __init__(self, root: Path, shim: Shim, wheel: Path) -> None:
        self.shim = shim
        work = root / "work"
        work.mkdir()
        doc = write_app(work, shim.python, wheel)
        code, out, err = bundle_cmd(doc, work / "app", shim.python)
        assert code == 0, err
        assert "into one file" in out, out
        self.exe = root / "elsewhere" / "renamed-app"
        self.exe.parent.mkdir()
        shutil.copy2(work / "app", self.exe)
        shutil.rmtree(work)
        self.cwd = root / "cwd"
        self.cwd.mkdir()
        os.chmod(self.cwd, 0o555)
        self.empty = {name: root / name for name in ("home", "tmp", "runtime", "no-python")}
        for path in self.empty.values():
            path.mkdir(mode=0o700)

    def env(self, **extra: str) -> Dict[str, str]:
        places = {"PATH": str(self.empty["no-python"]), "HOME": str(self.empty["home"]),
                  "TMPDIR": str(self.empty["tmp"]),
                  "XDG_RUNTIME_DIR": str(self.empty["runtime"])}
        return clean_env(**{**places, **extra})

    def run(self, *args: str, exe: Path = None,  # type: ignore[assignment]
            **env: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([str(exe or self.exe), *args], cwd=self.cwd, env=self.env(**env),
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120, check=False)


def report(proc: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.split("@@")[1]))


@pytest.fixture(scope="session")
def onefiles(tmp_path_factory: pytest.TempPathFactory, wheels: Any) -> Iterator[Any]:
    made: Dict[Tuple[int, int], OneFile] = {}

    def get(shim: Shim) -> OneFile:
        if shim.minor not in made:
            made[shim.minor] = OneFile(tmp_path_factory.mktemp(f"onefile{shim.minor[1]}"),
                                       shim, wheels(shim.python))
        return made[shim.minor]

    yield get
    for f in made.values():
        os.chmod(f.cwd, 0o755)


@pytest.fixture
def onefile(shim: Shim, onefiles: Any, shim_cache: Path,
            monkeypatch: pytest.MonkeyPatch) -> OneFile:
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(shim_cache))  # the session's builds
    return onefiles(shim)  # type: ignore[no-any-return]


@pytest.fixture
def newest_onefile(newest: Shim, onefiles: Any, shim_cache: Path,
                   monkeypatch: pytest.MonkeyPatch) -> OneFile:
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(shim_cache))
    return onefiles(newest)  # type: ignore[no-any-return]


def test_runs_copied_and_renamed_with_no_python_and_writes_nothing(onefile: OneFile) -> None:
    """The copied, renamed file runs its application with every module from
    itself: pure Python from the archive, extension modules (stdlib, a
    nested and a multi-phase third-party one) from anonymous memory files;
    nothing is written anywhere."""
    before = {name: sorted(os.listdir(p)) for name, p in onefile.empty.items()}
    r = report(onefile.run("one", "two"))
    exe = str(onefile.exe)
    assert r["argv"] == [f"{exe}/app_main.py", "one", "two"]  # runpy's argv[0]
    assert r["executable"] == exe
    assert r["path"] == [], "nothing on disk to import from"
    assert r["prefix"] == str(onefile.exe.parent)
    files = r["files"]
    assert files["app_pkg"] == f"{exe}/app_pkg/__init__.py"
    assert files["json"] == f"{exe}/json/__init__.py"
    for name in ("_json", "math", "app_pkg.ecfg_nested", "ecfg_multi",
                 "markupsafe._speedups"):
        path = files[name]
        assert path.startswith(f"{exe}/{name.replace('.', '/')}.cpython-3"), path
        assert path.endswith(".so"), path
    assert r["loaders"] == {"app_pkg": "embedcfg.archive_importer",
                            "_json": "embedcfg.extension_importer",
                            "ecfg_multi": "embedcfg.extension_importer"}
    assert r["nested"] == ["single", 42] and r["multi"] == ["multi", 5]
    assert r["again"] == [True, 2]
    assert r["wheel"] == "&lt;a &amp; b&gt;"  # markupsafe, a wheel from the package index
    assert set(r["inodes"].values()) == {1}, "one memory file per module, reused"
    assert r["results"]["_ctypes"] == 42 and r["results"]["_decimal"].startswith("0.142857")
    assert r["data"] == "hello from the payload\n"
    assert r["pythonapi"] == 1
    memfd = {p.split(":", 1)[1].split()[0] for p in r["memfd"]}
    assert {"_json", "math", "app_pkg.ecfg_nested", "ecfg_multi", "_ctypes",
            "markupsafe._speedups"} <= memfd, r["memfd"]
    # no extension module mapped from a file: only the executable and system libraries
    assert not [p for p in r["mapped"] if ".cpython-3" in p], r["mapped"]
    assert {name: sorted(os.listdir(p)) for name, p in onefile.empty.items()} == before


def test_results_match_the_cpythons_own_python(onefile: OneFile, tmp_path: Path) -> None:
    """The standard library's C extensions give the answers of the same
    CPython's own python (_sqlite3 absent where this CPython did not build it)."""
    code = MAIN.split("import ctypes\n")[0].replace("import app_pkg\n", "").replace(
        "from app_pkg import ecfg_nested\n", "").replace("import ecfg_multi\n", "").replace(
        "import markupsafe, markupsafe._speedups\n", "")
    code += "print('@@' + json.dumps(results) + '@@')\n"
    own = subprocess.run([onefile.shim.python, "-I", "-S", "-c", code], capture_output=True,
                         text=True, env=clean_env(), timeout=120, check=False)
    assert own.returncode == 0, own.stderr
    assert report(onefile.run())["results"] == json.loads(own.stdout.split("@@")[1])


def test_the_payload_reads_back(onefile: OneFile) -> None:
    """read_onefile checks every section: one document without the bundle's
    directory paths, the archive of app and stdlib, the extension modules."""
    info = read_onefile(str(onefile.exe))
    assert info is not None
    kinds = [s.kind for s in info.sections]
    assert kinds[0] == DOCUMENT and kinds[1] == ARCHIVE and set(kinds[2:]) == {EXTENSION}
    doc = json.loads(info.document)
    assert doc["options"]["home"] == "$ORIGIN"
    assert doc["options"]["module_search_paths"] == []
    assert "archives" not in doc and "lib" not in doc
    names = [s.name for s in info.of_kind(EXTENSION)]
    assert names == sorted(names, key=str.encode)
    assert {"_json", "app_pkg.ecfg_nested", "ecfg_multi"} <= set(names)
    if shutil.which("readelf") and shutil.which("strip"):
        # the launcher without libpython's DWARF sections; its symbols stay
        headers = subprocess.run(["readelf", "-S", "-W", str(onefile.exe)],
                                 capture_output=True, text=True, check=True).stdout
        assert ".debug_info" not in headers and ".symtab" in headers, headers


def test_extraction_fallback_is_private_and_reused(newest_onefile: OneFile,
                                                  tmp_path: Path) -> None:
    """EMBEDCFG_ONEFILE_EXTRACT=1 (what happens where memfd code cannot be
    mapped): each module is extracted once into TMPDIR/embedcfg-UID/onefile-ID,
    mode 0700, reused by the next start; a changed file is written again."""
    f = newest_onefile
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    r = report(f.run(EMBEDCFG_ONEFILE_EXTRACT="1", TMPDIR=str(tmp), XDG_RUNTIME_DIR=""))
    info = read_onefile(str(f.exe))
    assert info is not None
    top = tmp / f"embedcfg-{os.geteuid()}"
    where = top / f"onefile-{info.id:08x}"
    assert stat.S_IMODE(top.stat().st_mode) == 0o700
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    extracted = sorted(os.listdir(where))
    assert any(n.startswith("_json.") for n in extracted), extracted
    assert any(n.startswith("app_pkg.ecfg_nested.") for n in extracted), extracted
    assert r["memfd"] == []
    assert any(p.startswith(str(where)) for p in r["mapped"])
    assert r["files"]["_json"].startswith(f"{f.exe}/_json."), "the virtual path all the same"
    stamps = {n: (where / n).stat().st_mtime_ns for n in extracted}
    json_file = where / next(n for n in extracted if n.startswith("_json."))
    json_file.write_bytes(b"not the module")  # changed: written again, whole
    r2 = report(f.run(EMBEDCFG_ONEFILE_EXTRACT="1", TMPDIR=str(tmp), XDG_RUNTIME_DIR=""))
    assert r2["results"] == r["results"]
    assert {n: (where / n).stat().st_mtime_ns for n in extracted if n != json_file.name} == {
        n: t for n, t in stamps.items() if n != json_file.name}
    assert json_file.stat().st_size > 1000
    assert sorted(os.listdir(where)) == extracted, "no temporary file left"
    # a directory others may read is not private: refused, with the fix
    os.chmod(where, 0o755)
    proc = f.run(EMBEDCFG_ONEFILE_EXTRACT="1", TMPDIR=str(tmp), XDG_RUNTIME_DIR="")
    assert proc.returncode == 1
    assert f"{where}: the directory to extract" in proc.stderr
    assert "mode 0700" in proc.stderr and "set TMPDIR" in proc.stderr


def _flip(data: bytearray, offset: int) -> bytes:
    data[offset] ^= 0x40
    return bytes(data)


def test_a_corrupted_payload_is_refused(newest_onefile: OneFile, tmp_path: Path) -> None:
    """A byte changed in the trailer, the table or the document stops the
    launcher before Python starts (exit 78), a changed extension module or
    archive blob fails its import; the launcher and read_onefile say the same."""
    f = newest_onefile
    blob = bytearray(f.exe.read_bytes())
    info = read_onefile(bytes(blob))
    assert info is not None
    doc_off = info.spans[0][0]
    ext = next(i for i, s in enumerate(info.sections) if s.name == "_json")
    size = len(blob)
    cases = {
        "trailer": (size - 10, 78, "the one-file payload is damaged (the trailer's checksum"
                                   " does not match): rebuild it with embedcfg bundle"
                                   " --onefile"),
        "table": (size - 60, 78, "the one-file payload is damaged (the section table's"
                                 " checksum does not match)"),
        "document": (doc_off + 3, 78, "is corrupt: the document app.json does not match its"
                                      " checksum: rebuild it with embedcfg bundle --onefile"),
        "extension": (info.spans[ext][0] + info.spans[ext][1] // 2, 1,
                      "is corrupt: the extension module _json does not match its checksum:"
                      " rebuild it with embedcfg bundle --onefile"),
    }
    for label, (offset, status, message) in cases.items():
        bad = tmp_path / label
        bad.write_bytes(_flip(bytearray(blob), offset))
        os.chmod(bad, 0o755)
        proc = f.run(exe=bad)
        assert proc.returncode == status, (label, proc.stderr)
        assert message in proc.stderr, (label, proc.stderr)
        assert str(bad) in proc.stderr, (label, proc.stderr)
        if status == 78:
            assert proc.stderr.startswith("embedcfg: error: "), proc.stderr
            with pytest.raises(OneFileError) as e:
                read_onefile(str(bad))
            assert f"embedcfg: error: {e.value}\n" == proc.stderr
        else:
            with pytest.raises(OneFileError, match="extension module _json does not match"):
                read_onefile(str(bad))
    # cut short: no trailer at the end any more, and no document beside it
    cut = tmp_path / "cut"
    cut.write_bytes(bytes(blob[:-1]))
    os.chmod(cut, 0o755)
    proc = f.run(exe=cut)
    assert proc.returncode == 78
    assert "no document to run" in proc.stderr and "rebuild it with embedcfg bundle" in (
        proc.stderr)
    assert read_onefile(str(cut)) is None


def test_command_refusals(newest: Shim, tmp_path: Path, shim_cache: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """--onefile with --link dynamic, over a directory or a file that is not
    one, under the launcher's own name (usage errors, exit 2); a run_filename
    target (exit 1); nothing is written."""
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(shim_cache))
    doc = tmp_path / "app.toml"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("print('hi')\n")
    doc.write_text('version = 1\n[options]\nmodule_search_paths = ["$CONFIG_DIR/src"]\n'
                   'run_module = "m"\n')
    code, _, err = bundle_cmd(doc, tmp_path / "a", newest.python, "--link", "dynamic")
    assert code == 2 and "--onefile holds the interpreter" in err
    (tmp_path / "dir").mkdir()
    code, _, err = bundle_cmd(doc, tmp_path / "dir", newest.python)
    assert code == 2 and "is a directory" in err
    (tmp_path / "other").write_text("precious\n")
    code, _, err = bundle_cmd(doc, tmp_path / "other", newest.python)
    assert code == 2 and "is not a one-file application" in err and "--force" in err
    assert (tmp_path / "other").read_text() == "precious\n"
    code, _, err = bundle_cmd(doc, tmp_path / "embedcfg-launch-x", newest.python)
    assert code == 2 and "the launcher's own" in err
    script = tmp_path / "script.toml"
    script.write_text('version = 1\n[options]\nmodule_search_paths = ["$CONFIG_DIR/src"]\n'
                      'run_filename = "$CONFIG_DIR/src/m.py"\n')
    code, _, err = bundle_cmd(script, tmp_path / "b", newest.python)
    assert code == 1 and "options.run_filename: a one-file application has no file" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    # a previous one-file application is replaced without --force
    code, _, err = bundle_cmd(doc, tmp_path / "c", newest.python)
    assert code == 0, err
    code, _, err = bundle_cmd(doc, tmp_path / "c", newest.python)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["app.toml", "src", "dir", "other", "script.toml", "c"])
    proc = subprocess.run([str(tmp_path / "c")], capture_output=True, text=True,
                          env=clean_env(), timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout == "hi\n", proc.stderr
