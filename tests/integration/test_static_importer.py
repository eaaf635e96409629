"""Static extension modules through the indexed static importer, with real
modules, real imports and fresh processes, on every installed CPython 3.8+.

A test host (static_host.c) links the modules of static_modules/modules.c,
the static importer and two tables baked by :func:`embedcfg.bake.bake` from
one document: the indexed table and CPython's inittab. Each child runs the
same scenario script and prints what happened as JSON, so the two mechanisms
are compared outcome by outcome. The attach case loads a shared library
holding the modules, the table and the importer into a running ``python``
with ``ctypes.PyDLL`` and installs it there.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from embedcfg import bake as _bake
from embedcfg import build as _build
from embedcfg import cli
from embedcfg.model import EmbedConfig, InittabEntry, StaticModules

from ..pythons import missing_reason
from .conftest import HERE, MINORS, clean_env, minor_id

ROOT = HERE.parent.parent
SHIM_SRC = ROOT / "capi_shim"
MODULES = HERE / "static_modules" / "modules.c"
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror"]

DOCUMENT = EmbedConfig(inittab=[
    InittabEntry(name="st_multi"),
    InittabEntry(name="st_single"),
    InittabEntry(name="st_pkg"),
    InittabEntry(name="st_pkg.sub"),
    InittabEntry(name="st_pkg.msub"),
    InittabEntry(name="pypkg.static_child"),
    InittabEntry(name="st_fails"),
    InittabEntry(name="st_null"),
    InittabEntry(name="st_exec_fails"),
    InittabEntry(name="st_unreported"),
])

# Runs in the child, under either mechanism; argv[1] is a directory holding
# the Python package "pypkg".
SCENARIOS = r"""
import importlib, importlib.util, json, sys
out = {}
def attempt(key, fn):
    try:
        out[key] = {"ok": fn()}
    except BaseException as e:
        cause = e.__cause__ or e.__context__
        out[key] = {"error": type(e).__name__, "message": str(e),
                    "cause": [type(cause).__name__, str(cause)] if cause else None}

def multi():
    import st_multi
    return [st_multi.__name__, st_multi.kind, st_multi.add(2, 3), repr(st_multi)]
def single():
    import st_single
    return [st_single.__name__, st_single.kind, st_single.add(1, 1), st_single.init_count()]
def reimport_single():
    first = sys.modules.pop("st_single")
    import st_single
    return [st_single is not first, st_single.kind, st_single.init_count()]
def package():
    import st_pkg.sub
    return [st_pkg.sub.__name__, st_pkg.sub is sys.modules["st_pkg.sub"],
            st_pkg.sub.hello.__module__, st_pkg.sub.hello(), st_pkg.__path__,
            st_pkg.kind]
def package_multi():
    from st_pkg import msub
    import st_pkg
    return [msub.__name__, msub.kind, st_pkg.msub is msub, msub.__spec__.parent]
def python_parent():
    sys.path.insert(0, PYDIR)
    import pypkg.static_child
    return [pypkg.static_child.__name__, pypkg.static_child.add(3, 4),
            pypkg.static_child is sys.modules["pypkg.static_child"], pypkg.origin]
def spec_of(name):
    def get():
        spec = importlib.util.find_spec(name)
        if spec is None:
            return None
        return {"name": spec.name, "origin": spec.origin, "has_location": spec.has_location,
                "search": spec.submodule_search_locations,
                "builtin_names": name in sys.builtin_module_names}
    return get
def reload_multi():
    import st_multi
    return importlib.reload(st_multi) is st_multi
def ordinary():
    import json as j, _abc
    return [j.__name__, _abc.__spec__.origin, type(_abc.__loader__).__name__]

