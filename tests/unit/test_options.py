"""The option table, checked against itself and against real CPython headers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Optional, Set, Tuple

import pytest

from tests.pythons import installed_pythons
from embedcfg.options import (
    KNOWN_VERSIONS,
    OPTIONS,
    Build,
    CType,
    Kind,
    Struct,
    Visibility,
    format_version,
)


def test_names_are_unique_and_sorted():
    """Public names first, alphabetically, then private ones: the docs' order."""
    names = list(OPTIONS)
    public = [n for n in names if not n.startswith("_")]
    private = [n for n in names if n.startswith("_")]
    assert names == sorted(public) + sorted(private)


def test_every_option_has_a_one_line_doc():
    """Editors show the doc: it must be one non-empty line ending with a period."""
    for o in OPTIONS.values():
        assert o.doc and "\n" not in o.doc and o.doc.endswith("."), o.name


def test_ranges_are_consistent():
    """Integer options carry a range; ranges and extra values do not overlap."""
    for o in OPTIONS.values():
        if o.value_kind is Kind.INT:
            assert o.minimum is not None and o.maximum is not None, o.name
            assert o.minimum <= o.maximum
            assert all(not (o.minimum <= v <= o.maximum) for v in o.also), o.name
        else:
            assert o.minimum is None and o.maximum is None and not o.also, o.name


def test_values_since_names_valid_values():
    """A value that needs a newer CPython is itself a valid value, after the option exists."""
    for o in OPTIONS.values():
        for value, since in o.values_since.items():
            assert since > o.since, o.name
            if o.choices is not None:
                assert value in o.choices
            else:
                assert o.minimum is not None and o.maximum is not None
                assert o.minimum <= value <= o.maximum  # type: ignore[operator]


def test_issue_ranges():
    """The ranges the issue names exactly."""
    assert (OPTIONS["optimization_level"].minimum, OPTIONS["optimization_level"].maximum) == (0, 2)
    assert (OPTIONS["hash_seed"].minimum, OPTIONS["hash_seed"].maximum) == (0, 4294967295)
    assert OPTIONS["int_max_str_digits"].also == (0,)
    assert OPTIONS["int_max_str_digits"].minimum == 640
    assert OPTIONS["cpu_count"].also == (-1,) and OPTIONS["cpu_count"].minimum == 1
    assert OPTIONS["import_time"].values_since == {2: (3, 14)}
    assert OPTIONS["utf8_mode"].value_kind is Kind.BOOL
    assert list(OPTIONS["check_hash_pycs_mode"].choices or ()) == ["default", "always", "never"]


def test_build_guarded_members_are_marked():
    """Windows-only, free-threaded-only and debug-only members say so."""
    assert OPTIONS["legacy_windows_stdio"].build is Build.WINDOWS
    assert OPTIONS["legacy_windows_fs_encoding"].build is Build.WINDOWS
    assert OPTIONS["enable_gil"].build is Build.FREE_THREADED
    assert OPTIONS["tlbc_enabled"].build is Build.FREE_THREADED
    assert OPTIONS["run_presite"].build is Build.DEBUG
    assert OPTIONS["_pystats"].build is Build.STATS
    assert OPTIONS["use_system_logger"].build is Build.MACOS


def test_runtime_settable_matches_pep741_public_set():
    """The PEP 741 'Public' options of 3.14.7, and only them, are settable at run time."""
    public = {n for n, o in OPTIONS.items() if o.visibility is Visibility.PUBLIC}
    assert public == {
        "argv", "base_exec_prefix", "base_executable", "base_prefix", "bytes_warning",
        "cpu_count", "exec_prefix", "executable", "inspect", "int_max_str_digits",
        "interactive", "module_search_paths", "optimization_level", "parser_debug",
        "platlibdir", "prefix", "pycache_prefix", "quiet", "stdlib_dir", "use_environment",
        "verbose", "warnoptions", "write_bytecode", "xoptions",
    }


# The headers of every installed CPython are the final word on which struct
# members exist in which version.

def _headers() -> Dict[Tuple[int, int], Path]:
    found = {}
    for minor, exe in installed_pythons().items():
        header = (exe.parent.parent / "include" / f"python3.{minor[1]}" / "cpython"
                  / "initconfig.h")
        if minor in KNOWN_VERSIONS and header.exists():
            found[minor] = header
    return found


HEADERS = _headers()


def _members(header: Path, struct: str) -> Dict[str, Optional[str]]:
    """Member name -> guarding #ifdef macro (None when unconditional)."""
    text = header.read_text()
    end = text.index("} %s;" % struct)
    body = text[text.rindex("typedef struct", 0, end):end]
    members: Dict[str, Optional[str]] = {}
    guard: Optional[str] = None
    for line in body.splitlines()[1:]:
        line = re.sub(r"/\*.*?\*/|//.*", "", line).strip()
        m = re.match(r"#\s*if(?:def)?\s+(?:defined\()?(\w+)", line)
        if m:
            guard = m.group(1)
            continue
        if line.startswith("#endif"):
            guard = None
            continue
        m = re.match(r"(?:unsigned\s+)?(?:int|long|wchar_t|PyWideStringList)[\s*]+(?:long\s+)?(\w+);",
                     line)
        if m:
            members[m.group(1)] = guard
    return members


_GUARD = {"MS_WINDOWS": Build.WINDOWS, "Py_GIL_DISABLED": Build.FREE_THREADED,
          "Py_DEBUG": Build.DEBUG, "Py_STATS": Build.STATS, "__APPLE__": Build.MACOS}
# Private members embedcfg leaves out on purpose (see options.py).
_NOT_OPTIONS = {"_config_init", "_use_peg_parser", "_isolated_interpreter", "_orig_argv"}


@pytest.mark.parametrize("minor", sorted(HEADERS), ids=format_version)
def test_table_matches_installed_headers(minor):
    """Each option exists in exactly the versions whose PyConfig/PyPreConfig has the member."""
    config = _members(HEADERS[minor], "PyConfig")
    pre = _members(HEADERS[minor], "PyPreConfig")
    present = {**pre, **config}
    expected: Set[str] = {n for n, o in OPTIONS.items() if o.exists_in(minor)}
    assert {n for n in present if n not in _NOT_OPTIONS} == expected
    for name in expected:
        o = OPTIONS[name]
        assert _GUARD.get(present[name] or "") == o.build, name
        in_pre, in_config = name in pre, name in config
        want = {Struct.PRECONFIG: (True, False), Struct.CONFIG: (False, True),
                Struct.BOTH: (True, True)}[o.struct]
        assert (in_pre, in_config) == want, name


def test_installed_headers_were_found():
    """Say which CPython headers were compared (a skip, not a silent pass, when none)."""
    missing = [format_version(v) for v in KNOWN_VERSIONS if v not in HEADERS and v < (3, 14)]
    if not HEADERS:
        pytest.skip("no pyenv CPython headers on this machine")
    if missing:
        pytest.skip(f"CPython headers absent for {', '.join(missing)}")


def test_ctype_of_3_14_spec():
    """Spot checks of the 3.14 spec types the shim relies on."""
    assert OPTIONS["hash_seed"].ctype is CType.ULONG
    assert OPTIONS["module_search_paths"].ctype is CType.WSTR_LIST
    assert OPTIONS["pycache_prefix"].ctype is CType.WSTR_OPT
    assert OPTIONS["allocator"].ctype is CType.INT and OPTIONS["allocator"].value_kind is Kind.STR
