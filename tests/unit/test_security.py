"""Tests of embedcfg.security: path checks on real temporary directories."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import List

import pytest

from embedcfg import EmbedConfig, InittabEntry, Pycache, PycacheMode
from embedcfg.errors import Problem, Severity
from embedcfg.security import (
    CODE_CANNOT_CHECK,
    CODE_FOREIGN_OWNER,
    CODE_PYVENV,
    CODE_WRITABLE,
    check_paths,
    expand,
    paths_of,
)

OTHER_UID = 54321  # no such user: stands for "another user"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def codes(problems: List[Problem]) -> List[str]:
    return [p.code for p in problems]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A private directory (0700) under the test's temporary directory."""
    root = tmp_path / "app"
    root.mkdir(mode=0o700)
    os.chmod(root, 0o755)
    for d in ("src", "cache", "lib", "bin"):
        (root / d).mkdir()
        os.chmod(root / d, 0o755)
    return root


def doc(root: Path, **changes: object) -> EmbedConfig:
    base = EmbedConfig(options={"module_search_paths": [str(root / "src")]},
                       pycache=Pycache(mode=PycacheMode.PREFIX, prefix=str(root / "cache")))
    import attrs

    return attrs.evolve(base, **changes)


def test_secure_layout_has_no_problem(tree: Path) -> None:
    """Directories owned by the current user, mode 0755, are accepted."""
    assert [] == check_paths(doc(tree), config_dir=str(tree), origin=str(tree / "bin"))


def test_world_writable_search_path(tree: Path) -> None:
    """A module search path anyone can write is refused, naming mode, owner and fix."""
    os.chmod(tree / "src", 0o777)
    problems = check_paths(doc(tree), config_dir=None, origin=None)
    assert [CODE_WRITABLE] == codes(problems)
    message = problems[0].message
    assert str(tree / "src") in message
    assert "drwxrwxrwx (0777)" in message
    assert "uid 0" in message or f"uid {os.geteuid()}" in message
    assert f"chmod go-w {tree / 'src'}" in message
    assert "/options/module_search_paths/0" == problems[0].pointer


def test_group_writable_prefix(tree: Path) -> None:
    """A pycache prefix writable by its group is refused."""
    os.chmod(tree / "cache", 0o775)
    problems = check_paths(doc(tree), config_dir=None, origin=None)
    assert [CODE_WRITABLE] == codes(problems)
    assert "writable by its group" in problems[0].message
    assert "/pycache/prefix" == problems[0].pointer


@pytest.mark.parametrize("mode", [0o775, 0o757, 0o1777])
def test_readonly_prefix_is_checked_like_a_writable_one(tree: Path, mode: int) -> None:
    """mode readonly reads its prefix: a prefix others can add a .pyc to is
    refused exactly as for mode prefix (sticky or not)."""
    os.chmod(tree / "cache", mode)
    readonly = doc(tree, pycache=Pycache(mode=PycacheMode.READONLY, prefix=str(tree / "cache")))
    problems = check_paths(readonly, config_dir=None, origin=None)
    assert [(CODE_WRITABLE, "/pycache/prefix")] == [(p.code, p.pointer) for p in problems]
    assert [p.message for p in check_paths(doc(tree), config_dir=None, origin=None)] == [
        p.message for p in problems]


def test_readonly_prefix_anchored_at_config_dir_is_checked(tree: Path) -> None:
    """The readonly prefix is expanded like every path before it is checked."""
    os.chmod(tree / "cache", 0o777)
    cfg = doc(tree, pycache=Pycache(mode=PycacheMode.READONLY, prefix="$CONFIG_DIR/cache"))
    assert [(CODE_WRITABLE, "/pycache/prefix")] == [
        (p.code, p.pointer) for p in check_paths(cfg, config_dir=str(tree), origin=None)]
    assert str(tree / "cache") == [p.path for p in paths_of(cfg, origin=None,
                                                            config_dir=str(tree))][-1]


def test_sticky_directory_is_never_a_safe_search_path(tree: Path) -> None:
    """Sticky does not stop others from adding modules to a search path."""
    os.chmod(tree / "src", 0o1777)
    assert [CODE_WRITABLE] == codes(check_paths(doc(tree), config_dir=None, origin=None))


def test_sticky_ancestor_protects_own_entries(tree: Path) -> None:
    """A sticky world-writable ancestor (like /tmp) is fine above our own directory."""
    os.chmod(tree, 0o1777)
    assert [] == check_paths(doc(tree), config_dir=None, origin=None)


