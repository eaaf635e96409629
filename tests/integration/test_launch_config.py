"""The launcher applies a document exactly: the whole configuration is compared.

As CPython's Lib/test/test_embed.py does, each scenario runs in a fresh
process that dumps ``_testinternalcapi.get_configs()``; the dump is compared
field by field with the preset plus the document's overrides (and the
side effects CPython derives from them, each listed with its reason), so a
change to an unrelated field cannot hide.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from embedcfg.model import EmbedConfig, Profile
from embedcfg.options import OPTIONS, Struct

from ..pythons import MINORS
from .conftest import DUMP, Shim, clean_env, dump_of

#: Options the full-document test does not set, and why.
NOT_SET = {
    "run_command": "used by the test itself to dump the configuration",
    "run_module": "exclusive with run_command", "run_filename": "exclusive with run_command",
    "isolated": "the profile tests cover it; forces safe_path/use_environment/user site",
    "use_environment": "forced off by the isolated profile (EC303); covered by the env tests",
    "user_site_directory": "forced off by the isolated profile (EC303)",
    "safe_path": "forced on by the isolated profile (EC303)",
    "dev_mode": "changes the allocator and faulthandler as side effects; tested alone",
    "parse_argv": "turns argv into a python command line; tested with --help",
    "inspect": "enters the interactive loop after the command",
    "interactive": "enters the interactive loop",
    "coerce_c_locale": "CPython resolves it against the current locale (0 under C.UTF-8)",
    "coerce_c_locale_warn": "CPython clears it when the locale is not coerced",
    "utf8_mode": "the isolated profile sets it; tested on its own",
    "program_name": "set to the preset's value: it feeds the path computation",
    "orig_argv": "orig_argv[0] becomes program_name, which feeds the path computation",
    "platlibdir": "feeds the path computation (stdlib directory)",
    "home": "path configuration input: a wrong home breaks init",
    "prefix": "path configuration output, computed by getpath",
    "exec_prefix": "path configuration output, computed by getpath",
    "base_prefix": "path configuration output, computed by getpath",
    "base_exec_prefix": "path configuration output, computed by getpath",
    "executable": "path configuration output, computed by getpath",
    "base_executable": "path configuration output, computed by getpath",
    "stdlib_dir": "path configuration output, computed by getpath",
    "pythonpath_env": "ignored once module_search_paths is given",
    "module_search_paths_set": "implied by module_search_paths",
    "use_hash_seed": "implied by hash_seed",
    "sys_path_0": "computed by Py_RunMain from the command",
    "_install_importlib": "private: false leaves no import system",
    "_init_main": "private: false stops init halfway",
    "_is_python_build": "private: true looks for a source tree",
    "cpu_count": "set below for 3.13+",
    "filesystem_encoding": "must stay utf-8 for the paths of this machine",
}

#: Non-default values for the options a version has.
VALUES: Dict[str, Any] = {
    "allocator": "malloc",
    "argv": ["prog", "a", "é"],
    "buffered_stdio": False,
    "bytes_warning": 1,
    "check_hash_pycs_mode": "always",
    "code_debug_ranges": False,
    "configure_c_stdio": True,
    "configure_locale": True,
    "dump_refs": True,
    "dump_refs_file": "/tmp/embedcfg-refs",
    "faulthandler": True,
    "filesystem_errors": "surrogatepass",
    "hash_seed": 42,
    "import_time": 1,
    "install_signal_handlers": True,
    "int_max_str_digits": 1000,
    "malloc_stats": True,
    "optimization_level": 2,
    "parser_debug": True,
    "pathconfig_warnings": True,
    "pycache_prefix": "/tmp/embedcfg-pycache",
    "quiet": True,
    "show_alloc_count": True,
    "show_ref_count": True,
    "site_import": False,
    "skip_source_first_line": True,
    "stdio_encoding": "iso8859-1",
    "stdio_errors": "backslashreplace",
    "tracemalloc": 3,
    "use_frozen_modules": False,
    "verbose": 1,
    "warn_default_encoding": True,
    "warnoptions": ["ignore::DeprecationWarning"],
    "write_bytecode": False,
    "xoptions": ["embedcfg_test=1"],
    "cpu_count": 3,
    "perf_profiling": 1,
    "context_aware_warnings": 1,
    "thread_inherit_context": 1,
    "remote_debug": False,
}

ALLOCATOR_MALLOC = 3  # PYMEM_ALLOCATOR_MALLOC
#: CPython has perf trampolines on Linux x86-64 and aarch64 only.
PERF_TRAMPOLINE = sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64")


def _in_dump(value: Any, name: str) -> Any:
    if name == "allocator":
        return ALLOCATOR_MALLOC
    if isinstance(value, bool):
        return int(value)
    return value


def _options_for(minor: Tuple[int, int], base: Dict[str, Any]) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    for name, opt in OPTIONS.items():
        if not opt.exists_in(minor) or opt.build is not None:
            continue
        if name == "perf_profiling" and not PERF_TRAMPOLINE:
            continue  # CPython refuses to start without trampoline support
        if name in VALUES and (name not in NOT_SET or name == "cpu_count"):
            options[name] = VALUES[name]
        elif name == "program_name":
            # argv[0] would otherwise become program_name and move executable
            options[name] = base["config"]["program_name"]
        elif name == "module_search_paths":
            options[name] = base["config"]["module_search_paths"] + ["/tmp/embedcfg-extra"]
        else:
            assert name in NOT_SET, f"option {name} is neither set nor listed in NOT_SET"
    return options


def coverage(minor: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """(options, set and compared, other, build-guarded) for ``minor``."""
    present = [o for o in OPTIONS.values() if o.exists_in(minor)]
    dummy = {"config": {"program_name": "p", "module_search_paths": []}}
    compared = _options_for(minor, dummy)
    other = [o.name for o in present if o.build is None and o.name not in compared]
    assert all(name in NOT_SET for name in other), other
    return (len(present), len(compared), len(other),
            sum(1 for o in present if o.build is not None))


def test_coverage_table_in_the_docs_is_current() -> None:
    """docs/explanation/shim.rst's per-minor coverage table is what OPTIONS and
    NOT_SET give (Linux x86-64: perf_profiling is compared)."""
    if not PERF_TRAMPOLINE:
        pytest.skip("the table is for a platform with perf trampolines")
    text = (Path(__file__).resolve().parents[2] / "docs" / "explanation"
            / "shim.rst").read_text(encoding="utf-8")
    table = text.split("What the whole-config test covers", 1)[1].split("\n\n\"", 1)[0]
    cells = [line.strip() for line in table.splitlines()
             if line.strip().startswith(("* - ", "- "))]
    starts = [i for i, cell in enumerate(cells) if cell.startswith("* - ")]
    rows = {}
    for i in starts[1:]:  # the first row is the header
        minor, *numbers = [cell.split("- ", 1)[1] for cell in cells[i:i + 5]]
        rows[tuple(int(x) for x in minor.split("."))] = tuple(map(int, numbers))
    assert rows == {minor: coverage(minor) for minor in MINORS}


def _expected(minor: Tuple[int, int], base: Dict[str, Any],
              options: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    expected = {"pre_config": dict(base["pre_config"]), "config": dict(base["config"])}
    for name, value in options.items():
        opt = OPTIONS[name]
        if opt.struct in (Struct.PRECONFIG, Struct.BOTH):
            expected["pre_config"][name] = _in_dump(value, name)
        if opt.struct in (Struct.CONFIG, Struct.BOTH):
            expected["config"][name] = _in_dump(value, name)
    cfg = expected["config"]
    # Side effects CPython derives from the options, each with its reason:
    if "module_search_paths_set" in cfg:  # not in the 3.8/3.9 dump
        cfg["module_search_paths_set"] = 1  # giving the path sets it (PEP 741 too)
    cfg["use_hash_seed"] = 1  # giving a seed uses it (PEP 741 too)
    # -b adds a BytesWarning filter in front of the document's filters
    cfg["warnoptions"] = ["default::BytesWarning"] + list(options["warnoptions"])
    if minor == (3, 9):
        # 3.9's private _orig_argv is copied from argv likewise
        cfg["_orig_argv"] = list(options["argv"])
    if minor >= (3, 10):
        # CPython copies argv into orig_argv when orig_argv is not given
        cfg["orig_argv"] = list(options["argv"])
        # Measured: CPython 3.10-3.13 reset an explicit warn_default_encoding
        # member to 0 (only -X warn_default_encoding / the environment set it)
        cfg["warn_default_encoding"] = 0
    if minor in ((3, 11), (3, 12)):
        # Measured: 3.11 and 3.12 drop dump_refs_file on non-debug builds
        cfg["dump_refs_file"] = None
    if minor >= (3, 11):
        # getpath does not compute stdlib_dir when the search path is given
        cfg["stdlib_dir"] = ""
    if minor >= (3, 14):
        # 3.14 dumps the config through PYCONFIG_SPEC (PEP 741, gh-107954):
        # xoptions come out as PyConfig_Get gives them, a dict (True for a
        # bare "-X name")
        cfg["xoptions"] = dict((x.split("=", 1) + [True])[:2] for x in options["xoptions"])
    return expected


def test_isolated_profile_matches_a_hand_written_host(shim: Shim, tmp_path: Path,
                                                      refhost: Any) -> None:
    """An empty document gives exactly the config of a hand-written isolated
    host, but for one deliberate difference: the program is the launcher
    itself, where the host lets CPython search PATH for python3 (see
    test_security.test_path_cannot_choose_the_interpreter)."""
    ours = dump_of(shim.launch(EmbedConfig(options={"run_command": DUMP}), directory=tmp_path))
    host = refhost(shim)
    theirs = dump_of(subprocess.run([str(host), DUMP], capture_output=True, text=True,
                                    env=clean_env(), stdin=subprocess.DEVNULL, timeout=60,
                                    check=False))
    launcher = os.path.realpath(shim.built.launcher)
    assert theirs["config"]["program_name"] == "python3"
    for name in ("program_name", "executable", "base_executable"):
        assert ours["config"][name] == launcher, name
        theirs["config"][name] = launcher
    for section in ("pre_config", "config", "global_config"):
        if section in theirs:
            assert theirs[section] == ours[section], section
    assert ours["config"]["isolated"] == 1
    assert ours["config"]["use_environment"] == 0
    assert ours["pre_config"]["utf8_mode"] == 1


def test_whole_config_is_preset_plus_overrides(shim: Shim, tmp_path: Path) -> None:
    """Every option the version has, set to a non-default value, and nothing else changes."""
    base = dump_of(shim.launch(EmbedConfig(options={"run_command": DUMP}), directory=tmp_path))
    if base["source"] != "_testinternalcapi":
        _compare_sys_only(shim, tmp_path)
        return
    options = _options_for(shim.minor, base)
    assert len(options) >= 25
    # The values are about configuration plumbing, not path security: some
    # point into /tmp, which the launcher's path checks (tested on their own
    # in test_security.py) would rightly refuse.
    proc = shim.launch(EmbedConfig(options={**options, "run_command": DUMP}),
                       directory=tmp_path, env=clean_env(EMBEDCFG_ALLOW_INSECURE_PATHS="1"))
    got = dump_of(proc)
    expected = _expected(shim.minor, base, options)
    for section in ("pre_config", "config"):
        diff = {k: (expected[section].get(k), got[section].get(k))
                for k in set(expected[section]) | set(got[section])
                if expected[section].get(k) != got[section].get(k)}
        assert diff == {}, section


def _compare_sys_only(shim: Shim, tmp_path: Path) -> None:
    """Fallback for builds without _testinternalcapi: what sys shows of the options."""
    print(f"CPython {shim.version}: no _testinternalcapi, comparing sys.flags and sys.* only")
    options = {"optimization_level": 2, "verbose": 0, "quiet": True, "bytes_warning": 1,
               "write_bytecode": False, "site_import": False, "pycache_prefix": "/tmp/x",
               "warnoptions": ["ignore::DeprecationWarning"], "argv": ["prog", "a"],
               "xoptions": ["k=v"]}
    got = dump_of(shim.launch(EmbedConfig(options={**options, "run_command": DUMP}),
                              env=clean_env(EMBEDCFG_ALLOW_INSECURE_PATHS="1"),
                              directory=tmp_path))
    assert got["flags"]["optimize"] == 2
    assert got["flags"]["quiet"] == 1
    assert got["flags"]["bytes_warning"] == 1
    assert got["flags"]["no_site"] == 1
    assert got["dont_write_bytecode"] is True
    assert got["pycache_prefix"] == "/tmp/x"
    assert got["warnoptions"] == ["default::BytesWarning", "ignore::DeprecationWarning"]
    assert got["argv"] == ["prog", "a"]
    assert got["_xoptions"] == {"k": "v"}


def test_utf8_mode_false_keeps_the_locale_encoding(shim: Shim, tmp_path: Path) -> None:
    """utf8_mode = false in the document overrides the isolated profile's UTF-8 default."""
    got = dump_of(shim.launch(EmbedConfig(options={"run_command": DUMP, "utf8_mode": False}),
                              directory=tmp_path))
    assert got["pre_config"]["utf8_mode"] == 0
    assert got["runtime"]["utf8_mode"] == 0


