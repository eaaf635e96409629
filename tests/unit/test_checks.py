"""Semantic rules."""

from __future__ import annotations

import sys
from typing import Any, List, Optional, Tuple

import pytest

import embedcfg
from embedcfg import checks
from embedcfg.document import pycache_options
from embedcfg.model import EmbedConfig, InittabEntry, Profile, Pycache, PycacheMode, StaticModules
from embedcfg.options import Build


def _codes(cfg: EmbedConfig, target: Optional[checks.Target] = None) -> List[Tuple[str, str]]:
    return [(p.code, p.pointer) for p in checks.check(cfg, target)]


@pytest.mark.parametrize(("spec", "versions"), [
    (">=3.8", [(3, m) for m in range(8, 15)]),
    (">=3.10,<3.13", [(3, 10), (3, 11), (3, 12)]),
    ("==3.11.*", [(3, 11)]),
    ("~=3.12", [(3, 12), (3, 13), (3, 14)]),
    ("~=3.12.1", [(3, 12)]),
    ("!=3.9.*,>=3.8,<3.11", [(3, 8), (3, 10)]),
    (">3.10", [(3, m) for m in range(10, 15)]),
    ("<=3.9", [(3, 8), (3, 9)]),
    ("==3.10", [(3, 10)]),
    ("<3.8", []),
])
def test_requires_python(spec: str, versions: List[Tuple[int, int]]) -> None:
    """A specifier admits the minors some release of which satisfies it."""
    assert list(checks.target_from_requires(spec).versions) == versions


@pytest.mark.parametrize("spec", ["3.10", ">=three", ">=3.*", "~=3", "==3.*.1", ""])
def test_bad_requires_python(spec: str) -> None:
    """Malformed specifiers are refused with a message."""
    with pytest.raises(ValueError):
        checks.parse_requires_python(spec)


def test_option_too_new() -> None:
    """An option newer than the oldest targeted version names the version needed."""
    cfg = EmbedConfig(requires_python=">=3.9", options={"safe_path": True, "verbose": 1})
    problems = checks.check(cfg)
    assert [(p.code, p.pointer) for p in problems] == [("EC200", "/options/safe_path")]
    assert "needs CPython 3.11 or newer" in problems[0].message
    assert "'>=3.11'" in problems[0].message


def test_option_removed() -> None:
    """show_alloc_count is gone after 3.8."""
    cfg = EmbedConfig(requires_python=">=3.8", options={"show_alloc_count": True})
    assert _codes(cfg) == [("EC201", "/options/show_alloc_count")]


def test_value_too_new() -> None:
    """import_time = 2 is a 3.14 value."""
    cfg = EmbedConfig(requires_python=">=3.13", options={"import_time": 2})
    assert _codes(cfg) == [("EC202", "/options/import_time")]
    assert _codes(EmbedConfig(requires_python=">=3.14", options={"import_time": 2})) == []


def test_no_target_no_version_rules() -> None:
    """Without requires_python or --target, version rules stay silent."""
    assert _codes(EmbedConfig(options={"cpu_count": 2})) == []


def test_requires_python_admitting_nothing() -> None:
    """A range with no CPython 3.8-3.14 in it is an error of its own."""
    assert _codes(EmbedConfig(requires_python="<3.8")) == [("EC205", "/requires_python")]
    assert _codes(EmbedConfig(requires_python="3.10")) == [("EC203", "/requires_python")]


def test_build_guarded_option_warns_without_target() -> None:
    """A free-threaded-only option is a warning when the build is unknown."""
    problems = checks.check(EmbedConfig(requires_python=">=3.13", options={"enable_gil": 1}))
    assert [(p.code, p.is_error) for p in problems] == [("EC206", False)]


def test_build_guarded_option_errors_on_known_build() -> None:
    """... and an error when the target is known not to be such a build."""
    target = checks.Target(versions=((3, 13),), source="--target x", builds=frozenset())
    problems = checks.check(EmbedConfig(options={"enable_gil": 1}), target)
    assert [(p.code, p.is_error) for p in problems] == [("EC206", True)]
    ft = checks.Target(versions=((3, 13),), source="--target x",
                       builds=frozenset({Build.FREE_THREADED}))
    assert checks.check(EmbedConfig(options={"enable_gil": 1}), ft) == []


def test_run_options_conflict() -> None:
    """run_command and run_module together are refused."""
    cfg = EmbedConfig(options={"run_command": "pass", "run_module": "m"})
    assert _codes(cfg) == [("EC300", "/options/run_module")]