PYDIR = sys.argv[1] if len(sys.argv) > 1 else __PYDIR__
attempt("spec_multi", spec_of("st_multi"))
attempt("spec_pkg", spec_of("st_pkg"))
attempt("spec_missing", spec_of("st_nothere"))
attempt("multi", multi)
attempt("single", single)
attempt("reimport_single", reimport_single)
attempt("package", package)
attempt("package_multi", package_multi)
attempt("python_parent", python_parent)
attempt("fails", lambda: __import__("st_fails"))
attempt("fails_again", lambda: __import__("st_fails"))
attempt("null", lambda: __import__("st_null"))
attempt("exec_fails", lambda: __import__("st_exec_fails"))
attempt("unreported", lambda: __import__("st_unreported"))
attempt("missing", lambda: __import__("st_nothere"))
attempt("missing_sub", lambda: __import__("st_pkg.nothere"))
attempt("reload", reload_multi)
attempt("ordinary", ordinary)
out["meta_path"] = [f.__name__ if isinstance(f, (type, type(sys))) else type(f).__name__
                   for f in sys.meta_path]
sys.stdout.write("@@" + json.dumps(out) + "@@")
"""

ATTACH = r"""
import ctypes, sys
lib = ctypes.PyDLL(LIB)
before = len(sys.meta_path)
rc = lib.embedcfg_static_install(0)
again = lib.embedcfg_static_install(0)
assert (rc, again, len(sys.meta_path)) == (0, 0, before + 1), (rc, again, sys.meta_path)
"""


# A table built at run time (as the shim builds one from a document when no
# baked table exists): unsorted, copied by the importer, then overwritten.
ATTACH_COPY = r"""
import ctypes, json, sys
lib = ctypes.PyDLL(LIB)
COPY = 4
class Entry(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("init", ctypes.c_void_p)]
def entries(*names):
    return (Entry * len(names))(*[
        Entry(n.encode(), ctypes.cast(getattr(lib, "PyInit_" + n.rpartition(".")[2]),
                                      ctypes.c_void_p).value) for n in names])
install = lib.embedcfg_static_importer_install
install.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint]
out = {}
try:
    install(entries("st_multi", "st_multi"), 2, COPY)
except ValueError as e:
    out["duplicate"] = str(e)
