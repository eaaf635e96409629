"""The document's static_modules through the C shim: the launcher, a host that
owns init (embedcfg_fill_pyconfig), and attaching to a running interpreter.

Real extension modules (static_modules/modules.c, compiled into a shared
library the document names), real imports, a fresh process per scenario, on
every installed CPython 3.8+ (absent minors are skipped, with the reason).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from embedcfg import build as _build
from embedcfg import codec
from embedcfg.model import INDEXED_THRESHOLD, EmbedConfig, InittabEntry, StaticModules

from .conftest import HERE, SHIM_SRC, Shim, clean_env, compile_host

MODULES = HERE / "static_modules" / "modules.c"
LIB = "$CONFIG_DIR/libstmods.so"

# Runs in the child; prints what happened as JSON between @@ markers.
PROBE = r"""
import importlib.util, json, sys
out = {}
def attempt(key, fn):
    try:
        out[key] = {"ok": fn()}
    except BaseException as e:
        out[key] = {"error": type(e).__name__, "message": str(e)}
def multi():
    import st_multi
    return [st_multi.__name__, st_multi.kind, st_multi.add(2, 3)]
def single():
    import st_single
    return [st_single.__name__, st_single.kind, st_single.init_count()]
def package():
    import st_pkg.sub
    return [st_pkg.sub.__name__, st_pkg.sub.hello(), st_pkg.__path__]
def spec():
    s = importlib.util.find_spec("st_multi")
    return [s.origin, "st_multi" in sys.builtin_module_names]
attempt("multi", multi)
attempt("single", single)
attempt("package", package)
attempt("fails", lambda: __import__("st_fails"))
attempt("spec", spec)
# the finders in order (a .pth run by site may put its own in front)
out["finders"] = [getattr(f, "__name__", type(f).__name__)
                  for f in sys.meta_path]
sys.stdout.write("@@" + json.dumps(out) + "@@")
"""

ENTRIES = [InittabEntry(name=n, library=LIB)
           for n in ("st_multi", "st_single", "st_pkg", "st_pkg.sub", "st_fails")]


def _result(proc: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    start = proc.stdout.index("@@") + 2
    return json.loads(proc.stdout[start:proc.stdout.rindex("@@")])  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def modules_libraries(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """static_modules/modules.c as a shared library, once per minor."""
    built: Dict[Tuple[int, int], Path] = {}

    def get(shim: Shim) -> Path:
        if shim.minor not in built:
            target = _build.probe(shim.python)
            out = tmp_path_factory.mktemp(f"stmods{shim.minor[0]}{shim.minor[1]}")
            lib = out / "libstmods.so"
            cmd = ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-fPIC", "-shared",
                   *(f"-I{i}" for i in target.includes), str(MODULES), "-o", str(lib)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
            built[shim.minor] = lib
        return built[shim.minor]

    return get


def _launch(shim: Shim, libs: Any, tmp_path: Path, cfg: EmbedConfig,
            code: str = PROBE) -> "subprocess.CompletedProcess[str]":
    (tmp_path / "libstmods.so").symlink_to(libs(shim))
    return shim.launch(cfg.with_options(run_command=code), directory=tmp_path)


def _indexed_expected(r: Dict[str, Any]) -> None:
    assert r["multi"] == {"ok": ["st_multi", "multi", 5]}
    assert r["single"] == {"ok": ["st_single", "single", 1]}
    assert r["package"] == {"ok": ["st_pkg.sub", "hello (1), same module: 1", []]}
    assert r["fails"] == {"error": "ValueError", "message": "st_fails refuses to initialize"}
    assert r["spec"] == {"ok": ["built-in", False]}
    finders = r["finders"]
    assert "embedcfg.static_importer" in finders, finders
    assert finders.index("embedcfg.static_importer") < finders.index("BuiltinImporter")


def test_indexed_through_the_launcher(shim: Shim, modules_libraries: Any,
                                      tmp_path: Path) -> None:
    """static_modules = "indexed": multi- and single-phase modules, pkg.sub and a failing
    init, through the importer the shim installs right after init."""
    cfg = EmbedConfig(inittab=ENTRIES, static_modules=StaticModules.INDEXED)
    _indexed_expected(_result(_launch(shim, modules_libraries, tmp_path, cfg)))


def test_inittab_through_the_launcher(shim: Shim, modules_libraries: Any,
                                      tmp_path: Path) -> None:
    """static_modules = "inittab": CPython's inittab, as before (no importer installed)."""
    cfg = EmbedConfig(inittab=[e for e in ENTRIES if "." not in e.name],
                      static_modules=StaticModules.INITTAB)
    r = _result(_launch(shim, modules_libraries, tmp_path, cfg))
    assert r["multi"] == {"ok": ["st_multi", "multi", 5]}
    assert r["single"] == {"ok": ["st_single", "single", 1]}
    assert r["fails"]["error"] == "ValueError"
    assert r["spec"] == {"ok": ["built-in", True]}
    assert "embedcfg.static_importer" not in r["finders"]