@pytest.mark.parametrize(("pycache", "options", "expected"), [
    (Pycache(mode=PycacheMode.PREFIX), {}, [("EC305", "/pycache/mode")]),
    (Pycache(prefix="/c"), {}, [("EC305", "/pycache/prefix")]),
    (Pycache(mode=PycacheMode.READONLY), {"write_bytecode": True},
     [("EC301", "/options/write_bytecode")]),
    (Pycache(mode=PycacheMode.OFF), {"write_bytecode": False}, []),
    (Pycache(mode=PycacheMode.PREFIX, prefix="/c"), {"pycache_prefix": "/d"},
     [("EC301", "/options/pycache_prefix")]),
    (Pycache(mode=PycacheMode.DEFAULT), {"pycache_prefix": "/d"},
     [("EC301", "/options/pycache_prefix")]),
    (Pycache(check=embedcfg.HashCheck.NEVER), {"check_hash_pycs_mode": "always"},
     [("EC301", "/options/check_hash_pycs_mode")]),
    # readonly takes a prefix (read the tree there, never write) but needs none
    (Pycache(mode=PycacheMode.READONLY, prefix="/c"), {}, []),
    (Pycache(mode=PycacheMode.READONLY, prefix="$CONFIG_DIR/c"), {}, []),
    (Pycache(mode=PycacheMode.READONLY), {}, []),
    (Pycache(mode=PycacheMode.READONLY, prefix="/c"), {"pycache_prefix": "/c",
                                                      "write_bytecode": False}, []),
    (Pycache(mode=PycacheMode.READONLY, prefix="/c"), {"pycache_prefix": "/d"},
     [("EC301", "/options/pycache_prefix")]),
    (Pycache(mode=PycacheMode.READONLY, prefix="/c"), {"write_bytecode": True},
     [("EC301", "/options/write_bytecode")]),
    # what EC305 still refuses: a prefix that would do nothing
    (Pycache(mode=PycacheMode.OFF, prefix="/c"), {}, [("EC305", "/pycache/prefix")]),
    (Pycache(mode=PycacheMode.DEFAULT, prefix="/c"), {}, [("EC305", "/pycache/prefix")]),
])
def test_pycache_policy(pycache: Pycache, options: Any, expected: Any) -> None:
    """The policy and raw options must agree; a policy must be complete."""
    assert _codes(EmbedConfig(pycache=pycache, options=options)) == expected


def test_readonly_prefix_maps_to_prefix_without_writing() -> None:
    """readonly with a prefix sets pycache_prefix and write_bytecode = false."""
    pc = Pycache(mode=PycacheMode.READONLY, prefix="$ORIGIN/pyc")
    assert {"pycache_prefix": "$ORIGIN/pyc", "write_bytecode": False} == pycache_options(pc)
    assert {"write_bytecode": False} == pycache_options(Pycache(mode=PycacheMode.READONLY))
    assert {"write_bytecode": False} == pycache_options(Pycache(mode=PycacheMode.OFF,
                                                                prefix="/c"))


def test_useless_prefix_message_names_both_modes() -> None:
    """The EC305 message for a prefix that does nothing offers both modes that take one."""
    (problem,) = checks.check(EmbedConfig(pycache=Pycache(mode=PycacheMode.OFF, prefix="/c")))
    assert "mode = \"prefix\"" in problem.message and "mode = \"readonly\"" in problem.message
    assert "mode is off" in problem.message


def test_embedded_with_inittab_mechanism() -> None:
    """CPython's inittab cannot be extended after init: an explicit choice of it is refused."""
    cfg = EmbedConfig(embedded=True, inittab=[InittabEntry("app._x")],
                      static_modules=StaticModules.INITTAB)
    assert _codes(cfg) == [("EC302", "/static_modules")]


@pytest.mark.parametrize("mechanism", [None, StaticModules.INDEXED])
def test_embedded_with_indexed_static_modules(mechanism: Optional[StaticModules]) -> None:
    """The indexed importer (explicit, or the automatic choice) is installed into the
    running interpreter: embedded + inittab is fine."""
    cfg = EmbedConfig(embedded=True, inittab=[InittabEntry("app._x")], static_modules=mechanism)
    assert _codes(cfg) == []


def test_inittab_mechanism_without_embedding_is_fine() -> None:
    """static_modules = "inittab" is only a problem when attaching."""
    cfg = EmbedConfig(inittab=[InittabEntry("app._x")], static_modules=StaticModules.INITTAB)
    assert _codes(cfg) == []


def test_non_ascii_module_name_is_refused() -> None:
    """PEP 489's PyInitU_<punycode> symbols are not derived: a non-ASCII name is EC504,
    with or without an explicit init; invalid non-ASCII text stays EC500."""
    cfg = EmbedConfig(inittab=[InittabEntry("app.caf\u00e9"),
                               InittabEntry("\u00e9t\u00e9", init="init_ete"),
                               InittabEntry("caf\u00e9-bar")])
    assert _codes(cfg) == [("EC504", "/inittab/0/name"), ("EC504", "/inittab/1/name"),
                           ("EC500", "/inittab/2/name")]
    message = checks.check(cfg)[0].message
    assert "PyInitU_" in message and "ASCII name" in message


