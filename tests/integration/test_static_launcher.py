"""The static launcher (``embedcfg build --link static``): the interpreter and
the shim linked into one executable from the target's ``libpython3.X.a``.

For every installed CPython minor with a static library (3.8-3.14 here): the
standard library's C extension modules and one built here as a third-party
wheel's would be (sysconfig ``CC``/``CFLAGS``/``LDSHARED``) import and work,
their Python symbols resolving against the executable; the interpreter and
its effective configuration are those of the dynamic launcher for the same
document, but for the fields listed in :data:`DIFFERS`; and a ``lib`` naming
another CPython is refused the same way by the launcher (exit 78) and by
``embedcfg validate --target --link static`` (EC208).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from embedcfg import build as _build
from embedcfg import cli, codec
from embedcfg.errors import ShimError
from embedcfg.model import EmbedConfig

from ..pythons import MINORS, missing_reason
from .conftest import (DUMP, HERE, Shim, clean_env, compile_extension, dump_of, minor_id,
                       stdlib_paths)


class Static:
    """The static launcher built for one interpreter."""

    def __init__(self, python: str, built: _build.Built) -> None:
        self.python = python
        self.built = built
        self.minor = built.version[:2]

    def launch(self, cfg: EmbedConfig, directory: Path,
               name: str = "doc.json") -> "subprocess.CompletedProcess[str]":
        doc = directory / name
        doc.write_bytes(codec.canonical(cfg))
        return subprocess.run([str(self.built.launcher), str(doc)], capture_output=True,
                              text=True, env=clean_env(), stdin=subprocess.DEVNULL, timeout=120,
                              check=False)


@pytest.fixture(scope="session")
def statics(pythons: Dict[Tuple[int, int], str], shim_cache: Path) -> Dict[Tuple[int, int], Static]:
    return {}


@pytest.fixture(params=MINORS, ids=minor_id)
def static(request: pytest.FixtureRequest, pythons: Dict[Tuple[int, int], str],
           statics: Dict[Tuple[int, int], Static], shim_cache: Path) -> Static:
    """The static launcher of each installed minor (built once per session)."""
    minor = request.param
    if minor not in statics:
        python = pythons.get(minor)
        if python is None:
            pytest.skip(missing_reason(minor))
        built = _build.build(python, cache=shim_cache, stderr=io.StringIO(), link="static")
        statics[minor] = Static(python, built)
    return statics[minor]


def _app(static: Static, directory: Path, code: str) -> EmbedConfig:
    return EmbedConfig(options={
        "module_search_paths": [*stdlib_paths(static.python), str(directory)],
        "site_import": False, "run_command": code})


def test_build_is_its_own_launcher(static: Static, shims: Any) -> None:
    """One executable in its own cache directory, beside the dynamic build;
    it needs no libpython and exports the interpreter's symbols."""
    dynamic = shims.get_shim(static.minor).built
    built = static.built
    assert built.link == "static" and dynamic.link == "dynamic"
    assert built.launcher.name == _build.STATIC_LAUNCHER_NAME != dynamic.launcher.name
    assert built.directory != dynamic.directory
    assert built.directory.name.startswith(f"cp{static.minor[0]}{static.minor[1]}-static-")
    assert sorted(p.name for p in built.directory.iterdir()) == [
        _build.STATIC_LAUNCHER_NAME, "info.json"]
    assert built.static_library is not None and built.static_library.endswith(".a")
    dynamic_section = subprocess.run(["readelf", "--dynamic", str(built.launcher)],
                                     capture_output=True, text=True, check=True).stdout
    assert "libpython" not in dynamic_section and "libembedcfg" not in dynamic_section
    symbols = subprocess.run(["nm", "--dynamic", "--defined-only", str(built.launcher)],
                             capture_output=True, text=True, check=True).stdout.split()
    assert {"PyLong_FromLong", "PyModule_Create2", "PyArg_ParseTuple"} <= set(symbols)