@pytest.mark.parametrize("mechanism", list(StaticModules))
def test_importable_while_site_runs(shim: Shim, modules_libraries: Any, tmp_path: Path,
                                    mechanism: StaticModules) -> None:
    """Both mechanisms make the modules importable during init: here from
    sitecustomize, which site imports before the application runs. (The shim
    installs the indexed importer between init's core and main phases; on 3.14
    through PyConfig, as PyInitConfig cannot stop after the core phase.)"""
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "sitecustomize.py").write_text(
        "import builtins, st_multi\nbuiltins.SEEN_AT_SITE = st_multi.add(20, 22)\n")
    stdlib = json.loads(subprocess.run(
        [shim.python, "-I", "-S", "-c", "import json, sys; print(json.dumps(sys.path))"],
        capture_output=True, text=True, env=clean_env(), check=True).stdout)
    cfg = EmbedConfig(inittab=[e for e in ENTRIES if e.name == "st_multi"],
                      static_modules=mechanism,
                      options={"site_import": True,
                               "module_search_paths": [p for p in stdlib if p]
                               + [str(site_dir)]})
    code = ("import builtins, st_multi\n"
            "print('@@' + repr(getattr(builtins, 'SEEN_AT_SITE', None)) + '@@')")
    (tmp_path / "libstmods.so").symlink_to(modules_libraries(shim))
    proc = shim.launch(cfg.with_options(run_command=code), directory=tmp_path,
                       env=clean_env(EMBEDCFG_ALLOW_INSECURE_PATHS="1"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "@@42@@" in proc.stdout, proc.stdout + proc.stderr
    assert "Error in sitecustomize" not in proc.stderr


@pytest.mark.parametrize("count", [INDEXED_THRESHOLD - 1, INDEXED_THRESHOLD])
def test_automatic_choice_follows_the_threshold(shim: Shim, modules_libraries: Any,
                                                tmp_path: Path, count: int) -> None:
    """Without static_modules: the inittab below INDEXED_THRESHOLD entries, the indexed
    importer from it on (the C shim decides as embedcfg.bake.choose_mechanism)."""
    from embedcfg.bake import choose_mechanism

    cfg = EmbedConfig(inittab=[InittabEntry(name=f"st_auto{i}", init="PyInit_st_multi",
                                            library=LIB) for i in range(count)])
    code = ("import sys, st_auto7\n"
            "print(st_auto7.__name__, st_auto7.kind, 'st_auto7' in sys.builtin_module_names,"
            " any(getattr(f, '__name__', '') == 'embedcfg.static_importer'"
            " for f in sys.meta_path))\n")
    proc = _launch(shim, modules_libraries, tmp_path, cfg, code)
    assert proc.returncode == 0, proc.stderr
    indexed = choose_mechanism(cfg) == "indexed"
    assert indexed == (count >= INDEXED_THRESHOLD)
    assert proc.stdout.split() == ["st_auto7", "multi", str(not indexed), str(indexed)]


@pytest.mark.parametrize("mechanism", list(StaticModules))
def test_missing_symbol_is_refused_before_init(shim: Shim, modules_libraries: Any,
                                               tmp_path: Path,
                                               mechanism: StaticModules) -> None:
    """A missing init function: exit 78 and one line naming it, before CPython runs
    anything (the application prints nothing)."""
    cfg = EmbedConfig(inittab=[ENTRIES[0], InittabEntry(name="st_ghost", library=LIB)],
                      static_modules=mechanism)
    proc = _launch(shim, modules_libraries, tmp_path, cfg, "print('ran')")
    assert (proc.returncode, proc.stdout) == (78, "")
    assert proc.stderr.startswith("embedcfg: error: ") and proc.stderr.count("\n") == 1
    assert "symbol PyInit_st_ghost not found in" in proc.stderr


def test_duplicate_is_refused_by_validate_and_the_shim(shim: Shim, modules_libraries: Any,
                                                       tmp_path: Path) -> None:
    """A name listed twice: EC501 from validate, and exit 78 from the launcher."""
    import io

    from embedcfg import cli

    doc = tmp_path / "dup.json"
    raw = {"version": 1, "static_modules": "indexed",
           "inittab": [{"name": "st_multi", "library": LIB}, {"name": "st_multi"}]}
    doc.write_text(json.dumps(raw), encoding="utf-8")
    (tmp_path / "libstmods.so").symlink_to(modules_libraries(shim))
    out = io.StringIO()
    assert cli.run(["validate", "--format", "json", str(doc)], out, io.StringIO()) == 1
    assert [(p["code"], p["pointer"]) for p in json.loads(out.getvalue())["problems"]] == [
        ("EC501", "/inittab/1/name")]
    proc = shim.launch_file(doc)
    assert proc.returncode == 78
    assert "module 'st_multi' is already registered" in proc.stderr


def test_fill_pyconfig_host_installs_after_its_own_init(shim: Shim, modules_libraries: Any,
                                                        tmp_path: Path) -> None:
    """A host that owns init: fill_pyconfig, Py_InitializeFromConfig, then
    embedcfg_install_static_modules; the modules import through the indexed importer."""
    (tmp_path / "libstmods.so").symlink_to(modules_libraries(shim))
    host = compile_host(shim, [HERE / "host_fill.c", *(SHIM_SRC / s for s in
                                                       _build._SHIM_SOURCES)],
        tmp_path / "host_fill", f"-I{SHIM_SRC}", "-ldl")
    doc = tmp_path / "doc.json"
    doc.write_bytes(codec.canonical(EmbedConfig(inittab=ENTRIES,
                                                static_modules=StaticModules.INDEXED)))
    proc = subprocess.run([str(host), str(doc), PROBE], capture_output=True, text=True,
                          env=clean_env(), timeout=60, check=False)
    _indexed_expected(_result(proc))
    # a missing symbol: refused by fill_pyconfig, before the host initializes
    doc.write_bytes(codec.canonical(EmbedConfig(
        inittab=[InittabEntry(name="st_ghost", library=LIB)],
        static_modules=StaticModules.INDEXED)))
    proc = subprocess.run([str(host), str(doc), "print('ran')"], capture_output=True,
                          text=True, env=clean_env(), timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (78, "")
    assert "PyInit_st_ghost" in proc.stderr


# Attaching: the shim library through ctypes (embedcfg's own dependencies are
# not installed in every interpreter), as an embedder such as juliacall would.
ATTACH = r"""
import ctypes, json, sys
lib = ctypes.PyDLL(sys.argv[1])
lib.embedcfg_create.restype = ctypes.c_void_p
lib.embedcfg_get_error.restype = ctypes.c_char_p
lib.embedcfg_get_error.argtypes = [ctypes.c_void_p]
lib.embedcfg_get_static_modules.restype = ctypes.c_char_p
lib.embedcfg_get_static_modules.argtypes = [ctypes.c_void_p]
lib.embedcfg_load_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.embedcfg_initialize.argtypes = [ctypes.c_void_p]
lib.embedcfg_free.argtypes = [ctypes.c_void_p]
h = lib.embedcfg_create()
rc = lib.embedcfg_load_file(h, sys.argv[2].encode())
mechanism = lib.embedcfg_get_static_modules(h).decode()
if rc == 0:
    rc = lib.embedcfg_initialize(h)
error = lib.embedcfg_get_error(h).decode()
lib.embedcfg_free(h)  # the importer keeps its own copy of the table
if rc != 0:
    sys.stdout.write("@@" + json.dumps({"rc": rc, "error": error, "mechanism": mechanism})
                     + "@@")
    sys.exit(0)
"""


def _attach(shim: Shim, libs: Any, tmp_path: Path, cfg: EmbedConfig) -> Dict[str, Any]:
    (tmp_path / "libstmods.so").symlink_to(libs(shim))
    doc = tmp_path / "doc.json"
    doc.write_bytes(codec.canonical(cfg))
    proc = subprocess.run([shim.python, "-I", "-c", ATTACH + PROBE, str(shim.built.shim),
                           str(doc)], capture_output=True, text=True, env=clean_env(),
                          timeout=60, check=False)
    return _result(proc)


def test_attach_installs_the_importer(shim: Shim, modules_libraries: Any,
                                      tmp_path: Path) -> None:
    """embedded = true with an inittab (automatic choice: indexed): after attaching, the
    running interpreter imports the modules."""
    r = _attach(shim, modules_libraries, tmp_path, EmbedConfig(embedded=True, inittab=ENTRIES))
    _indexed_expected(r)


def test_attach_with_a_missing_symbol_changes_nothing(shim: Shim, modules_libraries: Any,
                                                      tmp_path: Path) -> None:
    """A missing init function refuses the attach with its name."""
    cfg = EmbedConfig(embedded=True, inittab=[InittabEntry(name="st_ghost", library=LIB)],
                      options={"module_search_paths": [str(tmp_path / "never")]})
    r = _attach(shim, modules_libraries, tmp_path, cfg)
    assert r["rc"] == -1 and r["mechanism"] == "indexed"
    assert "symbol PyInit_st_ghost not found in" in r["error"]


def test_embedcfg_attach_api_makes_modules_importable(tmp_path: Path) -> None:
    """embedcfg.attach(cfg) in a running Python (this one's version) whose document has
    an inittab: the modules import afterwards, and the report says so."""
    target = _build.probe(sys.executable)
    lib = tmp_path / "libstmods.so"
    proc = subprocess.run(["cc", "-std=c99", "-fPIC", "-shared", "-O1",
                           *(f"-I{i}" for i in target.includes), str(MODULES), "-o", str(lib)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    code = (
        "import embedcfg\n"
        "cfg = embedcfg.EmbedConfig(embedded=True, inittab=[embedcfg.InittabEntry("
        f"name=n, library={str(lib)!r}) for n in ('st_multi', 'st_pkg', 'st_pkg.sub')])\n"
        "report = embedcfg.attach(cfg)\n"
        "import st_multi, st_pkg.sub\n"
        "print(report.applied, st_multi.kind, st_pkg.sub.__name__)\n"
    )
    env = clean_env(EMBEDCFG_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=str(HERE.parent.parent), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["('inittab',)", "multi", "st_pkg.sub"]


# --- init functions checked before anything runs ------------------------------

@pytest.fixture(scope="module")
def symbol_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """modules.c as a library, and two host programs defining PyInit_st_host: one
    linked with -rdynamic (dlsym finds it), one without."""
    directory = tmp_path_factory.mktemp("symbols")
    target = _build.probe(sys.executable)
    host_c = directory / "host.c"
    host_c.write_text("void *PyInit_st_host(void) { return 0; }\n"
                      "int main(void) { return PyInit_st_host() != 0; }\n", encoding="utf-8")
    for cmd in (["cc", "-std=c99", "-fPIC", "-shared", "-O1",
                 *(f"-I{i}" for i in target.includes), str(MODULES),
                 "-o", str(directory / "libstmods.so")],
                ["cc", "-std=c99", "-rdynamic", str(host_c), "-o", str(directory / "host")],
                ["cc", "-std=c99", str(host_c), "-o", str(directory / "host_hidden")]):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
    return directory


SYMBOLS_DOC = """\
version = 1
static_modules = "indexed"

[[inittab]]
name = "st_multi"
library = "$CONFIG_DIR/libstmods.so"

[[inittab]]
name = "st_ghost"
library = "$CONFIG_DIR/libstmods.so"

[[inittab]]
name = "st_other"
init = "init_other"
library = "LIBPATH"

[[inittab]]
name = "st_gone"
library = "$CONFIG_DIR/nothere.so"

[[inittab]]
name = "vendored"
library = "libvendored.so.2"

[[inittab]]
name = "st_host"

[[inittab]]
name = "st_host_ghost"

[[inittab]]
name = "st_beside"
library = "$ORIGIN/libstmods.so"
init = "PyInit_st_single"
"""


def _validate(*args: str) -> Tuple[int, Dict[str, Any]]:
    import io

    from embedcfg import cli

    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["validate", "--format", "json", *args], out, err)
    assert err.getvalue() == ""
    return code, json.loads(out.getvalue())


def test_validate_reports_every_missing_init_function(symbol_files: Path) -> None:
    """EC505 at /inittab/<i>, with the line, for each init function missing from a library
    the document names (absolute or $CONFIG_DIR); what cannot be known is not checked."""
    doc = symbol_files / "app.toml"
    doc.write_text(SYMBOLS_DOC.replace("LIBPATH", str(symbol_files / "libstmods.so")),
                   encoding="utf-8")
    code, out = _validate(str(doc))
    assert code == 1
    found = [(p["code"], p["pointer"], p["line"]) for p in out["problems"]]
    assert found == [("EC505", "/inittab/1", 8), ("EC505", "/inittab/2", 12),
                     ("EC505", "/inittab/3", 17)]
    messages = [p["message"] for p in out["problems"]]
    assert "symbol PyInit_st_ghost not found in" in messages[0]
    assert "symbol init_other not found in" in messages[1]
    assert "nothere.so" in messages[2] and "does not exist" in messages[2]
    assert all("exit 78" in m for m in messages)


def test_validate_api_checks_init_functions_like_the_cli(symbol_files: Path) -> None:
    """embedcfg.validate(cfg, config_dir=..., host=...) reports the same EC505 problems
    as the command line; without either it does not look (nothing to resolve against)."""
    import embedcfg

    cfg = embedcfg.loads(SYMBOLS_DOC.replace("LIBPATH", str(symbol_files / "libstmods.so")))
    assert [p for p in embedcfg.validate(cfg) if p.code == "EC505"] == []
    found = [(p.code, p.pointer) for p in embedcfg.validate(cfg, config_dir=symbol_files)
             if p.code == "EC505"]
    assert found == [("EC505", "/inittab/1"), ("EC505", "/inittab/2"), ("EC505", "/inittab/3")]
    with_host = [p.pointer for p in embedcfg.validate(cfg, config_dir=symbol_files,
                                                      host=symbol_files / "host")
                 if p.code == "EC505"]
    assert "/inittab/6" in with_host and "/inittab/5" not in with_host


def test_validate_host_checks_the_program_symbols(symbol_files: Path) -> None:
    """--host PROGRAM: entries without a library must be exported by the program ($ORIGIN
    is its directory); a symbol that is there but not exported says -rdynamic."""
    doc = symbol_files / "host.toml"
    text = SYMBOLS_DOC.replace("LIBPATH", str(symbol_files / "libstmods.so"))
    doc.write_text(text, encoding="utf-8")
    code, out = _validate("--host", str(symbol_files / "host"), str(doc))
    assert code == 1
    assert [p["pointer"] for p in out["problems"]] == [
        "/inittab/1", "/inittab/2", "/inittab/3", "/inittab/6"]
    assert "symbol PyInit_st_host_ghost not found in" in out["problems"][3]["message"]
    code, out = _validate("--host", str(symbol_files / "host_hidden"), str(doc))
    hidden = {p["pointer"]: p["message"] for p in out["problems"]}
    assert "-rdynamic" in hidden["/inittab/5"]
    # $ORIGIN is the hidden host's directory too: st_beside is found there
    assert "/inittab/7" not in hidden


def test_build_checks_documents_before_building(symbol_files: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """embedcfg build DOCUMENT: a missing init function is reported (exit 1) and nothing
    is built; a good document builds."""
    import io

    from embedcfg import cli

    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(tmp_path / "cache"))
    bad = symbol_files / "bad.json"
    bad.write_text(json.dumps({"version": 1, "inittab": [
        {"name": "st_ghost", "library": "$CONFIG_DIR/libstmods.so"}]}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["build", str(bad)], out, err) == 1
    assert "EC505" in err.getvalue() and "PyInit_st_ghost" in err.getvalue()
    assert "building shim" not in err.getvalue()
    assert not (tmp_path / "cache").exists()
    good = symbol_files / "good.json"
    good.write_text(json.dumps({"version": 1, "inittab": [
        {"name": "st_multi", "library": "$CONFIG_DIR/libstmods.so"}]}), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(["build", str(good)], out, err) == 0, err.getvalue()
    assert "launcher:" in out.getvalue()