def test_embedded_init_only_options_warn() -> None:
    """Options fixed at init are reported as not applicable when attaching."""
    problems = checks.check(EmbedConfig(embedded=True, options={"site_import": False,
                                                                "pycache_prefix": "/c"}))
    assert [(p.code, p.pointer, p.is_error) for p in problems] == [
        ("EC306", "/options/site_import", False)]


def test_isolated_overrides() -> None:
    """Options that isolated mode overrides warn; with isolated off they are fine."""
    cfg = EmbedConfig(options={"use_environment": True, "safe_path": False,
                               "user_site_directory": False})
    assert [(p.code, p.pointer) for p in checks.check(cfg)] == [
        ("EC303", "/options/safe_path"), ("EC303", "/options/use_environment")]
    assert _codes(EmbedConfig(profile=Profile.PYTHON, options={"use_environment": True})) == []
    assert _codes(EmbedConfig(options={"isolated": False, "use_environment": True})) == []


def test_module_search_paths_set_alone() -> None:
    """module_search_paths_set without paths gives an empty sys.path."""
    cfg = EmbedConfig(options={"module_search_paths_set": True})
    assert _codes(cfg) == [("EC304", "/options/module_search_paths_set")]


@pytest.mark.parametrize(("path", "code"), [
    ("/usr/lib/libpython3.11.so", None),
    ("$ORIGIN/../lib/libpython3.11.so", None),
    ("$CONFIG_DIR/lib/libpython3.11.so", None),
    ("${ORIGIN}/lib.so", "EC401"),
    ("libpython3.11.so.1.0", None),
    ("lib/libpython3.11.so", "EC400"),
    ("../libpython3.11.so", "EC400"),
    ("./libpython3.11.so", "EC400"),
    ("$HOME/lib.so", "EC401"),
    ("$ORIGINAL/lib.so", "EC401"),
])
def test_lib_paths(path: str, code: Optional[str]) -> None:
    """lib is absolute, anchored, or a bare library name; never relative."""
    assert _codes(EmbedConfig(lib=path)) == ([(code, "/lib")] if code else [])


@pytest.mark.parametrize("prefix", ["cache", "./cache", "${ORIGIN}/c", "$HOME/c"])
def test_readonly_prefix_must_be_anchored(prefix: str) -> None:
    """The readonly prefix follows the rule of every path (EC400/EC401)."""
    cfg = EmbedConfig(pycache=Pycache(mode=PycacheMode.READONLY, prefix=prefix))
    assert [c for c, _ in _codes(cfg)] in (["EC400"], ["EC401"])
    assert [p for _, p in _codes(cfg)] == ["/pycache/prefix"]


def test_path_options_must_be_anchored() -> None:
    """Path-valued options and the pycache prefix follow the same rule; a bare name too.

    Reported in document order: the paths come from the document's description."""
    cfg = EmbedConfig(options={"module_search_paths": ["/ok", "app", ""], "home": "py"},
                      pycache=Pycache(mode=PycacheMode.PREFIX, prefix="cache"))
    assert _codes(cfg) == [("EC400", "/options/module_search_paths/1"),
                           ("EC400", "/options/module_search_paths/2"),
                           ("EC400", "/options/home"),
                           ("EC400", "/pycache/prefix")]


def test_inittab_rules() -> None:
    """Invalid, duplicate and shadowing names; invalid init symbols."""
    cfg = EmbedConfig(inittab=[
        InittabEntry("app._fast"), InittabEntry("bad-name.with dots"),
        InittabEntry("app._fast"), InittabEntry("json"), InittabEntry("sys"),
        InittabEntry("app.class"), InittabEntry("app.x", init="1x"),
    ])
    assert _codes(cfg) == [
        ("EC500", "/inittab/1/name"), ("EC501", "/inittab/2/name"), ("EC502", "/inittab/3/name"),
        ("EC502", "/inittab/4/name"), ("EC500", "/inittab/5/name"), ("EC503", "/inittab/6/init"),
    ]


def test_unknown_codec() -> None:
    """Encodings and error handlers must exist."""
    cfg = EmbedConfig(options={"stdio_encoding": "utf-9", "stdio_errors": "ignore",
                               "filesystem_errors": "sometimes"})
    assert _codes(cfg) == [("EC600", "/options/stdio_encoding"),
                           ("EC600", "/options/filesystem_errors")]