table = entries("st_single", "st_pkg.sub", "st_multi", "st_pkg")
out["rc"] = install(table, 4, COPY)
ctypes.memset(table, 0, ctypes.sizeof(table))
del table
import st_multi, st_single, st_pkg.sub
out["imported"] = [st_multi.kind, st_single.kind, st_pkg.sub.__name__]
out["meta_path_0"] = sys.meta_path[0].__name__
sys.stdout.write("@@" + json.dumps(out) + "@@")
"""


def _pythons() -> Dict[Tuple[int, int], str]:
    from .conftest import _pyenv_pythons

    return _pyenv_pythons()


def _result(proc: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    start = proc.stdout.index("@@") + 2
    return json.loads(proc.stdout[start:proc.stdout.rindex("@@")])  # type: ignore[no-any-return]


class Built:
    """The host, the attach library and the Python package for one minor."""

    def __init__(self, python: str, directory: Path) -> None:
        self.python = python
        self.directory = directory
        target = _build.probe(python)
        assert target.libpython is not None, "a shared libpython is needed"
        lib = Path(target.libpython)
        includes = [f"-I{i}" for i in target.includes] + [f"-I{SHIM_SRC}"]
        (directory / "indexed.c").write_text(_bake.bake(DOCUMENT), encoding="utf-8")
        (directory / "inittab.c").write_text(_bake.bake(DOCUMENT, mechanism="inittab"),
                                             encoding="utf-8")
        sources = [str(MODULES), str(SHIM_SRC / "static_importer.c"),
                   str(SHIM_SRC / "importer.c"), str(directory / "indexed.c")]
        self.host = directory / "static_host"
        self.library = directory / "libstatic.so"
        pyname = lib.name.split(".so")[0][3:]
        commands: List[List[str]] = [
            ["cc", *WARN, "-O1", *includes, str(HERE / "static_host.c"), *sources,
             str(directory / "inittab.c"), "-o", str(self.host), f"-L{lib.parent}",
             f"-Wl,-rpath,{lib.parent}", f"-l{pyname}"],
            ["cc", *WARN, "-O1", "-fPIC", "-shared", *includes, *sources,
             "-o", str(self.library)],
        ]
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in commands]
        for cmd, proc in zip(commands, procs):
            _, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, " ".join(cmd) + "\n" + err
        pkg = directory / "py" / "pypkg"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("origin = 'python'\n", encoding="utf-8")
        self.pydir = directory / "py"

    def run_host(self, mode: str) -> Dict[str, Any]:
        code = SCENARIOS.replace("__PYDIR__", repr(str(self.pydir)))
        proc = subprocess.run([str(self.host), mode, code], capture_output=True, text=True,
                              env=clean_env(), timeout=120, check=False)
        return _result(proc)

    def run_attached(self, mode: str = "attach") -> Dict[str, Any]:
        if mode == "copy":
            code = ATTACH_COPY.replace("LIB", repr(str(self.library)))
        else:
            code = ATTACH.replace("LIB", repr(str(self.library))) + SCENARIOS
        proc = subprocess.run([self.python, "-I", "-c", code, str(self.pydir)],
                              capture_output=True, text=True, env=clean_env(), timeout=120,
                              check=False)
        return _result(proc)


@pytest.fixture(scope="session")
def static_results(tmp_path_factory: pytest.TempPathFactory) -> Dict[Any, Any]:
    """Per minor, lazily: the scenario results of each mechanism."""
    cache: Dict[Any, Any] = {}
    pythons = _pythons()

    def get(minor: Tuple[int, int], mode: str) -> Dict[str, Any]:
        python = pythons.get(minor)
        if python is None:
            pytest.skip(missing_reason(minor))
        if minor not in cache:
            cache[minor] = Built(python, tmp_path_factory.mktemp(f"static{minor[0]}{minor[1]}"))
        key = (minor, mode)
        if key not in cache:
            built = cache[minor]
            cache[key] = (built.run_attached(mode) if mode in ("attach", "copy")
                          else built.run_host(mode))
        return cache[key]  # type: ignore[no-any-return]

    return get  # type: ignore[return-value]


INDEXED_MODES = ("indexed", "attach")


@pytest.fixture(params=MINORS, ids=minor_id)
def minor(request: pytest.FixtureRequest) -> Tuple[int, int]:
    """Each CPython minor 3.8-3.14."""
    return request.param  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_multi_phase_module(static_results: Any, minor: Tuple[int, int], mode: str) -> None:
    """A multi-phase module imports, runs its exec slot and reprs as built-in."""
    r = static_results(minor, mode)
    assert r["multi"] == {"ok": ["st_multi", "multi", 5, "<module 'st_multi' (built-in)>"]}


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_single_phase_module(static_results: Any, minor: Tuple[int, int], mode: str) -> None:
    """A single-phase module imports; its init function ran once."""
    r = static_results(minor, mode)
    assert r["single"] == {"ok": ["st_single", "single", 2, 1]}


@pytest.mark.parametrize("mode", ("indexed", "attach", "inittab"))
def test_single_phase_reimport_copies_like_cpython(static_results: Any, minor: Tuple[int, int],
                                                   mode: str) -> None:
    """Re-importing an m_size -1 module rebuilds it from a copy, without a second init."""
    r = static_results(minor, mode)
    assert r["reimport_single"] == {"ok": [True, "single", 1]}


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_single_phase_submodule_of_static_package(static_results: Any, minor: Tuple[int, int],
                                                  mode: str) -> None:
    """st_pkg.sub gets its full name, is set on its parent, and finds its state."""
    r = static_results(minor, mode)
    assert r["package"] == {"ok": ["st_pkg.sub", True, "st_pkg.sub", "hello (1), same module: 1",
                                   [], "multi"]}


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_multi_phase_submodule(static_results: Any, minor: Tuple[int, int], mode: str) -> None:
    """A multi-phase submodule is named from its spec and bound on its parent."""
    r = static_results(minor, mode)
    assert r["package_multi"] == {"ok": ["st_pkg.msub", "multi", True, "st_pkg"]}


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_static_child_of_python_package(static_results: Any, minor: Tuple[int, int],
                                        mode: str) -> None:
    """A static submodule of a package on sys.path imports and is bound on it."""
    r = static_results(minor, mode)
    assert r["python_parent"] == {"ok": ["pypkg.static_child", 7, True, "python"]}


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_failing_init_surfaces_its_exception(static_results: Any, minor: Tuple[int, int],
                                             mode: str) -> None:
    """The init function's own exception reaches the importer, every time."""
    r = static_results(minor, mode)
    expected = {"error": "ValueError", "message": "st_fails refuses to initialize",
                "cause": None}
    assert (r["fails"], r["fails_again"]) == (expected, expected)


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_null_without_exception_is_system_error(static_results: Any, minor: Tuple[int, int],
                                                mode: str) -> None:
    """NULL without an exception: SystemError, worded as CPython's dynamic loader words it."""
    r = static_results(minor, mode)
    assert r["null"] == {"error": "SystemError", "cause": None,
                         "message": "initialization of st_null failed without raising an"
                                    " exception"}


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_unreported_exception_is_system_error_with_cause(static_results: Any,
                                                         minor: Tuple[int, int],
                                                         mode: str) -> None:
    """A module returned with an exception set: SystemError caused by that exception."""
    r = static_results(minor, mode)
    assert r["unreported"] == {"error": "SystemError", "cause": ["KeyError", "'left behind'"],
                               "message": "initialization of st_unreported raised unreported"
                                          " exception"}