def test_writable_ancestor_without_sticky(tree: Path) -> None:
    """A non-sticky world-writable ancestor lets others rename the path away."""
    os.chmod(tree, 0o777)
    problems = check_paths(doc(tree), config_dir=None, origin=None)
    assert {CODE_WRITABLE} == set(codes(problems))
    assert f"{tree} (an ancestor of" in problems[0].message
    assert 1 == len(problems)  # the shared ancestor is reported once


def test_missing_prefix_below_sticky_directory(tree: Path) -> None:
    """A prefix that does not exist yet, below a sticky world-writable directory,
    could be created by another user first."""
    os.chmod(tree, 0o1777)
    cfg = doc(tree, pycache=Pycache(mode=PycacheMode.PREFIX, prefix=str(tree / "new" / "c")))
    problems = check_paths(cfg, config_dir=None, origin=None)
    assert [CODE_WRITABLE] == codes(problems)
    assert "does not exist" in problems[0].message
    assert f"create {tree / 'new'} first" in problems[0].message


def test_missing_prefix_below_private_directory(tree: Path) -> None:
    """A prefix to be created below a private directory is fine."""
    cfg = doc(tree, pycache=Pycache(mode=PycacheMode.PREFIX, prefix=str(tree / "new" / "c")))
    assert [] == check_paths(cfg, config_dir=None, origin=None)


def test_foreign_owned_lib_directory(tree: Path) -> None:
    """A lib directory owned by another non-root user is refused."""
    if os.geteuid() != 0:
        pytest.skip("chown to another uid needs root")
    lib = tree / "lib" / "libpython3.11.so"
    lib.write_bytes(b"")
    os.chown(tree / "lib", OTHER_UID, -1)
    problems = check_paths(doc(tree, lib=str(lib)), config_dir=None, origin=None)
    assert [CODE_FOREIGN_OWNER] == codes(problems)
    assert f"uid {OTHER_UID}" in problems[0].message
    assert f"{tree / 'lib'} (an ancestor of {lib})" in problems[0].message
    assert "/lib" == problems[0].pointer


def test_directories_of_the_current_non_root_user(tree: Path) -> None:
    """A tree owned by the current user is fine; the same tree is foreign to others."""
    if os.geteuid() != 0:
        pytest.skip("chown to another uid needs root")
    for d in (tree, tree / "src", tree / "cache"):
        os.chown(d, OTHER_UID, -1)
    assert [] == check_paths(doc(tree), config_dir=None, origin=None, uid=OTHER_UID)
    problems = check_paths(doc(tree), config_dir=None, origin=None, uid=OTHER_UID + 1)
    assert {CODE_FOREIGN_OWNER} == set(codes(problems))
    assert f"chown {OTHER_UID + 1} {tree}" in problems[0].message


def test_world_writable_inittab_library(tree: Path) -> None:
    """An inittab library file anyone can write is refused."""
    so = tree / "lib" / "libext.so"
    so.write_bytes(b"")
    os.chmod(so, 0o666)
    cfg = doc(tree, inittab=[InittabEntry(name="ext", library=str(so))])
    problems = check_paths(cfg, config_dir=None, origin=None)
    assert [CODE_WRITABLE] == codes(problems)
    assert "/inittab/0/library" == problems[0].pointer
    assert "-rw-rw-rw- (0666)" in problems[0].message


def test_library_name_is_not_checked(tree: Path) -> None:
    """A bare library name is searched by dlopen in system directories only."""
    assert [] == paths_of(EmbedConfig(lib="libpython3.11.so.1.0"), origin=None, config_dir=None)


def test_symlink_to_insecure_directory(tree: Path, tmp_path: Path) -> None:
    """The resolved path is checked too, not only the link."""
    target = tmp_path / "open"
    target.mkdir()
    os.chmod(target, 0o777)
    os.symlink(target, tree / "link")
    cfg = doc(tree, options={"module_search_paths": [str(tree / "link")]})
    problems = check_paths(cfg, config_dir=None, origin=None)
    assert [CODE_WRITABLE] == codes(problems)
    assert str(target) in problems[0].message