def test_inspect_target_of_running_python() -> None:
    """--target learns version, build and standard library from a real interpreter."""
    target = checks.inspect_target(sys.executable)
    assert target.versions == (sys.version_info[:2],)
    assert target.full_version == tuple(sys.version_info[:3])
    assert target.stdlib is not None and "json" in target.stdlib and "sys" in target.stdlib


def test_inspect_target_failure(tmp_path: Any) -> None:
    """A path that is not an interpreter is a clear ValueError."""
    with pytest.raises(ValueError, match="cannot run"):
        checks.inspect_target(str(tmp_path / "nope"))


def test_target_outside_requires_python() -> None:
    """The --target interpreter must be in requires_python."""
    target = checks.Target(versions=((3, 9),), source="--target py39",
                           full_version=(3, 9, 18), builds=frozenset())
    assert _codes(EmbedConfig(requires_python=">=3.10"), target) == [
        ("EC204", "/requires_python")]


def test_validate_in_code_documents() -> None:
    """validate() applies the schema to documents built in code, then the rules."""
    cfg = EmbedConfig(options={"utf8_mode": 5, "run_command": "x", "run_module": "y"})
    assert [(p.code, p.pointer) for p in embedcfg.validate(cfg)] == [
        ("EC100", "/options/utf8_mode"), ("EC300", "/options/run_module")]


def _stdlib(cfg: EmbedConfig, directory: str, target: Optional[checks.Target] = None,
            origin: Optional[str] = None) -> List[Tuple[str, str, str]]:
    return [(p.code, p.pointer, p.severity.value) for p in
            checks.stdlib_problems(cfg, config_dir=directory, origin=origin, target=target)]


def test_search_path_without_the_stdlib_warns(tmp_path: Any) -> None:
    """module_search_paths with no encodings package: a warning without a target."""
    (tmp_path / "app").mkdir()
    cfg = EmbedConfig(options={"module_search_paths": ["$CONFIG_DIR/app"]})
    assert _stdlib(cfg, str(tmp_path)) == [("EC420", "/options/module_search_paths", "warning")]


def test_search_path_without_the_stdlib_is_an_error_for_a_target(tmp_path: Any) -> None:
    """With a real target the problem is an error naming that target's stdlib."""
    target = checks.inspect_target(sys.executable)
    cfg = EmbedConfig(options={"module_search_paths": ["$CONFIG_DIR/app"]})
    [problem] = checks.stdlib_problems(cfg, config_dir=str(tmp_path), origin=None, target=target)
    assert (problem.code, problem.is_error) == ("EC420", True)
    assert repr(target.stdlib_dirs[0]) in problem.message


def test_search_path_with_the_stdlib_passes(tmp_path: Any) -> None:
    """A directory (or a zip) holding encodings/ is the standard library."""
    import zipfile

    (tmp_path / "lib" / "encodings").mkdir(parents=True)
    (tmp_path / "lib" / "encodings" / "__init__.py").write_text("", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "std.zip", "w") as z:
        z.writestr("encodings/__init__.pyc", b"")
    for entry in ("$CONFIG_DIR/lib", "$CONFIG_DIR/std.zip"):
        cfg = EmbedConfig(options={"module_search_paths": ["$CONFIG_DIR/app", entry]})
        assert _stdlib(cfg, str(tmp_path)) == []


def test_search_path_that_cannot_be_expanded_is_not_judged(tmp_path: Any) -> None:
    """An $ORIGIN entry without the launcher's directory may hold it: no finding."""
    cfg = EmbedConfig(options={"module_search_paths": ["$ORIGIN/lib/python3.11"]})
    assert _stdlib(cfg, str(tmp_path)) == []
    assert _stdlib(cfg, str(tmp_path), origin=str(tmp_path)) == [
        ("EC420", "/options/module_search_paths", "warning")]


def test_computed_search_path_is_not_judged(tmp_path: Any) -> None:
    """Without module_search_paths CPython computes sys.path, stdlib included;
    an embedded document's interpreter runs already."""
    assert _stdlib(EmbedConfig(options={"site_import": False}), str(tmp_path)) == []
    assert _stdlib(EmbedConfig(embedded=True, options={"module_search_paths": ["/x"]}),
                   str(tmp_path)) == []


def test_absolute_entries_are_judged_only_for_a_target(tmp_path: Any) -> None:
    """An absolute entry names the deployment machine: only a target (an
    interpreter of this machine) makes it judgeable here."""
    cfg = EmbedConfig(options={"module_search_paths": [str(tmp_path)]})
    assert _stdlib(cfg, str(tmp_path)) == []
    target = checks.inspect_target(sys.executable)
    assert [p.code for p in checks.stdlib_problems(cfg, config_dir=None, origin=None,
                                                   target=target)] == ["EC420"]