def test_cli_build_json_reports_the_link(static: Static, shim_cache: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`embedcfg build --link static --json` names the launcher and its link."""
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(shim_cache))
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["build", "--link", "static", "--python", static.python, "--json"], out, err)
    assert code == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    assert doc["link"] == "static"
    assert doc["launcher"] == str(static.built.launcher)
    assert doc["static_library"] == static.built.static_library


#: Each stdlib C extension with an operation whose answer shows it works.
STDLIB_CODE = r"""
import json, sys
results = {}
def attempt(name, work):
    try:
        module = __import__(name)
    except ImportError as e:
        results[name] = "absent: %s" % e
        return
    results[name] = [getattr(module, "__file__", "built-in").rsplit("/", 1)[-1], work(module)]
attempt("_json", lambda m: m.encode_basestring_ascii("\u00e9"))
attempt("_ctypes", lambda m: __import__("ctypes").c_int(41).value + 1)
attempt("math", lambda m: m.factorial(20))
attempt("_decimal", lambda m: str(m.Decimal(1) / m.Decimal(7)))
attempt("_sqlite3", lambda m: m.connect(":memory:").execute("select 6 * 7").fetchone()[0])
# PyDLL(None): the program's own symbols, exported by --export-dynamic
import ctypes
results["pythonapi"] = ctypes.pythonapi.Py_IsInitialized()
sys.stdout.write("@@" + json.dumps(results) + "@@")
"""


def _results(proc: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.split("@@")[1])  # type: ignore[no-any-return]


def test_stdlib_extension_modules_work(static: Static, tmp_path: Path) -> None:
    """_json, _ctypes, math, _decimal and _sqlite3 (where this CPython built it)
    give the same answers as under the same CPython's own python."""
    ran = _results(static.launch(_app(static, tmp_path, STDLIB_CODE), tmp_path))
    own = _results(subprocess.run([static.python, "-I", "-S", "-c", STDLIB_CODE],
                                  capture_output=True, text=True, env=clean_env(),
                                  timeout=120, check=False))
    assert ran == own
    for name in ("_json", "_ctypes", "math", "_decimal"):
        assert not isinstance(ran[name], str), ran[name]
    assert ran["math"][1] == 2432902008176640000 and ran["_ctypes"][1] == 42
    assert ran["pythonapi"] == 1


def test_third_party_extension_imports_from_the_app_path(static: Static, tmp_path: Path) -> None:
    """An extension module outside the standard library, compiled here with the
    target's flags, imports from the application's directory and runs."""
    built = compile_extension(static.python, HERE / "ext_modules.c", "ecfg_single", tmp_path)
    proc = static.launch(_app(static, tmp_path, "import ecfg_single;"
                              " print(ecfg_single.__file__, ecfg_single.add(40, 2))"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(built), "42"]


def test_a_wheel_from_the_package_index_imports(static: Static, wheels: Any,
                                                tmp_path: Path) -> None:
    """A binary wheel from PyPI (markupsafe: a package with its C extension
    module, built by the manylinux toolchain), installed by the target's pip
    into the application's path, imports and works: its module resolves its
    Python symbols against the executable."""
    code = ("import markupsafe, markupsafe._speedups as s; print(s.__file__.rsplit('/', 2)[-2:],"
            " markupsafe.escape('<a & b>'), any(getattr(markupsafe, n, None) is f"
            " for n, f in vars(s).items() if callable(f)))")  # the package uses its C code
    cfg = EmbedConfig(options={
        "module_search_paths": [*stdlib_paths(static.python), str(wheels(static.python))],
        "site_import": False, "run_command": code})
    proc = static.launch(cfg, tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder, name, rest = proc.stdout.split(None, 2)
    assert "markupsafe" in folder and name.startswith("'_speedups.cpython-3"), proc.stdout
    assert rest.strip() == "&lt;a &amp; b&gt; True", proc.stdout


#: What the effective configuration may differ in between the dynamic and
#: the static launcher running the same document, and why.
DIFFERS = {
    "executable": "sys.executable is the running program: embedcfg-launch or"
                  " embedcfg-launch-static, each in its own cache directory",
    "base_executable": "follows executable (no virtual environment)",
    "program_name": "the shim sets it to the running program's path",
}


def _config(proc: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    dump = dump_of(proc)
    config = dict(dump.get("config", {}))
    config.update({f"pre_config.{k}": v for k, v in dump.get("pre_config", {}).items()})
    config.update({f"runtime.{k}": v for k, v in dump["runtime"].items()})
    return config


def test_same_interpreter_and_config_as_the_dynamic_launcher(static: Static, shims: Any,
                                                              tmp_path: Path) -> None:
    """sys.version and every field of the effective configuration
    (_testinternalcapi.get_configs()) agree, but for DIFFERS."""
    dynamic: Shim = shims.get_shim(static.minor)
    code = "import sys; print('@V@' + sys.version + '@V@')\n" + DUMP
    cfg = _app(static, tmp_path, code).with_options(
        argv=["app", "one"], xoptions=["app=1"], warnoptions=["ignore::DeprecationWarning"],
        utf8_mode=True, write_bytecode=False, hash_seed=7)
    linked = static.launch(cfg, tmp_path, "static.json")
    loaded = dynamic.launch(cfg, directory=tmp_path)
    for proc in (linked, loaded):
        assert proc.returncode == 0, proc.stderr
    assert linked.stdout.split("@V@")[1] == loaded.stdout.split("@V@")[1]
    a, b = _config(linked), _config(loaded)
    assert dump_of(linked)["source"] == "_testinternalcapi"
    differing = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    # exactly these: a listed field that no longer differs fails too
    assert differing == sorted(DIFFERS), {k: (a.get(k), b.get(k)) for k in differing}
    assert a["executable"] == str(static.built.launcher)
    assert b["executable"] == str(dynamic.built.launcher)


def _lib_cases(static: Static) -> List[Tuple[str, bool]]:
    """(lib, accepted by the static launcher)."""
    major, minor = static.minor
    other = 9 if minor != 9 else 10
    prefix = Path(static.python).resolve().parent.parent
    return [
        (f"libpython{major}.{minor}.so.1.0", True),
        (str(prefix / "lib" / f"libpython{major}.{minor}.so.1.0"), True),
        (static.built.static_library or "", True),
        (f"libpython{major}.{other}.so.1.0", False),
        (f"/opt/python/lib/libpython{major}.{other}.so", False),
        (f"libpython{major}.{minor}0.so", False),
        ("libfoo.so", False),
    ]


def test_a_mismatched_lib_is_refused_by_launcher_and_validate(static: Static,
                                                               tmp_path: Path) -> None:
    """The launcher (exit 78, `DOC: lib: ...` with the fix) and `embedcfg
    validate --target PY --link static` (EC208) agree on every lib; the
    dynamic-link validate does not apply the rule."""
    for i, (lib, accepted) in enumerate(_lib_cases(static)):
        cfg = EmbedConfig(lib=lib, options={
            "module_search_paths": stdlib_paths(static.python), "site_import": False,
            "run_command": "print('ran')"})
        name = f"lib{i}.json"
        proc = static.launch(cfg, tmp_path, name)
        out, err = io.StringIO(), io.StringIO()
        code = cli.run(["validate", "--target", static.python, "--link", "static",
                         str(tmp_path / name)], out, err)
        if accepted:
            assert (proc.returncode, proc.stdout) == (0, "ran\n"), (lib, proc.stderr)
            assert code == 0, (lib, out.getvalue())
            continue
        assert proc.returncode == 78, (lib, proc.stdout, proc.stderr)
        assert proc.stderr.startswith(f"embedcfg: error: {tmp_path / name}: lib: {lib} is "), \
            proc.stderr
        assert "remove lib or set it to the CPython" in proc.stderr
        assert proc.stderr.count("\n") == 1
        assert code == 1 and "EC208" in out.getvalue(), (lib, out.getvalue())
        dynamic = cli.run(["validate", "--target", static.python, str(tmp_path / name)],
                          io.StringIO(), io.StringIO())
        assert dynamic == 0


def test_requires_python_is_checked_against_the_linked_cpython(static: Static,
                                                               tmp_path: Path) -> None:
    major, minor = static.minor
    cfg = _app(static, tmp_path, "print('ran')")
    refused = static.launch(EmbedConfig(requires_python=f">{major}.{minor}.99",
                                        options=cfg.options), tmp_path)
    assert refused.returncode == 78
    assert "the linked CPython is CPython" in refused.stderr
    assert f"does not satisfy requires_python '>{major}.{minor}.99'" in refused.stderr
    ran = static.launch(EmbedConfig(requires_python=f"=={major}.{minor}.*", options=cfg.options),
                        tmp_path)
    assert (ran.returncode, ran.stdout) == (0, "ran\n"), ran.stderr


def test_validate_link_static_needs_a_target(tmp_path: Path) -> None:
    doc = tmp_path / "a.json"
    doc.write_bytes(codec.canonical(EmbedConfig(lib="libfoo.so")))
    err = io.StringIO()
    assert cli.run(["validate", "--link", "static", str(doc)], io.StringIO(), err) == 2
    assert "--link static needs --target" in err.getvalue()


def test_a_cpython_without_a_static_library_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    """The message names the path looked for. The interpreter is real; only
    the library's name it reports is replaced by one that does not exist."""
    script = _build._STATIC_SCRIPT.replace('name = v("LIBRARY") or ""',
                                           'name = "libpython-absent.a"')
    assert script != _build._STATIC_SCRIPT
    monkeypatch.setattr(_build, "_STATIC_SCRIPT", script)
    import sysconfig

    looked = str(Path(sysconfig.get_config_var("LIBPL")) / "libpython-absent.a")
    with pytest.raises(ShimError, match="has no static libpython") as e:
        _build.build(sys.executable, cache=tmp_path, stderr=io.StringIO(), link="static")
    assert looked in str(e.value)
    assert list(tmp_path.iterdir()) == []


def _distribution_pythons() -> List[str]:
    """The distribution's CPythons whose LIBPL holds ``libpython3.X-pic.a``
    (Debian's python3.X-dev: its ``libpython3.X.a`` is not position-independent)."""
    found = []
    for exe in sorted(Path("/usr/bin").glob("python3.[0-9]*")):
        if not exe.name.replace("python3.", "").isdigit():
            continue
        proc = subprocess.run([str(exe), "-I", "-S", "-c",
                               "import sysconfig as s; print(s.get_config_var('LIBPL') or '',"
                               " s.get_config_var('LIBRARY') or '')"],
                              capture_output=True, text=True, env=clean_env(), check=False)
        parts = proc.stdout.split()
        if proc.returncode == 0 and len(parts) == 2 and parts[1].endswith(".a") and (
                Path(parts[0]) / (parts[1][:-len(".a")] + "-pic.a")).is_file():
            found.append(str(exe))
    return found


def test_a_distributions_pic_library_is_linked(shim_cache: Path, tmp_path: Path) -> None:
    """Debian's ``libpython3.X.a`` is built for its own non-PIE ``python``
    and cannot be linked into a PIE (``relocation R_X86_64_32 ... recompile
    with -fPIE``); ``libpython3.X-pic.a`` beside it is chosen instead, and a
    document whose ``lib`` names that CPython's ``libpython3.X.so`` runs."""
    found = _distribution_pythons()
    if not found:
        pytest.skip("no /usr/bin/python3.X with a libpython3.X-pic.a (Debian's python3.X-dev)")
    python = found[-1]
    built = _build.build(python, cache=shim_cache, stderr=io.StringIO(), link="static")
    assert (built.static_library or "").endswith("-pic.a"), built
    code = ("import sys, _json, math, _decimal, ctypes; print(sys.version);"
            " print(_json.encode_basestring_ascii('\\u00e9'), math.lgamma(7.5),"
            " _decimal.Decimal(1) / 7, ctypes.pythonapi.Py_IsInitialized())")
    doc = tmp_path / "doc.json"
    doc.write_bytes(codec.canonical(EmbedConfig(lib=built.libpython, options={
        "module_search_paths": stdlib_paths(python), "site_import": False,
        "run_command": code})))
    proc = subprocess.run([str(built.launcher), str(doc)], capture_output=True, text=True,
                          env=clean_env(), stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    own = subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True,
                         env=clean_env(), timeout=120, check=True)
    assert proc.stdout == own.stdout