def test_anchors_are_expanded(tree: Path) -> None:
    """$CONFIG_DIR and $ORIGIN expand to the given directories."""
    os.chmod(tree / "src", 0o777)
    cfg = doc(tree, options={"module_search_paths": ["$CONFIG_DIR/src", "$ORIGIN/../src"]})
    problems = check_paths(cfg, config_dir=str(tree), origin=str(tree / "bin"))
    assert [CODE_WRITABLE] == codes(problems)  # one directory: reported once
    assert [] == check_paths(cfg, config_dir=None, origin=None)  # unknown anchors: skipped


def test_expand() -> None:
    """Only a leading, whole anchor is expanded."""
    assert "/o/x" == expand("$ORIGIN/x", origin="/o", config_dir="/c")
    assert "/c" == expand("$CONFIG_DIR", origin="/o", config_dir="/c")
    assert expand("$ORIGINAL/x", origin="/o", config_dir="/c") is None
    assert expand("rel/x", origin="/o", config_dir="/c") is None
    assert "/abs" == expand("/abs", origin=None, config_dir=None)


@pytest.mark.parametrize("where", ["origin", "parent"])
def test_planted_pyvenv_cfg(tree: Path, where: str) -> None:
    """A pyvenv.cfg beside the launcher or one directory above is refused."""
    planted = (tree / "bin" if where == "origin" else tree) / "pyvenv.cfg"
    planted.write_text("home = /usr/bin\n")
    problems = check_paths(doc(tree), config_dir=None, origin=str(tree / "bin"))
    assert [CODE_PYVENV] == codes(problems)
    assert str(planted) in problems[0].message
    assert "remove it" in problems[0].message


def test_pyvenv_cfg_beside_program_name(tree: Path, tmp_path: Path) -> None:
    """CPython looks beside the executable it computes: program_name counts too."""
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    cfg = doc(tree, options={"program_name": str(tmp_path / "x" / "python3"),
                             "module_search_paths": [str(tree / "src")]})
    assert [CODE_PYVENV] == codes(check_paths(cfg, config_dir=None, origin=None))


def test_no_pyvenv_check_without_origin(tree: Path) -> None:
    """Without the launcher's directory there is nothing to look at."""
    (tree / "pyvenv.cfg").write_text("")
    assert [] == check_paths(doc(tree), config_dir=None, origin=None)


def test_allow_insecure_turns_refusals_into_warnings(tree: Path) -> None:
    """--allow-insecure-paths keeps the findings, as warnings."""
    os.chmod(tree / "src", 0o777)
    problems = check_paths(doc(tree), config_dir=None, origin=None, allow_insecure=True)
    assert [Severity.WARNING] == [p.severity for p in problems]


def test_unreadable_component_is_reported() -> None:
    """A component that cannot be inspected is reported, not skipped."""
    def lstat(path: str) -> os.stat_result:
        if path == "/x":
            raise PermissionError(13, "Permission denied")
        return os.lstat("/")

    cfg = EmbedConfig(options={"module_search_paths": ["/x/y"]})
    problems = check_paths(cfg, config_dir=None, origin=None, lstat=lstat)
    assert [CODE_CANNOT_CHECK] == codes(problems)
    assert "Permission denied" in problems[0].message


def test_raw_pycache_prefix_option_is_checked(tree: Path) -> None:
    """Without a policy, the raw pycache_prefix option is the cache directory."""
    os.chmod(tree / "cache", 0o777)
    cfg = EmbedConfig(options={"pycache_prefix": str(tree / "cache")})
    assert ["/options/pycache_prefix"] == [
        p.pointer for p in check_paths(cfg, config_dir=None, origin=None)]


def test_zip_on_the_path_is_a_file(tree: Path) -> None:
    """A zip archive on the search path is checked as a file."""
    z = tree / "src" / "app.zip"
    z.write_bytes(b"")
    (item,) = paths_of(EmbedConfig(options={"module_search_paths": [str(z)]}),
                       origin=None, config_dir=None)
    assert item.contents is False
    os.chmod(z, 0o646)
    assert [CODE_WRITABLE] == codes(check_paths(
        EmbedConfig(options={"module_search_paths": [str(z)]}), config_dir=None, origin=None))


def test_mode_bits_are_reported_as_ls_shows_them(tree: Path) -> None:
    """The sticky bit shows as 't' in the mode."""
    os.chmod(tree / "src", 0o1777)
    (p,) = check_paths(doc(tree), config_dir=None, origin=None)
    assert "drwxrwxrwt (1777)" in p.message
    assert stat.S_IMODE(os.stat(tree / "src").st_mode) == 0o1777