@pytest.mark.parametrize("mode", ("indexed", "attach", "inittab"))
def test_failing_exec_slot(static_results: Any, minor: Tuple[int, int], mode: str) -> None:
    """A multi-phase exec slot that fails: its exception on import."""
    r = static_results(minor, mode)
    assert r["exec_fails"]["error"] == "RuntimeError"
    assert r["exec_fails"]["message"] == "st_exec_fails: exec slot failed"


@pytest.mark.parametrize("mode", ("indexed", "attach", "inittab"))
def test_miss_falls_through(static_results: Any, minor: Tuple[int, int], mode: str) -> None:
    """Unknown names are ModuleNotFoundError; ordinary and builtin modules still import."""
    r = static_results(minor, mode)
    assert r["missing"] == {"error": "ModuleNotFoundError", "cause": None,
                            "message": "No module named 'st_nothere'"}
    assert r["spec_missing"] == {"ok": None}
    assert r["ordinary"] == {"ok": ["json", "built-in", "type"]}


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_missing_submodule_of_static_package(static_results: Any, minor: Tuple[int, int],
                                             mode: str) -> None:
    """A submodule the table lacks: ModuleNotFoundError naming it."""
    r = static_results(minor, mode)
    assert r["missing_sub"]["error"] == "ModuleNotFoundError"
    assert "st_pkg.nothere" in r["missing_sub"]["message"]


@pytest.mark.parametrize("mode", INDEXED_MODES)
def test_find_spec_and_builtin_names(static_results: Any, minor: Tuple[int, int],
                                     mode: str) -> None:
    """find_spec gives a built-in origin; the names are not in builtin_module_names."""
    r = static_results(minor, mode)
    assert r["spec_multi"] == {"ok": {"name": "st_multi", "origin": "built-in",
                                      "has_location": False, "search": None,
                                      "builtin_names": False}}
    assert r["spec_pkg"]["ok"]["search"] == []
    assert r["meta_path"][0] == "embedcfg.static_importer"
    assert r["meta_path"].count("embedcfg.static_importer") == 1
    assert r["reload"] == {"ok": True}


def test_runtime_table_is_copied_sorted_and_checked(static_results: Any,
                                                    minor: Tuple[int, int]) -> None:
    """EMBEDCFG_STATIC_COPY: an unsorted table freed after install still imports;
    a duplicate raises ValueError through ctypes.PyDLL."""
    r = static_results(minor, "copy")
    assert r["rc"] == 0
    assert r["imported"] == ["multi", "single", "st_pkg.sub"]
    assert r["meta_path_0"] == "embedcfg.static_importer"
    assert "'st_multi' is listed twice" in r["duplicate"]


