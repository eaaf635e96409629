"""PYTHON* environment variables against the document.

The document is the configuration: an option it sets wins over the variable
that would set the same thing, and the isolated profile reads no variable at
all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

from embedcfg.model import EmbedConfig, Profile
from embedcfg.options import OPTIONS, Struct

from .conftest import DUMP, Shim, clean_env, dump_of

#: (option, value in the document, contradicting value of its variable, first
#: minor). The variable is the option's ``env`` in embedcfg/options.py, which
#: also generates the shim's list of variables to remove.
CONTRADICTIONS: List[Tuple[str, Any, str, Tuple[int, int]]] = [
    ("verbose", 0, "1", (3, 8)),
    ("optimization_level", 0, "2", (3, 8)),
    ("write_bytecode", True, "1", (3, 8)),
    ("user_site_directory", True, "1", (3, 8)),
    ("buffered_stdio", True, "1", (3, 8)),
    ("parser_debug", False, "1", (3, 8)),
    ("inspect", False, "1", (3, 8)),
    ("malloc_stats", False, "1", (3, 8)),
    ("dump_refs", False, "1", (3, 8)),
    ("hash_seed", 42, "7", (3, 8)),
    ("pycache_prefix", "/tmp/embedcfg-doc", "/tmp/embedcfg-env", (3, 8)),
    ("stdio_encoding", "utf-8", "latin-1", (3, 8)),
    ("utf8_mode", True, "0", (3, 8)),
    ("allocator", "malloc", "debug", (3, 8)),
    ("faulthandler", False, "1", (3, 8)),
    ("tracemalloc", 0, "5", (3, 8)),
    ("import_time", 0, "1", (3, 8)),
    ("dev_mode", False, "1", (3, 8)),
    ("platlibdir", "lib", "lib64", (3, 9)),
    ("warn_default_encoding", False, "1", (3, 10)),
    ("safe_path", False, "1", (3, 11)),
    ("code_debug_ranges", True, "1", (3, 11)),
    ("int_max_str_digits", 1000, "5000", (3, 12)),
    ("perf_profiling", 0, "1", (3, 12)),
    ("cpu_count", 3, "7", (3, 13)),
    # Measured on 3.14.7: these two variables beat the member unless removed
    ("thread_inherit_context", 0, "1", (3, 14)),
    ("context_aware_warnings", 0, "1", (3, 14)),
    ("remote_debug", True, "1", (3, 14)),  # the variable disables it
]

ALLOCATOR_MALLOC = 3


def _dumped(value: Any, name: str) -> Any:
    if name == "allocator":
        return ALLOCATOR_MALLOC
    return int(value) if isinstance(value, bool) else value


def _variable(name: str) -> str:
    variable = OPTIONS[name].env
    assert variable is not None, f"options.py gives {name} no environment variable"
    return variable


def _section(name: str) -> str:
    return "pre_config" if OPTIONS[name].struct is Struct.PRECONFIG else "config"


def test_document_wins_over_the_environment(shim: Shim, tmp_path: Path) -> None:
    """Each option set in the document and contradicted by its PYTHON* variable: the document wins."""
    cases = [c for c in CONTRADICTIONS if shim.minor >= c[3]]
    options: Dict[str, Any] = {name: value for name, value, _, _ in cases}
    env = clean_env(**{_variable(name): value for name, _, value, _ in cases})
    # The document's values point into /tmp, which the launcher's path
    # checks would refuse; this test is about precedence over PYTHON*.
    env["EMBEDCFG_ALLOW_INSECURE_PATHS"] = "1"
    env["PYTHONWARNINGS"] = "error"
    env["PYTHONPATH"] = "/tmp/embedcfg-env-path"
    base = dump_of(shim.launch(EmbedConfig(options={"run_command": DUMP}), directory=tmp_path))
    options["warnoptions"] = ["ignore::DeprecationWarning"]
    options["module_search_paths"] = base["config"]["module_search_paths"]
    cfg = EmbedConfig(profile=Profile.PYTHON, options={**options, "run_command": DUMP})
    got = dump_of(shim.launch(cfg, directory=tmp_path, env=env))
    assert got["config"]["use_environment"] == 1
    wrong = {name: (value, got[_section(name)][name]) for name, value, _, _ in cases
             if got[_section(name)][name] != _dumped(value, name)
             and name != "warn_default_encoding"}
    assert wrong == {}
    assert got["config"]["warnoptions"] == ["ignore::DeprecationWarning"]
    assert got["config"]["module_search_paths"] == base["config"]["module_search_paths"]
    if shim.minor >= (3, 10):
        assert got["config"]["warn_default_encoding"] == 0


#: Variables whose effect the next test cannot observe in a dump: -i would
#: wait at the prompt, and lib64 is no standard library directory here.
UNOBSERVABLE = {"inspect", "platlibdir"}


def test_python_profile_reads_every_variable(shim: Shim, tmp_path: Path) -> None:
    """profile = "python" without those options: each PYTHON* variable takes
    effect, as for the python command (PyInitConfig starts from the isolated
    preset, whose fixed values would otherwise hide five of them on 3.14)."""
    skip = set(UNOBSERVABLE)
    if shim.minor == (3, 12):
        # Measured: "PYTHONMALLOCSTATS=1 python3.12 -c pass" (3.12.1) itself
        # dies of SIGSEGV at exit, so the launcher does too.
        skip.add("malloc_stats")
    cases = [c for c in CONTRADICTIONS if shim.minor >= c[3] and c[0] not in skip]
    cfg = EmbedConfig(profile=Profile.PYTHON, options={"run_command": DUMP})
    base = dump_of(shim.launch(cfg, directory=tmp_path))
    env = clean_env(**{_variable(name): value for name, _, value, _ in cases})
    got = dump_of(shim.launch(cfg, directory=tmp_path, env=env))
    unread = sorted(name for name, _, _, _ in cases
                    if got[_section(name)][name] == base[_section(name)][name])
    # PYTHONUTF8=0 is already the value under the C.UTF-8 locale
    assert unread == ["utf8_mode"]


def test_isolated_profile_reads_no_variable(shim: Shim, tmp_path: Path) -> None:
    """With every PYTHON* variable exported, the isolated profile's config is unchanged."""
    base = dump_of(shim.launch(EmbedConfig(options={"run_command": DUMP}), directory=tmp_path))
    env = clean_env(**{_variable(name): value for name, _, value, _ in CONTRADICTIONS})
    env.update(PYTHONWARNINGS="error", PYTHONPATH="/tmp/embedcfg-env-path",
               PYTHONHOME="/tmp/embedcfg-env-home", PYTHONSTARTUP="/tmp/embedcfg-startup",
               PYTHONCASEOK="1", PYTHONEXECUTABLE="/tmp/embedcfg-exe",
               PYTHONUSERBASE="/tmp/embedcfg-userbase", PYTHONCOERCECLOCALE="1",
               PYTHONLEGACYWINDOWSSTDIO="1", PYTHONBREAKPOINT="0",
               PYTHON_FROZEN_MODULES="off", PYTHON_GIL="0", PYTHON_COLORS="1",
               PYTHON_BASIC_REPL="1", PYTHON_HISTORY="/tmp/embedcfg-history",
               PYTHON_PERF_JIT_SUPPORT="1", PYTHONNODEBUGRANGES="1")
    got = dump_of(shim.launch(EmbedConfig(options={"run_command": DUMP}), directory=tmp_path,
                              env=env))
    assert got["pre_config"] == base["pre_config"]
    assert got["config"] == base["config"]
