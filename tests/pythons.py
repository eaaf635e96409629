"""The CPython interpreters installed on this machine, for tests that launch them.

Found through pyenv (``pyenv root`` and ``pyenv versions --bare``), one per
minor from 3.8 to 3.14 (free-threaded ``t`` builds left out). pyenv has no
3.14 on these machines, so when it lacks one the relocatable CPython 3.14
build shipped as test data beside the checkout (``../shared/cpython/``, or the
archive or directory named by ``EMBEDCFG_TEST_CPYTHON_ARCHIVE``) is unpacked
once into a cache directory outside the checkout and used like a pyenv build.
Tests skip a minor that is absent and say why (:func:`missing_reason`).

The unpacking is checksum-checked against the archive's ``SHA256SUMS`` and
safe when several test processes (pytest-xdist, parallel worktrees, CI jobs
sharing a home directory) run it at once: each unpacks into its own temporary
directory beside the target and renames it into place; a rename that loses the
race discards its copy and uses the winner's, which is complete by construction.

A pyenv build sits at the prefix it was configured with; the archive does not
(it was built with ``--prefix=/tmp/cp314``). ``python3.14`` finds its prefix
from its own location, but an embedding program does not: on Linux, getpath
searches up from the *program's* directory and then falls back to the
configured prefix; it never looks beside libpython. So every launcher and C
host of the tests would fail with "Failed to import encodings module" unless
each document set ``home`` (as docs/howto/pick-libpython.rst says a relocated
libpython needs). To test 3.14 exactly as the pyenv minors are tested, the
configured prefix is made a symbolic link to the unpacked tree (created
atomically, only ever replacing a link of our own) and the interpreter is used
through it. :func:`archive_tree` is the unpacked, relocated tree itself, for the
tests of relocation.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Dict, Optional, Tuple

MINORS: Tuple[Tuple[int, int], ...] = tuple((3, m) for m in range(8, 15))

#: Names the test-data archive (``.tar.xz``) or the directory holding it and ``SHA256SUMS``.
ARCHIVE_ENV = "EMBEDCFG_TEST_CPYTHON_ARCHIVE"
#: Where archives are unpacked (default: ``$XDG_CACHE_HOME/embedcfg-tests``).
CACHE_ENV = "EMBEDCFG_TEST_CPYTHON_CACHE"

_CHECKOUT = Path(__file__).resolve().parent.parent
_ARCHIVE_MINOR = (3, 14)
_ARCHIVE_GLOB = "cpython-3.14.*-linux-x86_64.tar.xz"


class ArchiveError(Exception):
    """The CPython test-data archive is absent or cannot be used."""


def installed_pythons() -> Dict[Tuple[int, int], Path]:
    """Installed CPython minor -> its ``bin/python3.X``, in version order.

    pyenv's builds, plus the unpacked 3.14 test-data build when pyenv has no 3.14.
    """
    found = _pyenv_only()
    if _ARCHIVE_MINOR not in found:
        try:
            found[_ARCHIVE_MINOR] = archive_python()
        except ArchiveError:
            pass
    return dict(sorted(found.items()))


# Other branches still call it by its older name; it finds the archive build too.
pyenv_pythons = installed_pythons


def missing_reason(minor: Tuple[int, int]) -> str:
    """Why ``minor`` is not available, for a skip message."""
    name = f"{minor[0]}.{minor[1]}"
    if minor != _ARCHIVE_MINOR:
        return f"CPython {name} is not installed (no pyenv build)"
    try:
        archive_python()
    except ArchiveError as exc:
        return f"CPython {name} is not installed (no pyenv build; {exc})"
    return f"CPython {name} is installed"  # pragma: no cover - callers ask only when absent


def _pyenv_only() -> Dict[Tuple[int, int], Path]:
    found: Dict[Tuple[int, int], Path] = {}
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return found
    try:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()
        names = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True,
                               timeout=30, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return found
    for name in names:
        parts = name.split(".")
        if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
            continue
        minor = (int(parts[0]), int(parts[1]))
        exe = Path(root, "versions", name, "bin", f"python{minor[0]}.{minor[1]}")
        if minor in MINORS and exe.exists() and not name.endswith("t"):
            found.setdefault(minor, exe)
    return found


_EXE = Path("bin", f"python{_ARCHIVE_MINOR[0]}.{_ARCHIVE_MINOR[1]}")


def archive_python() -> Path:
    """The ``bin/python3.14`` of the test-data build, through its configured prefix.

    Unpacks the archive on first use. Raises :class:`ArchiveError` saying what
    is missing or wrong.
    """
    return _archive_python(os.environ.get(ARCHIVE_ENV), os.environ.get(CACHE_ENV))


def archive_tree() -> Path:
    """The unpacked test-data build where it really is (relocated from its prefix)."""
    return _archive_tree(os.environ.get(ARCHIVE_ENV), os.environ.get(CACHE_ENV))


@functools.lru_cache(maxsize=None)
def _archive_tree(override: Optional[str], cache: Optional[str]) -> Path:
    archive = _find_archive(override)
    digest = _checked_digest(archive)
    root = Path(cache) if cache else _default_cache()
    stem = archive.name[: -len(".tar.xz")].rsplit("-linux", 1)[0]  # cpython-3.14.7
    target = root / f"{stem}-{digest[:12]}"
    if not (target / stem / _EXE).exists():
        _unpack(archive, root, target, stem)
        if not (target / stem / _EXE).exists():
            raise ArchiveError(f"{archive} has no {stem}/{_EXE}")
    return target / stem


@functools.lru_cache(maxsize=None)
def _archive_python(override: Optional[str], cache: Optional[str]) -> Path:
    tree = _archive_tree(override, cache)
    try:
        prefix = subprocess.run(
            [str(tree / _EXE), "-I", "-S", "-c",
             "import sysconfig; print(sysconfig._get_sysconfigdata()['prefix'])"],
            capture_output=True, text=True, timeout=60, check=True, env={}).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise ArchiveError(f"{tree / _EXE} does not run: {exc}") from None
    if not os.path.isabs(prefix):
        raise ArchiveError(f"{tree / _EXE} reports the configured prefix {prefix!r}")
    _link_prefix(Path(prefix), tree)
    return Path(prefix) / _EXE


def _link_prefix(prefix: Path, tree: Path) -> None:
    """Make ``prefix`` a symbolic link to ``tree``, atomically."""
    try:
        st = os.lstat(prefix)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
            raise ArchiveError(f"the build's configured prefix {prefix} exists and is not"
                               " a symbolic link of this user's, so it cannot point to the"
                               " unpacked build")
        if os.readlink(prefix) == str(tree):
            return
    # A fresh link under a unique name, renamed over the old one: concurrent
    # runs each replace a link with an equally good one, never leave none.
    prefix.parent.mkdir(parents=True, exist_ok=True)
    tmp = prefix.with_name(f".{prefix.name}.{os.getpid()}.link")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(tree, tmp)
    os.replace(tmp, prefix)


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "embedcfg-tests"


def _find_archive(override: Optional[str]) -> Path:
    if override:
        where = Path(override)
        origin = f"{ARCHIVE_ENV}={override}"
    else:
        where = _CHECKOUT.parent / "shared" / "cpython"
        origin = f"no {where}"
    if where.is_file():
        return where
    if where.is_dir():
        found = sorted(where.glob(_ARCHIVE_GLOB))
        if found:
            return found[-1]
        raise ArchiveError(f"no {_ARCHIVE_GLOB} in {where}")
    if override:
        raise ArchiveError(f"{origin} does not exist")
    raise ArchiveError(f"{origin} archive")


def _checked_digest(archive: Path) -> str:
    sums = archive.parent / "SHA256SUMS"
    try:
        lines = sums.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ArchiveError(f"cannot read {sums}: {exc.strerror}") from None
    expected = None
    for line in lines:
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*") == archive.name:
            expected = fields[0].lower()
    if expected is None:
        raise ArchiveError(f"{sums} has no checksum for {archive.name}")
    sha = hashlib.sha256()
    with archive.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    if sha.hexdigest() != expected:
        raise ArchiveError(f"{archive.name} does not match {sums}: sha256 {sha.hexdigest()},"
                           f" expected {expected}")
    return expected


def _unpack(archive: Path, root: Path, target: Path, stem: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    # Beside the target, so the final rename stays on one file system and is atomic.
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    try:
        with tarfile.open(archive, "r:xz") as tar:
            if hasattr(tarfile, "data_filter"):  # 3.12+, and 3.8-3.11 security releases
                tar.extractall(tmp, filter="fully_trusted")  # our own checksummed build
            else:  # pragma: no cover - older runners
                tar.extractall(tmp)
        # The archive ships no __pycache__; `make install` (and so pyenv)
        # compiles the standard library at the three optimization levels.
        # Without that every embedded start compiles what it imports, and
        # start-up measurements compare a cold 3.14 with warm 3.8-3.13.
        exe = tmp / stem / _EXE
        lib = tmp / stem / "lib" / f"python{_ARCHIVE_MINOR[0]}.{_ARCHIVE_MINOR[1]}"
        proc = subprocess.run([str(exe), "-I", "-m", "compileall", "-q", "-j0", "-o", "0",
                               "-o", "1", "-o", "2", str(lib)], capture_output=True,
                              text=True, timeout=900, env={}, check=False)
        if proc.returncode != 0:
            raise ArchiveError(f"compiling the standard library of {archive.name} failed:"
                               f" {(proc.stdout + proc.stderr).strip()[-500:]}")
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would stay on the renamed directory
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process renamed its copy first (ENOTEMPTY / EEXIST): use that one.
            if not target.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
