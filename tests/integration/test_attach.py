"""Embedded mode: attach to a running interpreter from Python, through ctypes.

Each test runs a fresh interpreter: the attaching process is the child, never
the pytest process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from embedcfg import codec
from embedcfg.model import EmbedConfig, Pycache, PycacheMode

from .conftest import Shim, clean_env

ROOT = Path(__file__).resolve().parents[2]

# Uses the shim library through ctypes only, so it runs on every CPython
# (embedcfg's own dependencies are not installed in those interpreters).
CTYPES_CHILD = r"""
import ctypes, json, sys, warnings
lib = ctypes.PyDLL(sys.argv[1])
lib.embedcfg_create.restype = ctypes.c_void_p
lib.embedcfg_get_error.restype = ctypes.c_char_p
lib.embedcfg_get_error.argtypes = [ctypes.c_void_p]
lib.embedcfg_load_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
lib.embedcfg_initialize.argtypes = [ctypes.c_void_p]
lib.embedcfg_attach_report_len.argtypes = [ctypes.c_void_p]
lib.embedcfg_attach_report_len.restype = ctypes.c_size_t
lib.embedcfg_attach_report_item.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
    ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)]
lib.embedcfg_free.argtypes = [ctypes.c_void_p]
out = {}
for key, doc in json.loads(sys.argv[2]).items():
    h = lib.embedcfg_create()
    data = doc.encode()
    rc = lib.embedcfg_load_buffer(h, data, len(data))
    if rc == 0:
        rc = lib.embedcfg_initialize(h)
    report = {}
    for i in range(lib.embedcfg_attach_report_len(h)):
        name, detail = ctypes.c_char_p(), ctypes.c_char_p()
        status = lib.embedcfg_attach_report_item(h, i, ctypes.byref(name), ctypes.byref(detail))
        report[name.value.decode()] = [status, detail.value.decode()]
    out[key] = {"rc": rc, "error": lib.embedcfg_get_error(h).decode(), "report": report}
    lib.embedcfg_free(h)
out["state"] = {"path_tail": sys.path[-1], "pycache_prefix": sys.pycache_prefix,
                "dont_write_bytecode": sys.dont_write_bytecode, "verbose": sys.flags.verbose,
                "warnoptions": sys.warnoptions, "filter": str(warnings.filters[0][2])}
print(json.dumps(out))
"""


def test_attach_applies_runtime_options_and_reports_the_rest(shim: Shim,
                                                             tmp_path: Path) -> None:
    """Runtime-settable options change the running interpreter; the others are reported."""
    cfg = EmbedConfig(embedded=True,
                      options={"module_search_paths": [str(tmp_path / "extra")],
                               "warnoptions": ["error::DeprecationWarning"],
                               "utf8_mode": True, "verbose": 1},
                      pycache=Pycache(mode=PycacheMode.PREFIX, prefix=str(tmp_path / "pyc")))
    docs = {"attach": codec.canonical(cfg).decode(),
            "not_embedded": codec.canonical(EmbedConfig()).decode(),
            "bad_filter": codec.canonical(EmbedConfig(
                embedded=True, options={"warnoptions": ["error::NoSuchCategory"]})).decode()}
    proc = subprocess.run([shim.python, "-I", "-c", CTYPES_CHILD, str(shim.built.shim),
                           json.dumps(docs)], capture_output=True, text=True,
                          env=clean_env(), timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    attach = out["attach"]
    assert attach["rc"] == 0, attach["error"]
    applied = {name for name, (status, _) in attach["report"].items() if status == 0}
    state = out["state"]
    if shim.minor >= (3, 14):
        # PEP 741 (CPython 3.14): PyConfig_Set changes the public options of a
        # running interpreter, verbose among them (sys.flags is replaced).
        assert applied == {"module_search_paths", "warnoptions", "pycache_prefix",
                           "write_bytecode", "verbose"}
        assert attach["report"]["verbose"][1] == "set with PyConfig_Set"
        assert state["verbose"] == 1
    else:
        assert applied == {"module_search_paths", "warnoptions", "pycache_prefix",
                           "write_bytecode"}
        assert "fixed at init" in attach["report"]["verbose"][1]
        assert state["verbose"] == 0
    assert attach["report"]["utf8_mode"][0] == 1
    assert state["path_tail"] == str(tmp_path / "extra")
    assert state["pycache_prefix"] == str(tmp_path / "pyc")
    assert state["dont_write_bytecode"] is False
    assert state["warnoptions"] == ["error::DeprecationWarning"]
    assert state["filter"] == "<class 'DeprecationWarning'>"
    bad = out["bad_filter"]
    assert bad["rc"] == 0
    assert bad["report"]["warnoptions"][0] == 1
    assert bad["report"]["warnoptions"][1].startswith("failed: ")
    refused = out["not_embedded"]
    assert refused["rc"] == -1
    assert "already running" in refused["error"]


def test_embedcfg_attach_api(tmp_path: Path) -> None:
    """embedcfg.attach() in a running Python returns an AttachReport."""
    code = (
        "import sys, embedcfg\n"
        "from embedcfg import shim\n"
        "cfg = embedcfg.EmbedConfig(embedded=True, options={'module_search_paths': ['/tmp/x'],"
        " 'verbose': 1}, pycache=embedcfg.Pycache(mode=embedcfg.PycacheMode.OFF))\n"
        "r = shim.attach(cfg)\n"
        "print(sorted(r.applied), sorted(r.not_applied), sys.dont_write_bytecode,"
        " sys.path[-1])\n"
    )
    env = clean_env(EMBEDCFG_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("['module_search_paths', 'write_bytecode'] ['verbose']"
                                   " True /tmp/x")
    assert proc.stderr.count("embedcfg: building shim") == 1