def test_python_profile_is_the_python_preset(shim: Shim, tmp_path: Path) -> None:
    """profile = "python" reads the environment and keeps the user site, like python."""
    got = dump_of(shim.launch(EmbedConfig(profile=Profile.PYTHON,
                                          options={"run_command": DUMP}), directory=tmp_path))
    assert got["config"]["isolated"] == 0
    assert got["config"]["use_environment"] == 1
    assert got["pre_config"]["_config_init"] == 2  # _PyConfig_INIT_PYTHON


def test_python_profile_coerces_the_c_locale_as_python_does(shim: Shim, tmp_path: Path) -> None:
    """profile = "python" under LANG=C: UTF-8 mode and the locale coercion of
    PEP 538/540 (the preset's "decide from the locale"), as python itself does."""
    env = clean_env(LANG="C")
    got = dump_of(shim.launch(EmbedConfig(profile=Profile.PYTHON,
                                          options={"run_command": DUMP}),
                              directory=tmp_path, env=env))
    python = subprocess.run([shim.python, "-c", "import sys; print(sys.flags.utf8_mode,"
                             " sys.getfilesystemencoding(), sys.stdout.encoding)"],
                            capture_output=True, text=True, env=env, check=True).stdout.split()
    assert python == ["1", "utf-8", "utf-8"]
    assert [str(got["pre_config"]["utf8_mode"]), got["runtime"]["filesystem_encoding"],
            got["runtime"]["stdout_encoding"]] == python
    assert got["pre_config"]["coerce_c_locale"] == 2  # coerced, without a warning
    assert got["pre_config"]["_config_init"] == got["config"]["_config_init"] == 2


