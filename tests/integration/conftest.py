"""Fixtures of the integration tests: real interpreters, fresh processes.

Interpreters are discovered through pyenv (``pyenv root`` and ``pyenv
versions --bare``) and, for 3.14, the test-data build beside the checkout
(:mod:`tests.pythons`); a CPython minor that is not installed is skipped with the
reason shown by ``-ra``. The shim is built once per interpreter and session,
into a session cache directory, through :func:`embedcfg.build.build`. No test
initializes an interpreter in the pytest process: everything runs in a child
whose environment is set explicitly, without ``PYTHON*`` variables (as
CPython's Lib/test/test_embed.py does).
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import pytest

from embedcfg import build as _build
from embedcfg import codec
from embedcfg.model import EmbedConfig

from ..pythons import MINORS, installed_pythons, missing_reason


def _pyenv_pythons() -> Dict[Tuple[int, int], str]:
    return {minor: str(exe) for minor, exe in installed_pythons().items()}


@pytest.fixture(scope="session")
def pythons() -> Dict[Tuple[int, int], str]:
    """Installed CPython minors -> interpreter path."""
    return _pyenv_pythons()


def clean_env(**extra: str) -> Dict[str, str]:
    """The child environment: no PYTHON* variable, a UTF-8 locale."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON") and k not in ("LC_ALL", "LC_CTYPE", "LANG")}
    env["LANG"] = "C.UTF-8"
    env.update(extra)
    return env


_STDLIB: Dict[str, List[str]] = {}


def stdlib_paths(python: str) -> List[str]:
    """The standard library directories of ``python``, for module_search_paths."""
    if python not in _STDLIB:
        code = ("import json, os, sysconfig; print(json.dumps([sysconfig.get_path('stdlib'),"
                " os.path.join(sysconfig.get_path('platstdlib'), 'lib-dynload')]))")
        out = subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True,
                             env=clean_env(), check=True).stdout
        _STDLIB[python] = json.loads(out)
    return _STDLIB[python]


class Shim:
    """The shim and launcher built for one interpreter."""

    def __init__(self, python: str, built: _build.Built) -> None:
        self.python = python
        self.built = built
        self.version = built.version
        self.minor = built.version[:2]

    def launch(self, cfg: EmbedConfig, args: List[str] = (), *, directory: Path,
               env: Optional[Mapping[str, str]] = None,
               timeout: float = 60) -> "subprocess.CompletedProcess[str]":
        """Write ``cfg`` to ``directory`` and run it through the launcher."""
        doc = directory / "doc.json"
        doc.write_bytes(codec.canonical(cfg))
        return self.launch_file(doc, args, env=env, timeout=timeout)

    def launch_file(self, doc: Path, args: List[str] = (), *,
                    env: Optional[Mapping[str, str]] = None,
                    timeout: float = 60) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([str(self.built.launcher), str(doc), *args], capture_output=True,
                              text=True, env=dict(env) if env is not None else clean_env(),
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def shim_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build cache for this session, so the build itself is exercised."""
    return tmp_path_factory.mktemp("embedcfg-cache")


@pytest.fixture(scope="session")
def shims(pythons: Dict[Tuple[int, int], str], shim_cache: Path) -> Dict[Tuple[int, int], Any]:
    """Lazily built shims, one per minor and session."""
    return _Lazy(pythons, shim_cache)


class _Lazy(dict):  # type: ignore[type-arg]
    def __init__(self, pythons: Dict[Tuple[int, int], str], cache: Path) -> None:
        super().__init__()
        self.pythons = pythons
        self.cache = cache

    def get_shim(self, minor: Tuple[int, int]) -> Shim:
        if minor not in self:
            python = self.pythons.get(minor)
            if python is None:
                pytest.skip(missing_reason(minor))
            built = _build.build(python, cache=self.cache, stderr=io.StringIO())
            self[minor] = Shim(python, built)
        return self[minor]  # type: ignore[no-any-return]


def minor_id(minor: Tuple[int, int]) -> str:
    return f"{minor[0]}.{minor[1]}"


@pytest.fixture(params=MINORS, ids=minor_id)
def shim(request: pytest.FixtureRequest, shims: _Lazy) -> Shim:
    """The shim for each CPython minor 3.8-3.14 (skipped when absent)."""
    return shims.get_shim(request.param)


DUMP = (
    "import json, sys\n"
    "try:\n"
    "    import _testinternalcapi\n"
    "    configs = _testinternalcapi.get_configs()\n"
    "    configs['source'] = '_testinternalcapi'\n"
    "except ImportError:\n"
    "    configs = {'source': 'sys', 'flags': {n: getattr(sys.flags, n) for n in\n"
    "        dir(sys.flags) if not n.startswith(('_', 'n_')) and n not in ('count', 'index')},\n"
    "        'path': sys.path, 'pycache_prefix': sys.pycache_prefix,\n"
    "        'warnoptions': sys.warnoptions, 'dont_write_bytecode': sys.dont_write_bytecode,\n"
    "        'argv': sys.argv, '_xoptions': sys._xoptions}\n"
    "configs['runtime'] = {'filesystem_encoding': sys.getfilesystemencoding(),\n"
    "    'stdout_encoding': sys.stdout.encoding, 'utf8_mode': sys.flags.utf8_mode,\n"
    "    'path': sys.path, 'builtins': sorted(sys.builtin_module_names)}\n"
    "sys.stdout.write('@@' + json.dumps(configs, default=repr) + '@@')\n"
)


def dump_of(proc: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    """The configuration a child printed with DUMP."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    start = proc.stdout.index("@@") + 2
    end = proc.stdout.rindex("@@")
    return json.loads(proc.stdout[start:end])  # type: ignore[no-any-return]


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


HERE = Path(__file__).resolve().parent


def compile_host(shim: Shim, sources: List[Path], out: Path, *extra: str) -> Path:
    """Compile a C program that links the shim's interpreter's libpython."""
    target = _build.probe(shim.python)
    assert target.libpython is not None, "a shared libpython is needed"
    lib = Path(target.libpython)
    name = lib.name.split(".so")[0][3:]  # libpython3.11.so.1.0 -> python3.11
    cmd = ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2",
           *(f"-I{i}" for i in target.includes), *map(str, sources), "-o", str(out),
           f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}", f"-l{name}", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def refhost(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Build (once per minor) the hand-written reference host."""
    built: Dict[Tuple[int, int], Path] = {}
    directory = tmp_path_factory.mktemp("refhost")

    def get(shim: Shim) -> Path:
        if shim.minor not in built:
            built[shim.minor] = compile_host(
                shim, [HERE / "refhost.c"],
                directory / f"refhost{shim.minor[0]}{shim.minor[1]}")
        return built[shim.minor]

    return get

