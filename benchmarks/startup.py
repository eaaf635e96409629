"""Start-up cost of the launcher, as ratios measured in one run.

Four ways to start the same interpreter and run ``pass``:

* ``launcher``: ``embedcfg-launch`` with a typical document (30 options, 20
  module search paths, 5 inittab entries resolved by symbol from a library);
* ``host``: a minimal hand-written C host making the same PyPreConfig /
  PyConfig calls (same options, same paths, the same 5 inittab entries,
  resolved with dlopen/dlsym as well), linked with libpython;
* ``host-dlopen``: the same host, not linked with libpython but loading it
  with dlopen/dlsym at run time as the launcher must (the document picks
  the libpython); the two hosts' difference is the dynamic linker's price
  for that choice, which no launcher code can remove;
* ``python``: ``python -I -S -c pass``.

Reports wall-clock medians and, when valgrind is installed, callgrind
instruction totals (stable on a noisy machine), then the ratios. The target
of issue 3: the launcher costs at most 1 % more instructions than the host.

    python benchmarks/startup.py [--python PYTHON|3.14] [--runs 30] [--no-callgrind]
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _callgrind  # noqa: E402  (benchmarks/, the script's directory)
import _interpreters  # noqa: E402
from embedcfg import build as _build  # noqa: E402
from embedcfg import codec  # noqa: E402
from embedcfg.model import EmbedConfig, InittabEntry  # noqa: E402
from embedcfg.options import OPTIONS, CType, Struct  # noqa: E402

MODULES = [f"bench_mod{i}" for i in range(5)]

EXT = "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n" + "".join(
    f"static struct PyModuleDef def{i} = {{PyModuleDef_HEAD_INIT, \"{m}\", NULL, -1,"
    f" NULL, NULL, NULL, NULL, NULL}};\n"
    f"PyMODINIT_FUNC PyInit_{m}(void) {{ return PyModule_Create(&def{i}); }}\n"
    for i, m in enumerate(MODULES))


def typical_options(stdlib_paths: Sequence[str], directory: Path) -> Dict[str, Any]:
    """30 options a real application would set (all present since 3.8)."""
    paths = list(stdlib_paths) + [str(directory / f"app{i}") for i in
                                  range(20 - len(stdlib_paths))]
    return {
        "argv": ["app"], "buffered_stdio": True, "bytes_warning": 0,
        "check_hash_pycs_mode": "default", "configure_c_stdio": False, "dump_refs": False,
        "faulthandler": False, "filesystem_errors": "surrogateescape", "hash_seed": 0,
        "import_time": 0, "inspect": False, "install_signal_handlers": True,
        "interactive": False, "malloc_stats": False, "module_search_paths": paths,
        "optimization_level": 1, "parser_debug": False, "pathconfig_warnings": False,
        "quiet": True, "run_command": "pass", "show_ref_count": False, "site_import": False,
        "skip_source_first_line": False, "tracemalloc": 0, "user_site_directory": False,
        "utf8_mode": True, "verbose": 0, "warnoptions": ["ignore::DeprecationWarning"],
        "write_bytecode": False, "xoptions": ["app=1"],
    }


def _c_wide(text: str) -> str:
    return 'L"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: The CPython calls a host makes, for the variant that dlopen()s libpython.
_API = ("PyPreConfig_InitIsolatedConfig", "Py_PreInitialize", "PyStatus_Exception",
        "Py_ExitStatusException", "PyConfig_InitIsolatedConfig", "PyConfig_SetString",
        "PyWideStringList_Append", "PyImport_AppendInittab", "Py_InitializeFromConfig",
        "PyConfig_SetBytesString",
        "PyConfig_Clear", "Py_RunMain")


def host_source(options: Dict[str, Any], library: Path, libpython: Optional[Path] = None) -> str:
    """The hand-written host: the same calls, one statement per option.

    With ``libpython``, the host is not linked with it but dlopen()s it and
    takes every function with dlsym, as the launcher must (it picks the
    libpython at run time): the difference to the linked host is what that
    choice costs in the dynamic linker, whoever writes the host."""
    pre: List[str] = []
    cfg: List[str] = []
    for name, value in options.items():
        opt = OPTIONS[name]
        if opt.struct is Struct.PRECONFIG:
            pre.append(f"    pre.{name} = {int(value)};")
        elif opt.ctype in (CType.WSTR, CType.WSTR_OPT):
            cfg.append(f"    st = PyConfig_SetString(&c, &c.{name}, {_c_wide(value)});"
                       " if (PyStatus_Exception(st)) goto fail;")
        elif opt.ctype is CType.WSTR_LIST:
            for item in value:
                cfg.append(f"    st = PyWideStringList_Append(&c.{name}, {_c_wide(item)});"
                           " if (PyStatus_Exception(st)) goto fail;")
        else:
            cfg.append(f"    c.{name} = {int(value)};")
    if "hash_seed" in options and "use_hash_seed" not in options:
        # What the shim does (as PEP 741's PyInitConfig_SetInt does): a
        # hash_seed is only used with use_hash_seed.  Without it this host
        # ran with a random seed, unlike the launcher, and its total moved
        # by about 0.1 % from run to run with the dictionaries' collisions.
        cfg.append("    c.use_hash_seed = 1;")
    tab = "\n".join(
        f'    sym = dlsym(lib, "PyInit_{m}"); if (sym == NULL) return 78;'
        f" memcpy(&fn, &sym, sizeof(fn));"
        f' if (PyImport_AppendInittab("{m}", fn) < 0) return 78;' for m in MODULES)
    load = ""
    header = ""
    if libpython is not None:
        header = "".join(f"static __typeof__({f}) *p_{f};\n" for f in _API) + "".join(
            f"#define {f} p_{f}\n" for f in _API)
        load = (f'    void *py = dlopen("{libpython}", RTLD_LAZY | RTLD_GLOBAL);\n'
                "    if (py == NULL) return 78;\n" + "".join(
                    f'    sym = dlsym(py, "{f}"); if (sym == NULL) return 78;'
                    f" memcpy(&p_{f}, &sym, sizeof(sym));\n" for f in _API))
    return f"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>
{header}
int main(void)
{{
    PyPreConfig pre;
    PyConfig c;
    PyStatus st;
    void *lib;
    void *sym;
    PyObject *(*fn)(void);
    char self[4096];
    ssize_t n;
{load}    PyPreConfig_InitIsolatedConfig(&pre);
{chr(10).join(pre)}
    st = Py_PreInitialize(&pre);
    if (PyStatus_Exception(st)) Py_ExitStatusException(st);
    PyConfig_InitIsolatedConfig(&c);
{chr(10).join(cfg)}
    c.module_search_paths_set = 1;
    /* what the shim does without program_name/executable, and what a
       careful host does too: never let CPython search PATH for python3 */
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) return 78;
    self[n] = '\0';
    st = PyConfig_SetBytesString(&c, &c.program_name, self);
    if (PyStatus_Exception(st)) goto fail;
    lib = dlopen("{library}", RTLD_NOW | RTLD_GLOBAL);
    if (lib == NULL) return 78;
{tab}
    st = Py_InitializeFromConfig(&c);
    PyConfig_Clear(&c);
    if (PyStatus_Exception(st)) Py_ExitStatusException(st);
    return Py_RunMain();
fail:
    PyConfig_Clear(&c);
    Py_ExitStatusException(st);
}}
"""


