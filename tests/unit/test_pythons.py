"""tests/pythons.py: where the 3.14 test-data build comes from, and why it is absent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests import pythons

NAME = "cpython-3.14.7-linux-x86_64.tar.xz"


def test_missing_archive_is_a_skip_reason(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An override naming nothing: no 3.14 from the archive, and the reason says which path."""
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(pythons.ARCHIVE_ENV, str(missing))
    with pytest.raises(pythons.ArchiveError, match="does not exist"):
        pythons.archive_python()
    reason = pythons.missing_reason((3, 14))
    assert reason == (f"CPython 3.14 is not installed (no pyenv build;"
                      f" {pythons.ARCHIVE_ENV}={missing} does not exist)")
    assert pythons.missing_reason((3, 9)) == "CPython 3.9 is not installed (no pyenv build)"


def test_directory_without_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory holding no archive is refused, naming the pattern looked for."""
    monkeypatch.setenv(pythons.ARCHIVE_ENV, str(tmp_path))
    with pytest.raises(pythons.ArchiveError, match=r"no cpython-3\.14\.\*-linux"):
        pythons.archive_python()


def test_checksum_mismatch_is_refused_before_unpacking(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An archive whose sha256 differs from SHA256SUMS is never unpacked."""
    (tmp_path / NAME).write_bytes(b"not the build")
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  {NAME}\n", encoding="utf-8")
    cache = tmp_path / "cache"
    monkeypatch.setenv(pythons.ARCHIVE_ENV, str(tmp_path))
    monkeypatch.setenv(pythons.CACHE_ENV, str(cache))
    actual = hashlib.sha256(b"not the build").hexdigest()
    with pytest.raises(pythons.ArchiveError, match=f"sha256 {actual}, expected 0000"):
        pythons.archive_python()
    assert not cache.exists()


def test_archive_without_a_checksum_is_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """SHA256SUMS must list the archive: an unlisted one is not trusted."""
    (tmp_path / NAME).write_bytes(b"x")
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  other.tar.xz\n", encoding="utf-8")
    monkeypatch.setenv(pythons.ARCHIVE_ENV, str(tmp_path / NAME))
    with pytest.raises(pythons.ArchiveError, match=f"has no checksum for {NAME}"):
        pythons.archive_python()


def test_prefix_taken_by_something_else_is_refused(tmp_path: Path) -> None:
    """The configured prefix is only ever a link of ours: a real directory there stays."""
    taken = tmp_path / "cp314"
    taken.mkdir()
    with pytest.raises(pythons.ArchiveError, match="is not a symbolic link"):
        pythons._link_prefix(taken, tmp_path / "tree")
    assert taken.is_dir() and not taken.is_symlink()


def test_prefix_link_is_replaced_atomically(tmp_path: Path) -> None:
    """A stale link of ours (dangling, or to another copy) is replaced by one to the tree."""
    tree = tmp_path / "tree"
    tree.mkdir()
    link = tmp_path / "cp314"
    link.symlink_to(tmp_path / "gone")
    pythons._link_prefix(link, tree)
    assert link.resolve() == tree.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp314", "tree"]
