"""Compile the C shim and the launcher for an installed CPython, with a cache.

The shim library (``libembedcfg.so``) is compiled against the target
interpreter's own headers and is not linked against libpython: its Python
symbols resolve when it is loaded, either by the launcher after it loaded
``lib`` with ``RTLD_GLOBAL`` or by ``ctypes.PyDLL`` inside a running
interpreter. The launcher (``embedcfg-launch``) links only ``-ldl``.

Results are cached under ``$EMBEDCFG_CACHE_DIR``, else
``$XDG_CACHE_HOME/embedcfg``, else ``~/.cache/embedcfg``, in a directory
keyed by a hash of the sources, the compiler and the target interpreter. A
build is announced on stderr once; unchanged inputs are never rebuilt.
Concurrent builds are safe: each builds in its own temporary directory and
renames it into place; the first rename wins.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, TextIO, Tuple

import attrs

from . import _probe
from ._probe import Target
from .errors import ShimError

__all__ = ["LAUNCHER_NAME", "SHIM_NAME", "Built", "HostFlags", "Target", "build",
           "cache_dir", "host_flags", "probe", "source_dir"]

SHIM_NAME = "libembedcfg.so"
LAUNCHER_NAME = "embedcfg-launch"
#: The document parser alone, without Python (what the fuzz target builds).
_PARSER_SOURCES = ("jsonparse.c", "utf8.c")
#: Without a Python dependency, shared by the shim library and the launcher.
_COMMON_SOURCES = ("arena.c", "paths.c", "version.c", *_PARSER_SOURCES)
_SHIM_SOURCES = ("handle.c", "modules.c", "document.c", "apply.c", "apply_pep587.c",
                 "apply_pep741.c", "attach.c", "importer.c", "static_importer.c",
                 "archive.c", "archive_importer.c", "archive_resources.c",
                 *_COMMON_SOURCES)
_LAUNCHER_SOURCES = ("launcher.c", "pathsec.c", "archive.c", *_COMMON_SOURCES)
_WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
# -Bsymbolic-functions: calls between the shim's own functions bind at link
# time instead of through the dynamic linker at start-up (each such lookup
# walks every loaded library, libpython's large table included).
_SHIM_FLAGS = ("-O2", "-Wl,-Bsymbolic-functions")
_LAUNCHER_FLAGS = ("-O2",)


@attrs.frozen
class Built:
    """The built shim library and launcher for one interpreter."""

    shim: Path
    launcher: Path
    version: Tuple[int, int, int]
    python: str
    libpython: Optional[str]
    directory: Path


@attrs.frozen
class HostFlags:
    """How a C or C++ host compiles against ``embedcfg.h`` and links the shim
    library built for one interpreter (what ``embedcfg build --cflags
    --ldflags`` prints)."""

    built: Built
    #: The directory of ``embedcfg.h``, then the interpreter's ``Python.h`` directories.
    include_dirs: Tuple[str, ...]
    cflags: Tuple[str, ...]
    #: The shim library and the interpreter's libpython, each with an rpath, and ``-ldl``.
    ldflags: Tuple[str, ...]


def probe(python: Optional[str] = None) -> Target:
    """Ask ``python`` (default: this interpreter) for its headers and library
    (the one probe, ``embedcfg._probe.probe``, with the build's errors).

    Raises :class:`~embedcfg.errors.ShimError` when it cannot be run, is not
    CPython, or is older than 3.8.
    """
    exe = python or sys.executable
    try:
        return _probe.probe(exe)
    except ValueError as e:
        raise ShimError(str(e)) from e


def _cache_facts(target: Target) -> Dict[str, Any]:
    """What of ``target`` the build depends on: the cache key's part. Not the
    executable's path: every venv of one interpreter shares its build."""
    return {"version": target.version, "hexversion": target.hexversion,
            "includes": target.includes, "ccshared": target.ccshared,
            "libpython": target.libpython, "pyc_magic": target.pyc_magic}


def source_dir() -> Path:
    """The C sources: inside the package (wheel) or the checkout's capi_shim/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "capi_shim", here.parent / "capi_shim"):
        if (candidate / "handle.c").is_file():
            return candidate
    raise ShimError(f"the C sources of the shim are missing (looked in {here / 'capi_shim'}"
                    f" and {here.parent / 'capi_shim'})")


def cache_dir() -> Path:
    """Where built shims are kept."""
    explicit = os.environ.get("EMBEDCFG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "embedcfg"


def _compiler() -> List[str]:
    return shlex.split(os.environ.get("CC") or "cc")


def _compiler_id(cc: List[str]) -> str:
    try:
        proc = subprocess.run([*cc, "--version"], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError) as e:
        raise ShimError(f"no C compiler: {' '.join(cc)} cannot be run ({e}); install one or"
                        " set CC") from e
    return proc.stdout + proc.stderr


def _commands(src: Path, out: Path, target: Target, cc: List[str]) -> List[List[str]]:
    inc = [f"-I{src}", *(f"-I{i}" for i in target.includes)]
    # The bytecode magic number the shim checks archives against before init
    # (importlib.util.MAGIC_NUMBER as a little-endian word).
    magic = ([f"-DEMBEDCFG_PYC_MAGIC=0x{int.from_bytes(bytes.fromhex(target.pyc_magic), 'little'):08X}UL"]
             if len(target.pyc_magic) == 8 else [])
    shim = [*cc, *_WARNINGS, *_SHIM_FLAGS, *target.ccshared, "-shared", *inc, *magic,
            *(str(src / s) for s in _SHIM_SOURCES), "-o", str(out / SHIM_NAME), "-ldl"]
    defines = [
        f"-DEMBEDCFG_TARGET_HEX=0x{target.hexversion:08X}UL",
        "-DEMBEDCFG_DEFAULT_LIB=" + json.dumps(target.libpython or ""),
        "-DEMBEDCFG_SHIM_NAME=" + json.dumps(SHIM_NAME),
        # the launcher's sources allocate in its arena (arena.h)
        "-DEMBEDCFG_LAUNCHER",
    ]
    launcher = [*cc, *_WARNINGS, *_LAUNCHER_FLAGS, f"-I{src}", *defines,
                *(str(src / s) for s in _LAUNCHER_SOURCES), "-o", str(out / LAUNCHER_NAME),
                "-ldl"]
    return [shim, launcher]


def _key(src: Path, target: Target, cc: List[str], compiler_id: str) -> str:
    h = hashlib.sha256()
    for path in sorted(src.iterdir()):
        if path.suffix in (".c", ".h"):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(json.dumps([cc, compiler_id, _cache_facts(target), _WARNINGS, _SHIM_FLAGS, _LAUNCHER_FLAGS,
                         _SHIM_SOURCES, _LAUNCHER_SOURCES]).encode())
    return h.hexdigest()[:20]


def _load(directory: Path, target: Target) -> Optional[Built]:
    shim, launcher = directory / SHIM_NAME, directory / LAUNCHER_NAME
    if not (shim.is_file() and launcher.is_file() and (directory / "info.json").is_file()):
        return None
    return Built(shim=shim, launcher=launcher, version=target.version,
                 python=target.executable, libpython=target.libpython, directory=directory)


def build(python: Optional[str] = None, *, stderr: Optional[TextIO] = None,
          cache: Optional[Path] = None) -> Built:
    """Build (or find in the cache) the shim and launcher for ``python``.

    Raises :class:`~embedcfg.errors.ShimError` when the interpreter cannot be
    probed or the compiler fails.
    """
    target = probe(python)
    src = source_dir()
    cc = _compiler()
    compiler_id = _compiler_id(cc)
    root = cache if cache is not None else cache_dir()
    tag = f"cp{target.version[0]}{target.version[1]}"
    final = root / f"{tag}-{_key(src, target, cc, compiler_id)}"
    found = _load(final, target)
    if found is not None:
        return found
    out = stderr if stderr is not None else sys.stderr
    version = ".".join(map(str, target.version))
    out.write(f"embedcfg: building shim for CPython {version} ({target.executable})"
              f" in {final}\n")
    out.flush()
    start = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{tag}-", dir=root))
    try:
        for cmd in _commands(src, tmp, target, cc):
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise ShimError(f"compiling the shim for CPython {version} failed:\n"
                                f"{' '.join(map(shlex.quote, cmd))}\n{proc.stderr.strip()}")
        info: Dict[str, Any] = {"python": target.executable, "version": list(target.version),
                                "libpython": target.libpython, "pyc_magic": target.pyc_magic}
        (tmp / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError:
            # Another process renamed its build first: use that one.
            if _load(final, target) is None:
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    built = _load(final, target)
    if built is None:  # pragma: no cover - only if the cache is tampered with
        raise ShimError(f"the build in {final} is incomplete")
    # The end, so that a slow step before or after is not blamed on the build.
    out.write(f"embedcfg: built {SHIM_NAME} and {LAUNCHER_NAME} for CPython {version} in"
              f" {time.monotonic() - start:.1f}s\n")
    out.flush()
    return built


def host_flags(python: Optional[str] = None, *, stderr: Optional[TextIO] = None,
               cache: Optional[Path] = None) -> HostFlags:
    """Build (or find) the shim for ``python`` and say how a host links it.

    The shim library is not linked against libpython, so the host links both:
    the shim library, then the interpreter's shared libpython, which resolves
    the shim's Python symbols. The rpaths point at the build cache and the
    interpreter's library directory, which suits development; a host that is
    shipped copies ``libembedcfg.so`` beside itself and links with
    ``-Wl,-rpath,$ORIGIN`` instead. Raises :class:`~embedcfg.errors.ShimError`
    when the interpreter has no shared libpython.
    """
    target = probe(python)
    if target.libpython is None:
        raise ShimError(f"{target.executable} has no shared libpython: a host that links"
                        " the shim needs one (build CPython with --enable-shared)")
    built = build(python, stderr=stderr, cache=cache)
    includes = (str(source_dir()), *target.includes)
    lib = Path(target.libpython)
    name = lib.name.split(".so")[0][len("lib"):]  # libpython3.11.so.1.0 -> python3.11
    shim_name = SHIM_NAME.split(".so")[0][len("lib"):]
    ldflags = (f"-L{built.directory}", f"-Wl,-rpath,{built.directory}", f"-l{shim_name}",
               f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}", f"-l{name}", "-ldl")
    return HostFlags(built=built, include_dirs=includes,
                     cflags=tuple(f"-I{i}" for i in includes), ldflags=ldflags)