SHIM_SRC = HERE.parent.parent / "capi_shim"


def compile_extension(python: str, source: Path, name: str, out: Path) -> Path:
    """``source`` built as ``name`` the way a third-party wheel builds its
    extension: the target's CC, CFLAGS, CCSHARED and LDSHARED, no libpython."""
    code = ("import json, sysconfig; v = sysconfig.get_config_var; print(json.dumps({k: v(k)"
            " or '' for k in ('CC', 'CFLAGS', 'CCSHARED', 'LDSHARED', 'INCLUDEPY',"
            " 'EXT_SUFFIX')}))")
    cfg = json.loads(subprocess.run([python, "-I", "-S", "-c", code], capture_output=True,
                                    text=True, env=clean_env(), check=True).stdout)
    obj = out / f"{name}.o"
    target = out / f"{name}{cfg['EXT_SUFFIX']}"
    for cmd in ([*shlex.split(cfg["CC"]), *shlex.split(cfg["CFLAGS"]),
                 *shlex.split(cfg["CCSHARED"]), f"-I{cfg['INCLUDEPY']}", "-c", str(source),
                 "-o", str(obj)],
                [*shlex.split(cfg["LDSHARED"]), str(obj), "-o", str(target)]):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{cmd}\n{proc.stderr}"
    needed = subprocess.run(["readelf", "--dynamic", str(target)], capture_output=True,
                            text=True, check=True).stdout
    assert "libpython" not in needed, "an extension must not link libpython"
    return target


@pytest.fixture
def newest(shims: Any, pythons: Dict[Tuple[int, int], str], shim_cache: Path,
           monkeypatch: pytest.MonkeyPatch) -> Shim:
    """The shim of the newest installed minor, with the session's build cache."""
    if not pythons:
        pytest.skip("no CPython is installed through pyenv")
    monkeypatch.setenv("EMBEDCFG_CACHE_DIR", str(shim_cache))
    return shims.get_shim(max(pythons))  # type: ignore[no-any-return]


#: A third-party package with a C extension module inside it
#: (``markupsafe._speedups``), published as binary wheels for every CPython
#: 3.8-3.14 (MarkupSafe 2.1 for 3.8, 3.0 for 3.9 and newer).
WHEEL_PACKAGE = "markupsafe"


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``wheels(python)``: a directory into which ``python``'s own pip
    installed the binary wheel of :data:`WHEEL_PACKAGE` from the package
    index (``pip install --target``, once per interpreter and session)."""
    made: Dict[str, Path] = {}

    def get(python: str) -> Path:
        if python not in made:
            target = tmp_path_factory.mktemp("wheel")
            proc = subprocess.run([python, "-m", "pip", "install", "--quiet",
                                   "--disable-pip-version-check", "--no-deps",
                                   "--only-binary=:all:", "--target", str(target),
                                   WHEEL_PACKAGE], capture_output=True, text=True,
                                  env=clean_env(), timeout=300, check=False)
            assert proc.returncode == 0, f"pip install {WHEEL_PACKAGE} failed:\n{proc.stderr}"
            assert list(target.glob(f"{WHEEL_PACKAGE}/_speedups.*.so")), sorted(
                p.name for p in target.rglob("*"))
            made[python] = target
        return made[python]

    return get