def test_dev_mode_and_its_side_effects(shim: Shim, tmp_path: Path) -> None:
    """dev_mode reaches both PyPreConfig and PyConfig (it is in both structs)."""
    got = dump_of(shim.launch(EmbedConfig(options={"run_command": DUMP, "dev_mode": True}),
                              directory=tmp_path))
    assert got["pre_config"]["dev_mode"] == 1
    assert got["config"]["dev_mode"] == 1


def test_parse_argv_help_is_an_exit_status(shim: Shim, tmp_path: Path) -> None:
    """parse_argv with --help: CPython's usage text and exit status 0, not an error."""
    proc = shim.launch(EmbedConfig(profile=Profile.PYTHON, options={"parse_argv": True}),
                       ["--help"], directory=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout
    bad = shim.launch(EmbedConfig(profile=Profile.PYTHON, options={"parse_argv": True}),
                      ["--no-such-flag"], directory=tmp_path)
    assert bad.returncode == 2
    assert "embedcfg: error" not in bad.stderr


def test_pycache_policy_maps_to_options(shim: Shim, tmp_path: Path) -> None:
    """[pycache] mode = prefix sets pycache_prefix (anchored) and write_bytecode."""
    from embedcfg.model import HashCheck, Pycache, PycacheMode

    cfg = EmbedConfig(options={"run_command": DUMP},
                      pycache=Pycache(mode=PycacheMode.PREFIX, prefix="$CONFIG_DIR/pyc",
                                      check=HashCheck.NEVER))
    got = dump_of(shim.launch(cfg, directory=tmp_path))
    assert got["config"]["pycache_prefix"] == str(tmp_path.resolve() / "pyc")
    assert got["config"]["write_bytecode"] == 1
    assert got["config"]["check_hash_pycs_mode"] == "never"
    off = dump_of(shim.launch(EmbedConfig(options={"run_command": DUMP},
                                          pycache=Pycache(mode=PycacheMode.READONLY)),
                              directory=tmp_path))
    assert off["config"]["write_bytecode"] == 0


def test_exit_code_of_the_application(shim: Shim, tmp_path: Path) -> None:
    """The launcher returns the exit code of Py_RunMain."""
    proc = shim.launch(EmbedConfig(options={"run_command": "raise SystemExit(7)"}),
                       directory=tmp_path)
    assert proc.returncode == 7