def _compile(cmd: List[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"compile failed: {' '.join(cmd)}\n{proc.stderr}")


def wall(cmd: List[str], runs: int) -> float:
    """Median wall-clock seconds of ``runs`` runs (after one warm-up)."""
    env = _interpreters.clean_env()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def instructions(cmd: List[str]) -> Optional[int]:
    """callgrind's instruction total for one run, or None without valgrind."""
    return _callgrind.instructions(cmd, env=_interpreters.clean_env())


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable, type=_interpreters.resolve,
                   help="the interpreter to start: a path, or a minor such as 3.14")
    p.add_argument("--runs", type=int, default=30, help="wall-clock runs per variant")
    p.add_argument("--no-callgrind", action="store_true", help="skip instruction counts")
    args = p.parse_args(argv)

    built = _build.build(args.python, stderr=io.StringIO())
    target = _build.probe(args.python)
    if target.libpython is None:
        raise SystemExit(f"{args.python} has no shared libpython")
    lib = Path(target.libpython)
    probe = subprocess.run([args.python, "-I", "-S", "-c",
                            "import sys; print('\\n'.join(p for p in sys.path if p))"],
                           capture_output=True, text=True, check=True, env=_interpreters.clean_env())
    stdlib_paths = probe.stdout.split()
    with tempfile.TemporaryDirectory(prefix="embedcfg-bench-") as tmp:
        d = Path(tmp)
        inc = [f"-I{i}" for i in target.includes]
        (d / "ext.c").write_text(EXT, encoding="utf-8")
        _compile(["cc", "-O2", "-fPIC", "-shared", *inc, str(d / "ext.c"),
                  "-o", str(d / "libbench.so")])
        options = typical_options(stdlib_paths, d)
        assert len(options) == 30 and len(options["module_search_paths"]) == 20
        cfg = EmbedConfig(options=options, inittab=[
            InittabEntry(name=m, library="$CONFIG_DIR/libbench.so") for m in MODULES])
        doc = d / "app.json"
        doc.write_bytes(codec.canonical(cfg))
        (d / "host.c").write_text(host_source(options, d / "libbench.so"), encoding="utf-8")
        _compile(["cc", "-O2", *inc, str(d / "host.c"), "-o", str(d / "host"),
                  f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}",
                  "-l" + lib.name.split(".so")[0][3:], "-ldl"])
        (d / "host_dl.c").write_text(host_source(options, d / "libbench.so", lib),
                                     encoding="utf-8")
        _compile(["cc", "-O2", *inc, str(d / "host_dl.c"), "-o", str(d / "host-dlopen"),
                  "-ldl"])
        # The launcher beside the hosts: CPython's prefix search walks up from
        # the executable's directory, so a deeper directory costs more.
        for f in (built.launcher, built.shim):
            shutil.copy2(f, d / f.name)
        variants = {
            "launcher": [str(d / built.launcher.name), str(doc)],
            "host": [str(d / "host")],
            "host-dlopen": [str(d / "host-dlopen")],
            "python": [args.python, "-I", "-S", "-c", "pass"],
        }
        version = ".".join(map(str, built.version))
        print(f"CPython {version}: {args.runs} runs each, 30 options, 20 search paths,"
              " 5 inittab entries")
        medians = {name: wall(cmd, args.runs) for name, cmd in variants.items()}
        counts = {name: (None if args.no_callgrind else instructions(cmd))
                  for name, cmd in variants.items()}
        for name in variants:
            ins = f"{counts[name]:>14,}" if counts[name] is not None else "             -"
            print(f"  {name:11} wall median {medians[name] * 1000:8.2f} ms   instructions {ins}")
        print(f"  wall: launcher/host {medians['launcher'] / medians['host']:.3f},"
              f" launcher/python {medians['launcher'] / medians['python']:.3f}")
        if counts["launcher"] is not None and counts["host"] and counts["python"]:
            over = counts["launcher"] / counts["host"]
            dl = counts["launcher"] / counts["host-dlopen"]
            print(f"  instructions: launcher/host {over:.4f} ({(over - 1) * 100:+.2f} %),"
                  f" launcher/host-dlopen {dl:.4f} ({(dl - 1) * 100:+.2f} %),"
                  f" launcher/python {counts['launcher'] / counts['python']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