def test_inittab_semantics_for_comparison(static_results: Any, minor: Tuple[int, int]) -> None:
    """The same document through CPython's inittab: what the docs say it does."""
    r = static_results(minor, "inittab")
    assert r["spec_multi"] == {"ok": {"name": "st_multi", "origin": "built-in",
                                      "has_location": False, "search": None,
                                      "builtin_names": True}}
    assert r["multi"] == {"ok": ["st_multi", "multi", 5, "<module 'st_multi' (built-in)>"]}
    assert r["single"] == {"ok": ["st_single", "single", 2, 1]}
    assert r["fails"]["error"] == "ValueError"
    # The inittab says less than the indexed importer about an init function
    # that returned NULL without an exception.
    assert r["null"]["error"] == "SystemError"
    # BuiltinImporter never makes packages: a static submodule of a static
    # module cannot be imported through the inittab.
    assert r["package"]["error"] == "ModuleNotFoundError"
    # A static child of a Python package: BuiltinImporter refuses any
    # submodule before 3.11; from 3.11 it imports it, under its short name.
    if minor < (3, 11):
        assert r["python_parent"]["error"] == "ModuleNotFoundError"
    else:
        assert r["python_parent"] == {"ok": ["static_child", 7, True, "python"]}
    assert "embedcfg.static_importer" not in r["meta_path"]
    assert "BuiltinImporter" in r["meta_path"]


# --- baking and missing symbols ---------------------------------------------

