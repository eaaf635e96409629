"""The C shim as C: generated table freshness, warnings as C99/C11/C++, and
the handle API under AddressSanitizer and UndefinedBehaviorSanitizer.

The compile checks run against the headers of every CPython found by pyenv
(skipped, with the reason, for minors that are absent)."""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from embedcfg import _ctable, codec
from embedcfg import build as _build
from embedcfg.model import (
    EmbedConfig,
    InittabEntry,
    Profile,
    Pycache,
    PycacheMode,
    StaticModules,
)
from tests.pythons import missing_reason

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "capi_shim"
HERE = Path(__file__).resolve().parent
DATA = ROOT / "tests" / "data"
GCC = shutil.which("gcc")
GXX = shutil.which("g++")
STRICT = ["-Wall", "-Wextra", "-Wconversion", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1",
            "-fno-omit-frame-pointer"]

pytestmark = pytest.mark.skipif(GCC is None, reason="gcc not found: these tests compile C")


def _pythons() -> Dict[Tuple[int, int], str]:
    from tests.integration.conftest import _pyenv_pythons

    return _pyenv_pythons()


def _run(cmd: List[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    assert proc.stderr == "", proc.stderr


def test_generated_option_table_is_fresh() -> None:
    """capi_shim/embedcfg_options.h is what embedcfg/options.py generates."""
    header = SHIM / _ctable.HEADER_NAME
    assert header.read_text(encoding="utf-8") == _ctable.generate(), (
        "stale: run python -m embedcfg.generate")


@pytest.mark.parametrize("minor", [(3, m) for m in range(8, 15)], ids=lambda m: f"3.{m[1]}")
@pytest.mark.parametrize("std", ["c99", "c11"])
def test_shim_compiles_strictly(minor: Tuple[int, int], std: str, tmp_path: Path) -> None:
    """The shim's sources, and the launcher's (as the launcher builds them,
    with its arena): no warning with -Wall -Wextra -Wconversion."""
    python = _pythons().get(minor)
    if python is None:
        pytest.skip(missing_reason(minor))
    target = _build.probe(python)
    inc = [f"-I{SHIM}", *(f"-I{i}" for i in target.includes)]
    launcher = ["-DEMBEDCFG_LAUNCHER"]
    launcher_defines = [*launcher, "-DEMBEDCFG_TARGET_HEX=0x030B0000UL",
                        '-DEMBEDCFG_DEFAULT_LIB="/x/libpython.so"']
    builds = [*((s, ["-fPIC"]) for s in _build._SHIM_SOURCES),
              *((s, launcher_defines) for s in _build._LAUNCHER_SOURCES)]
    for source, extra in builds:
        _run([GCC, f"-std={std}", *STRICT, *extra, *inc, "-c", str(SHIM / source),
              "-o", str(tmp_path / (source + ".o"))], tmp_path)


@pytest.mark.skipif(GXX is None, reason="g++ not found")
def test_header_compiles_as_cxx(tmp_path: Path) -> None:
    """embedcfg.h is usable from C++ (extern "C", no C-only constructs)."""
    src = tmp_path / "host.cpp"
    src.write_text(
        '#include "embedcfg.h"\n'
        "int main() {\n"
        "    embedcfg_handle *h = embedcfg_create();\n"
        '    int rc = embedcfg_set_int(h, "verbose", 1);\n'
        "    embedcfg_free(h);\n"
        "    return rc;\n"
        "}\n", encoding="utf-8")
    _run([GXX, "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{SHIM}", "-c",
          str(src), "-o", str(tmp_path / "host.o")], tmp_path)
    _run([GCC, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{SHIM}", "-x", "c",
          "-c", str(src), "-o", str(tmp_path / "host_c.o")], tmp_path)


def _seeds() -> List[bytes]:
    docs = [
        EmbedConfig(),
        EmbedConfig(profile=Profile.PYTHON, lib="$CONFIG_DIR/libpython3.so",
                    requires_python=">=3.8,<3.14",
                    options={"verbose": 2, "utf8_mode": True, "allocator": "malloc",
                             "module_search_paths": ["$CONFIG_DIR/a", "/b"],
                             "warnoptions": ["error"], "run_module": "app",
                             "check_hash_pycs_mode": "never", "hash_seed": 4294967295},
                    inittab=[InittabEntry(name="a.b", init="PyInit_b", library="/x.so"),
                             InittabEntry(name="c")],
                    pycache=Pycache(mode=PycacheMode.PREFIX, prefix="$CONFIG_DIR/pyc")),
        EmbedConfig(embedded=True, options={"write_bytecode": False}),
        EmbedConfig(embedded=True, static_modules=StaticModules.INDEXED,
                    inittab=[InittabEntry(name="a.b", library="$CONFIG_DIR/x.so")]),
    ]
    seeds = [codec.canonical(d) for d in docs]
    for folder in ("valid", "invalid"):
        for path in sorted((DATA / folder).glob("*.json")) if (DATA / folder).is_dir() else ():
            seeds.append(path.read_bytes())
    seeds += [b"", b"{}", b"[]", b"null", b'{"version":1,"options":[]}',
              b'{"version":1,"inittab":[{"name":"x","library":5}]}',
              b'{"version":1,"options":{"argv":[1]}}',
              b'{"version":1,"pycache":{"mode":"prefix"}}',
              b'{"version":1,"options":{"write_bytecode":true},"pycache":{"mode":"off"}}',
              b'{"version":1,"lib":"$ORIGIN"}', b'{"version":1,"requires_python":">=x"}',
              json.dumps({"version": 1, "options": {"argv": ["x"] * 5000}}).encode()]
    return seeds


def _mutations(seeds: List[bytes], count: int, rng: random.Random) -> List[bytes]:
    out = []
    tokens = [b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"true", b"null", b"-1",
              b"99999999999999999999", b"\xff", b"\xc3", b"\\u0000", b"\\ud800", b"$ORIGIN",
              b'"options"', b'"inittab"', b'"static_modules"', b'"indexed"', b'"verbose"', b"1e5"]
    for _ in range(count):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(pos, len(data) - 1)] = rng.randrange(256)
            elif op == 1:
                data[pos:pos] = rng.choice(tokens)
            elif op == 2:
                del data[pos:pos + rng.randint(1, 8)]
            else:
                data = data[:pos]
        out.append(bytes(data))
    return out


def test_api_and_documents_under_sanitizers(tmp_path: Path) -> None:
    """The handle API and thousands of (mutated) documents: no ASan/UBSan/LSan finding."""
    target = _build.probe(sys.executable)
    if target.libpython is None:
        pytest.skip("this interpreter has no shared libpython to link the driver with")
    lib = Path(target.libpython)
    exe = tmp_path / "shim_api_driver"
    _run([GCC, "-std=c99", *STRICT, *SANITIZE, f"-I{SHIM}",
          *(f"-I{i}" for i in target.includes),
          str(HERE / "shim_api_driver.c"), *(str(SHIM / s) for s in _build._SHIM_SOURCES),
          "-o", str(exe),
          f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}", "-l" + lib.name.split(".so")[0][3:],
          "-ldl"], tmp_path)
    seeds = _seeds()
    cases = seeds + _mutations(seeds, 4000, random.Random(741))
    blob = b"".join(struct.pack("<I", len(c)) + c for c in cases)
    (tmp_path / "cases.bin").write_bytes(blob)
    env = {"ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(exe), str(tmp_path / "cases.bin")], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.startswith(f"cases {len(cases)} ok ")
    assert int(proc.stdout.split()[-1]) >= 3

    # The applier itself, initializing a real interpreter (CPython's own
    # allocations at exit are not ours: leak detection off for this part).
    doc = tmp_path / "doc.json"
    paths = [p for p in sys.path if p and Path(p).is_dir() and "site-packages" not in p]
    doc.write_bytes(codec.canonical(EmbedConfig(
        profile=Profile.PYTHON,
        options={"module_search_paths": paths, "warnoptions": ["ignore::UserWarning", "é"],
                 "xoptions": ["a=b"], "argv": ["prog", "ü"], "optimization_level": 1,
                 "hash_seed": 7, "allocator": "malloc", "check_hash_pycs_mode": "never",
                 "site_import": False},
        pycache=Pycache(mode=PycacheMode.PREFIX, prefix="$CONFIG_DIR/pyc"))))
    code = ("import sys; assert sys.argv == ['prog', 'ü'], sys.argv;"
            " assert sys.flags.optimize == 1; assert sys._xoptions == {'a': 'b'};"
            f" assert sys.pycache_prefix == {str(tmp_path.resolve() / 'pyc')!r}")
    init_env = {**env, "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1", "LANG": "C.UTF-8"}
    proc = subprocess.run([str(exe), "--init", str(doc), code], capture_output=True,
                          text=True, env=init_env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]


# Where no CPython 3.14 is installed its headers cannot be used (with one,
# test_shim_compiles_strictly[3.14] compiles against the real thing). This stub
# puts the PEP 741 declarations (signatures copied from 3.14's
# Include/cpython/initconfig.h) on top of the newest installed headers and
# claims 3.14, so that the `PY_VERSION_HEX >= 0x030E0000` branch is at least
# type-checked with the same warnings. The 3.14-only PyConfig members are
# mapped onto an existing member: only their offsetof() must compile.
PEP741_STUB = r"""
#include PYTHON_H_OF_AN_OLDER_CPYTHON
#undef PY_VERSION_HEX
#define PY_VERSION_HEX 0x030E00F0
#define remote_debug safe_path
#define thread_inherit_context safe_path
#define context_aware_warnings safe_path
typedef struct PyInitConfig PyInitConfig;
PyAPI_FUNC(PyInitConfig*) PyInitConfig_Create(void);
PyAPI_FUNC(void) PyInitConfig_Free(PyInitConfig *config);
PyAPI_FUNC(int) PyInitConfig_GetError(PyInitConfig* config, const char **err_msg);
PyAPI_FUNC(int) PyInitConfig_GetExitCode(PyInitConfig* config, int *exitcode);
PyAPI_FUNC(int) PyInitConfig_SetInt(PyInitConfig *config, const char *name, int64_t value);
PyAPI_FUNC(int) PyInitConfig_SetStr(PyInitConfig *config, const char *name, const char *value);
PyAPI_FUNC(int) PyInitConfig_SetStrList(PyInitConfig *config, const char *name,
                                        size_t length, char * const *items);
PyAPI_FUNC(int) PyInitConfig_AddModule(PyInitConfig *config, const char *name,
                                       PyObject* (*initfunc)(void));
PyAPI_FUNC(int) Py_InitializeFromInitConfig(PyInitConfig *config);
PyAPI_FUNC(int) PyConfig_Set(const char *name, PyObject *value);
"""


@pytest.mark.parametrize("std", ["c99", "c11"])
def test_pep741_branch_compiles_against_a_stub(std: str, tmp_path: Path) -> None:
    """The 3.14 (PyInitConfig) code compiles with -Wall -Wextra -Wconversion -Werror."""
    pythons = {m: p for m, p in _pythons().items() if m < (3, 14)}  # pre-PEP 741 headers
    if not pythons or max(pythons) < (3, 12):
        pytest.skip("needs CPython 3.12 or 3.13 headers to build the stub on")
    newest = pythons[max(pythons)]
    target = _build.probe(newest)
    python_h = next(Path(i) / "Python.h" for i in target.includes
                    if (Path(i) / "Python.h").exists())
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "Python.h").write_text(
        PEP741_STUB.replace("PYTHON_H_OF_AN_OLDER_CPYTHON", f'"{python_h}"'), encoding="utf-8")
    nm = ""
    for source in _build._SHIM_SOURCES:
        obj = tmp_path / (source + ".o")
        _run([GCC, f"-std={std}", *STRICT, "-fPIC", f"-I{stub}", f"-I{SHIM}",
              *(f"-I{i}" for i in target.includes), "-c", str(SHIM / source),
              "-o", str(obj)], tmp_path)
        nm += subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True,
                             check=False).stdout
    assert "Py_InitializeFromInitConfig" in nm
    # PyConfig only for a document whose importers go in between init's phases (a second
    # Py_InitializeFromConfig runs the main phase): 3.14 has no _Py_InitializeMain
    assert "Py_InitializeFromConfig" in nm.replace("Py_InitializeFromInitConfig", "")
    assert "_Py_InitializeMain" not in nm
