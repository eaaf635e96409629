"""embedcfg.shim: the ctypes handle API (in process: setters never initialize
Python) and run() through the launcher (in a child)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

from embedcfg import shim as shim_mod
from embedcfg.errors import ShimError
from embedcfg.model import EmbedConfig, InittabEntry

from .conftest import Shim


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> object:
    from embedcfg import build as _build
    import io

    built = _build.build(sys.executable, cache=tmp_path_factory.mktemp("cache"),
                         stderr=io.StringIO())
    return shim_mod.load_library(built.shim)


@pytest.fixture
def handle(library: object) -> Iterator[shim_mod.Handle]:
    with shim_mod.Handle(library) as h:  # type: ignore[arg-type]
        yield h


def test_setters_check_values_and_name_the_option(handle: shim_mod.Handle) -> None:
    """A bad value is refused with a message that names the option."""
    handle.set_int("verbose", 2)
    with pytest.raises(ShimError, match="during setting utf8_mode: expected a boolean"):
        handle.set_int("utf8_mode", 5)
    with pytest.raises(ShimError, match="from 0 to 65535, got 70000"):
        handle.set_int("tracemalloc", 70000)
    with pytest.raises(ShimError, match="unknown option 'nope'"):
        handle.set_str("nope", "x")


def test_version_guards_of_the_table(handle: shim_mod.Handle) -> None:
    """Options newer than the compiled-for CPython are refused with the version needed."""
    if sys.version_info >= (3, 13):
        pytest.skip("needs an interpreter older than 3.13")
    with pytest.raises(ShimError, match="needs CPython 3.13 or newer"):
        handle.set_int("cpu_count", 2)
    with pytest.raises(ShimError, match="removed"):
        handle.set_int("show_alloc_count", 1)


def test_document_anchors_are_expanded(handle: shim_mod.Handle, tmp_path: Path) -> None:
    """$CONFIG_DIR in lib is the directory of the loaded document."""
    doc = tmp_path / "doc.json"
    doc.write_text('{"version":1,"lib":"$CONFIG_DIR/libpython3.so","requires_python":">=3.8"}',
                   encoding="utf-8")
    handle.load_file(doc)
    assert handle.lib == f"{tmp_path.resolve()}/libpython3.so"
    assert handle.requires_python == ">=3.8"
    assert not handle.embedded


def test_braces_in_setters_but_not_in_documents(handle: shim_mod.Handle,
                                                tmp_path: Path) -> None:
    """The setters take ${ORIGIN}, as documented; a document is refused with
    validate's fix (EC401), for an option, lib and an inittab library."""
    handle.set_origin("/opt/app")
    handle.set_str("pycache_prefix", "${ORIGIN}/cache")
    handle.add_module("braced", library="${ORIGIN}/libmods.so")
    doc = tmp_path / "doc.json"
    for text in ('{"version":1,"options":{"pycache_prefix":"${ORIGIN}/cache"}}',
                 '{"version":1,"lib":"${ORIGIN}/libpython3.so"}',
                 '{"version":1,"inittab":[{"name":"m","library":"${CONFIG_DIR}/m.so"}]}'):
        doc.write_text(text, encoding="utf-8")
        with pytest.raises(ShimError, match=r"without braces"):
            handle.load_file(doc)


def test_inittab_names_are_checked(handle: shim_mod.Handle) -> None:
    """Invalid and duplicate inittab names are refused."""
    handle.add_module("pkg.mod")
    with pytest.raises(ShimError, match="already registered"):
        handle.add_module("pkg.mod")
    with pytest.raises(ShimError, match="not a dotted module name"):
        handle.add_module("bad name")


def test_strlist_and_has_option(handle: shim_mod.Handle) -> None:
    """set_strlist replaces, append adds; has_option tells what was set."""
    assert not handle.has_option("argv")
    handle.set_strlist("argv", ["a"])
    handle.set_strlist("argv", ["b"], append=True)
    assert handle.has_option("argv")


def test_run_returns_the_exit_code(shim: Shim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   shim_cache: Path) -> None:
    """embedcfg.shim.run: the exit code of the application, 78 for a config error."""
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(shim_cache))
    cfg = EmbedConfig(options={"run_command": "import sys; sys.exit(len(sys.argv))"})
    assert shim_mod.run(cfg, ["x", "y"], python=shim.python, config_dir=tmp_path) == 3
    bad = EmbedConfig(inittab=[InittabEntry(name="nothere")])
    assert shim_mod.run(bad, python=shim.python, config_dir=tmp_path) == 78