@pytest.fixture(scope="session")
def newest(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The host and library built for the newest installed CPython 3.8-3.14."""
    pythons = _pythons()
    for m in reversed(MINORS):
        if m in pythons:
            return Built(pythons[m], tmp_path_factory.mktemp("static-newest"))
    pytest.skip("no CPython 3.8-3.14 is installed")


def test_bake_command_writes_the_table(tmp_path: Path) -> None:
    """embedcfg bake DOCUMENT -o FILE.c writes what bake() returns."""
    import io

    import embedcfg

    doc = tmp_path / "app.toml"
    embedcfg.dump(DOCUMENT, doc)
    out, err = io.StringIO(), io.StringIO()
    rc = cli.run(["bake", str(doc), "-o", str(tmp_path / "t.c")], out, err)
    assert (rc, err.getvalue()) == (0, "")
    assert (tmp_path / "t.c").read_text(encoding="utf-8") == _bake.bake(DOCUMENT,
                                                                        source="app.toml")


def test_bake_follows_the_documents_mechanism(tmp_path: Path) -> None:
    """Without --mechanism, bake writes what static_modules asks for, else indexed."""
    import io

    import attrs

    import embedcfg

    for mechanism, expected in ((None, "indexed"), (StaticModules.INITTAB, "inittab")):
        doc = tmp_path / f"app-{expected}.toml"
        embedcfg.dump(attrs.evolve(DOCUMENT, static_modules=mechanism), doc)
        out, err = io.StringIO(), io.StringIO()
        assert cli.run(["bake", str(doc), "-o", "-"], out, err) == 0, err.getvalue()
        assert f"for the {expected} mechanism" in out.getvalue()


def test_bake_rejects_a_duplicate_before_anything_runs(tmp_path: Path) -> None:
    """A name listed twice: exit 1 with the document's problem code, no C file."""
    import io

    doc = tmp_path / "dup.json"
    doc.write_text(json.dumps({"version": 1, "inittab": [{"name": "st_multi"},
                                                         {"name": "st_multi"}]}),
                   encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    rc = cli.run(["bake", str(doc), "-o", str(tmp_path / "t.c")], out, err)
    assert rc == 1
    assert "EC501" in err.getvalue()
    assert not (tmp_path / "t.c").exists()
    with pytest.raises(ValueError, match="already listed"):
        _bake.bake(EmbedConfig(inittab=[InittabEntry(name="a"), InittabEntry(name="a")]))


def test_missing_symbols_in_a_library(newest: Built) -> None:
    """Every init function the library lacks is reported by name; present ones are not."""
    cfg = EmbedConfig(inittab=[
        InittabEntry(name="st_multi", library="$CONFIG_DIR/libstatic.so"),
        InittabEntry(name="st_ghost", library="$CONFIG_DIR/libstatic.so"),
        InittabEntry(name="st_other", init="init_other", library="$CONFIG_DIR/libstatic.so"),
        InittabEntry(name="st_gone", library="$CONFIG_DIR/nothere.so"),
    ])
    missing = _bake.missing_symbols(cfg, config_dir=newest.directory)
    assert [(m.index, m.symbol) for m in missing] == [
        (1, "PyInit_st_ghost"), (2, "init_other"), (3, "PyInit_st_gone")]
    assert "symbol PyInit_st_ghost not found in" in missing[0].message
    assert "does not exist" in missing[2].reason


def test_missing_symbols_in_the_host(newest: Built) -> None:
    """Host symbols must be exported for dlsym; a baked table needs them linked only."""
    cfg = EmbedConfig(inittab=[InittabEntry(name="st_multi"), InittabEntry(name="st_ghost")])
    exported = _bake.missing_symbols(cfg, newest.host)
    assert [m.symbol for m in exported] == ["PyInit_st_multi", "PyInit_st_ghost"]
    assert "-rdynamic" in exported[0].reason
    linked = _bake.missing_symbols(cfg, newest.host, exported=False)
    assert [m.symbol for m in linked] == ["PyInit_st_ghost"]


def test_link_of_a_baked_table_names_every_missing_init(newest: Built, tmp_path: Path) -> None:
    """The linker reports each init function the baked table lacks."""
    cfg = EmbedConfig(inittab=[InittabEntry(name="st_multi"), InittabEntry(name="st_ghost1"),
                               InittabEntry(name="st_ghost2")])
    src = tmp_path / "table.c"
    src.write_text(_bake.bake(cfg), encoding="utf-8")
    proc = subprocess.run(["cc", "-shared", "-fPIC", "-Wl,--no-undefined", f"-I{SHIM_SRC}",
                           str(src), str(newest.directory / "libstatic.so"), "-o",
                           str(tmp_path / "t.so")], capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "PyInit_st_ghost1" in proc.stderr and "PyInit_st_ghost2" in proc.stderr
    assert "PyInit_st_multi" not in proc.stderr


def test_example_static_app_builds_and_runs(newest: Built, tmp_path: Path) -> None:
    """examples/static-app: the README's command builds and runs the application."""
    import sys

    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "static-app" / "build.py"),
                           "--python", newest.python, "--out", str(tmp_path), "--run"],
                          capture_output=True, text=True, env=clean_env(), timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:3] == ["Hello, static world! (greeting 1) - multi-phase",
                         "counter: 1 2 - single-phase",
                         "shapes.circle.area(2) = 12.566 - PI = 3.141592653589793"]
    assert lines[3] == "modules: <module 'greet' (built-in)> shapes.circle []"


def test_mechanism_default_follows_size_and_embedding() -> None:
    """inittab below the threshold, indexed from it on or when embedded; a choice wins."""
    few = EmbedConfig(inittab=[InittabEntry(name=f"m{i}") for i in range(3)])
    many = EmbedConfig(inittab=[InittabEntry(name=f"m{i}")
                                for i in range(_bake.INDEXED_THRESHOLD)])
    assert _bake.choose_mechanism(few) == "inittab"
    assert _bake.choose_mechanism(many) == "indexed"
    assert _bake.choose_mechanism(EmbedConfig(embedded=True)) == "indexed"
    assert _bake.choose_mechanism(many, "inittab") == "inittab"
    # the document's choice wins over the automatic one; an argument over both
    chosen = EmbedConfig(inittab=few.inittab, static_modules=StaticModules.INDEXED)
    assert _bake.choose_mechanism(chosen) == "indexed"
    assert _bake.choose_mechanism(chosen, "inittab") == "inittab"
    assert _bake.choose_mechanism(EmbedConfig(embedded=True,
                                              static_modules=StaticModules.INITTAB)) == "inittab"
    with pytest.raises(ValueError, match="not one of"):
        _bake.choose_mechanism(few, "hash")