def test_run_builds_for_the_document_lib(tmp_path: Path,
                                         pythons: "dict[tuple[int, int], str]") -> None:
    """Without python=, the interpreter installed with the document's lib is used."""
    from embedcfg import build as _build

    if not pythons:
        pytest.skip("no pyenv CPython installed")
    python = pythons[min(pythons)]
    lib = _build.probe(python).libpython
    assert lib is not None
    cfg = EmbedConfig(lib=lib)
    assert Path(shim_mod._python_for(cfg, None)).resolve() == Path(python).resolve()
    assert shim_mod._python_for(EmbedConfig(), None) == sys.executable


def test_run_needs_config_dir_for_config_dir_anchors() -> None:
    """A document using $CONFIG_DIR cannot run without saying what it stands for."""
    cfg = EmbedConfig(options={"module_search_paths": ["$CONFIG_DIR/app"]})
    with pytest.raises(ShimError, match="pass config_dir"):
        shim_mod.run(cfg)


def test_static_modules_mechanism_is_decided_as_in_python(handle: shim_mod.Handle) -> None:
    """The shim's automatic choice follows the same threshold as
    embedcfg.bake.choose_mechanism; an explicit choice wins; a wrong one is refused."""
    from embedcfg.bake import choose_mechanism
    from embedcfg.model import INDEXED_THRESHOLD, StaticModules

    assert handle.static_modules == "inittab"
    for i in range(INDEXED_THRESHOLD - 1):
        handle.add_module(f"m{i}")
    assert handle.static_modules == "inittab"
    handle.add_module("last")
    assert handle.static_modules == "indexed"
    handle.set_static_modules("inittab")
    assert handle.static_modules == "inittab"
    handle.set_static_modules(None)
    assert handle.static_modules == "indexed"
    with pytest.raises(ShimError, match='static_modules: expected "inittab" or "indexed"'):
        handle.set_static_modules("hashed")
    for cfg in (EmbedConfig(embedded=True), EmbedConfig(static_modules=StaticModules.INDEXED),
                EmbedConfig(embedded=True, static_modules=StaticModules.INITTAB)):
        with shim_mod.Handle(handle._lib) as h:
            h.load(cfg)
            assert h.static_modules == choose_mechanism(cfg)


def test_non_ascii_module_names_are_refused(handle: shim_mod.Handle) -> None:
    """As EC504: no PyInitU_ punycode symbol is derived, so the name is refused."""
    with pytest.raises(ShimError, match="not ASCII"):
        handle.add_module("caf\u00e9", "PyInit_cafe")


@pytest.mark.parametrize("text, message", [
    ('{"version":1,"options":{"run_command":"x","run_module":"y"}}',
     r"^options\.run_module: 'run_command' and 'run_module' are exclusive: CPython runs only"
     r" one; keep one of them$"),
    ('{"version":1,"options":{"run_filename":"/z.py","run_module":"y","run_command":"x"}}',
     r"^options\.run_module: 'run_command' and 'run_module' and 'run_filename' are exclusive"),
    ('{"version":1,"options":{"module_search_paths_set":true}}',
     r"^options\.module_search_paths_set: module_search_paths_set = true without"
     r" module_search_paths starts CPython with an empty sys\.path .*; give module_search_paths"
     r" instead$"),
    ('{"version":1,"inittab":[{"name":"app.x"},{"name":"app._x","init":"PyInit-x"}]}',
     r"^inittab\[1\]\.init: inittab init 'PyInit-x' is not a C identifier; give the name of"
     r" the init function, such as 'PyInit__x'$"),
    ('{"version":1,"inittab":[{"name":"app.class"}]}',
     r"^inittab\[0\]\.name: inittab name 'app\.class' is not a dotted Python identifier"
     r" \('class' is a Python keyword\)"),
    ('{"version":1,"inittab":[{"name":"None"}]}', r"'None' is a Python keyword"),
    ('{"version":1,"pycache":{"check":"sometimes"}}',
     r'^pycache\.check: expected "default", "always" or "never", got "sometimes"$'),
])
def test_document_refusals_before_init(handle: shim_mod.Handle, text: str,
                                       message: str) -> None:
    """What validate refuses (EC300, EC304, EC500, EC503) the document loader
    refuses too, located and with the fix, before anything is initialized."""
    with pytest.raises(ShimError, match=message):
        handle.load_buffer(text.encode())


@pytest.mark.parametrize("text", [
    '{"version":1,"options":{"run_module":"y"}}',
    '{"version":1,"options":{"module_search_paths_set":true,"module_search_paths":["/x"]}}',
    '{"version":1,"options":{"module_search_paths_set":false}}',
    '{"version":1,"inittab":[{"name":"app.klass","init":"PyInit_x9"},{"name":"classy.if_"}]}',
    '{"version":1,"pycache":{"mode":"off","check":"never"}}',
])
def test_document_near_misses_load(handle: shim_mod.Handle, text: str) -> None:
    """The documents next to those refusals load."""
    handle.load_buffer(text.encode())
