"""Compile the C shim and the launcher for an installed CPython, with a cache.

The shim library (``libembedcfg.so``) is compiled against the target
interpreter's own headers and is not linked against libpython: its Python
symbols resolve when it is loaded, either by the launcher after it loaded
``lib`` with ``RTLD_GLOBAL`` or by ``ctypes.PyDLL`` inside a running
interpreter. The launcher (``embedcfg-launch``) links only ``-ldl``.

``build(link="static")`` (``embedcfg build --link static``) builds a launcher
linked with the target's static libpython (sysconfig ``LIBPL``/``LIBRARY``)
and the shim's sources instead, ``embedcfg-launch-static``: it loads
neither libpython nor the shim library, and exports the interpreter's
symbols (``-Wl,--export-dynamic``, as CPython's own ``LINKFORSHARED``) so
that extension modules load as under ``python``. It has its own cache
directory (``cp311-static-<hash>``).

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

__all__ = ["LAUNCHER_NAME", "LINKS", "SHIM_NAME", "STATIC_LAUNCHER_NAME", "Built", "HostFlags", "Target", "build",
           "StaticLib", "cache_dir", "host_flags", "probe", "source_dir", "static_lib"]

SHIM_NAME = "libembedcfg.so"
LAUNCHER_NAME = "embedcfg-launch"
#: The launcher linked with the static libpython (``--link static``).
STATIC_LAUNCHER_NAME = "embedcfg-launch-static"
#: How the launcher gets its interpreter: dlopen() of ``lib``, or linked in.
LINKS = ("dynamic", "static")
#: The document parser alone, without Python (what the fuzz target builds).
_PARSER_SOURCES = ("jsonparse.c", "utf8.c")
#: Without a Python dependency, shared by the shim library and the launcher.
_COMMON_SOURCES = ("arena.c", "paths.c", "version.c", *_PARSER_SOURCES)
_SHIM_SOURCES = ("handle.c", "modules.c", "document.c", "apply.c", "apply_pep587.c",
                 "apply_pep741.c", "attach.c", "importer.c", "static_importer.c",
                 "archive.c", "archive_importer.c", "archive_resources.c",
                 "onefile.c", "extension_importer.c", "pathsec.c", *_COMMON_SOURCES)
_LAUNCHER_SOURCES = ("launcher.c", "pathsec.c", "archive.c", "onefile.c",
                     *_COMMON_SOURCES)
_WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
# -Bsymbolic-functions: calls between the shim's own functions bind at link
# time instead of through the dynamic linker at start-up (each such lookup
# walks every loaded library, libpython's large table included).
_SHIM_FLAGS = ("-O2", "-Wl,-Bsymbolic-functions")
_LAUNCHER_FLAGS = ("-O2",)
# The static launcher: the interpreter's symbols in the executable's dynamic
# symbol table (CPython's LINKFORSHARED), for extension modules; every member
# of the archive, so that the executable defines what libpython.so does
# (an extension may use a function that nothing in the launcher references).
# -fno-semantic-interposition would not change anything here: an executable's
# own definitions cannot be interposed, so its calls bind directly already.
_STATIC_FLAGS = ("-O2",)
_STATIC_LINK = ("-Wl,--export-dynamic",)


@attrs.frozen
class Built:
    """The built shim library and launcher for one interpreter."""

    shim: Path
    launcher: Path
    version: Tuple[int, int, int]
    python: str
    libpython: Optional[str]
    directory: Path
    #: "dynamic", or "static": the launcher has the interpreter and the shim
    #: linked in, and ``shim`` is the launcher itself (there is no library).
    link: str = "dynamic"
    #: The static libpython linked in (``link == "static"`` only).
    static_library: Optional[str] = None


@attrs.frozen
class StaticLib:
    """The static libpython of a target and how to link it (sysconfig)."""

    #: ``LIBPL/LIBRARY``: ``.../config-3.11-x86_64-linux-gnu/libpython3.11.a``, or
    #: ``libpython3.11-pic.a`` beside it where that exists (Debian's).
    library: str
    #: Its name without ``.a``: what every library of that CPython starts with.
    stem: str
    #: ``LIBS``, ``MODLIBS``, ``SYSLIBS``, ``LIBM``: what CPython links ``python`` with.
    libs: Tuple[str, ...]


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


# Run in the target (-I -S): where its static library is, and what to link
# with it. LIBPL is where `make install` puts it; a relocated tree (such as
# the 3.14 test build) has it under its own prefix instead.
_STATIC_SCRIPT = r"""
import json, os, sys, sysconfig
v = sysconfig.get_config_var
name = v("LIBRARY") or ""
libpl = v("LIBPL") or ""
looked = []
if name:
    looked.append(os.path.join(libpl, name))
    if libpl:
        looked.append(os.path.join(sys.base_exec_prefix, getattr(sys, "platlibdir", "lib"),
                                   os.path.basename(os.path.dirname(libpl)),
                                   os.path.basename(libpl), name))
# Debian's libpython3.X.a is not position-independent (it is linked into its
# own non-PIE python); libpython3.X-pic.a beside it is, as a PIE launcher needs.
looked = [p for a in looked
          for p in ((a[:-len(".a")] + "-pic.a", a) if a.endswith(".a") else (a,))]
found = [p for p in looked if os.path.isfile(p)]
libs = " ".join(v(k) or "" for k in ("LIBS", "MODLIBS", "SYSLIBS", "LIBM"))
print(json.dumps({"name": name, "looked": looked, "found": found[:1], "libs": libs}))
"""


def static_lib(target: Target) -> StaticLib:
    """The static libpython of ``target`` (one run of it).

    Raises :class:`~embedcfg.errors.ShimError` naming the path looked for
    when it has none.
    """
    version = ".".join(map(str, target.version))
    try:
        info = _probe.run_json(target.executable, ["-I", "-S"], _STATIC_SCRIPT,
                               env=_probe.clean_environ(os.environ), timeout=60)
    except ValueError as e:
        raise ShimError(str(e)) from e
    if not info["found"]:
        looked = " or ".join(info["looked"]) or "nothing (sysconfig LIBRARY is empty)"
        raise ShimError(f"CPython {version} ({target.executable}) has no static libpython:"
                        f" looked for {looked} (sysconfig LIBPL and LIBRARY); --link static"
                        " needs one (CPython's `make install` puts it there), or use"
                        " --link dynamic")
    library = info["found"][0]
    stem = Path(library).name[:-len(".a")]
    return StaticLib(library=library, stem=stem[:-len("-pic")] if stem.endswith("-pic") else stem,
                     libs=tuple(shlex.split(info["libs"])))


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


def _static_commands(src: Path, out: Path, target: Target, static: StaticLib,
                     cc: List[str]) -> List[List[str]]:
    """The static launcher: the launcher's own files (those the shim does not
    have) compiled as for the dynamic one, in its arena, then linked with the
    shim's sources and the static libpython. Only the loading step differs
    (EMBEDCFG_STATIC_PYTHON in launcher.c)."""
    inc = [f"-I{src}", *(f"-I{i}" for i in target.includes)]
    magic = ([f"-DEMBEDCFG_PYC_MAGIC=0x{int.from_bytes(bytes.fromhex(target.pyc_magic), 'little'):08X}UL"]
             if len(target.pyc_magic) == 8 else [])
    defines = [
        f"-DEMBEDCFG_TARGET_HEX=0x{target.hexversion:08X}UL",
        "-DEMBEDCFG_DEFAULT_LIB=" + json.dumps(target.libpython or ""),
        "-DEMBEDCFG_STATIC_PYTHON",
        "-DEMBEDCFG_LIB_STEM=" + json.dumps(static.stem),
    ]
    own = [s for s in _LAUNCHER_SOURCES if s not in _SHIM_SOURCES]
    objects = [out / f"{Path(s).stem}.o" for s in own]
    commands = [[*cc, *_WARNINGS, *_LAUNCHER_FLAGS, f"-I{src}", *defines, "-DEMBEDCFG_LAUNCHER",
                 "-c", str(src / s), "-o", str(o)] for s, o in zip(own, objects)]
    commands.append([*cc, *_WARNINGS, *_STATIC_FLAGS, *inc, *magic,
                     *(str(src / s) for s in _SHIM_SOURCES), *map(str, objects),
                     "-o", str(out / STATIC_LAUNCHER_NAME), *_STATIC_LINK,
                     "-Wl,--whole-archive", static.library, "-Wl,--no-whole-archive",
                     *static.libs, "-ldl"])
    return commands


def _key(src: Path, target: Target, cc: List[str], compiler_id: str) -> str:
    h = hashlib.sha256()
    for path in sorted(src.iterdir()):
        if path.suffix in (".c", ".h"):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(json.dumps([cc, compiler_id, _cache_facts(target), _WARNINGS, _SHIM_FLAGS, _LAUNCHER_FLAGS,
                         _SHIM_SOURCES, _LAUNCHER_SOURCES]).encode())
    return h.hexdigest()[:20]


def _load(directory: Path, target: Target, static: Optional[StaticLib] = None
          ) -> Optional[Built]:
    if static is not None:
        launcher = directory / STATIC_LAUNCHER_NAME
        if not (launcher.is_file() and (directory / "info.json").is_file()):
            return None
        return Built(shim=launcher, launcher=launcher, version=target.version,
                     python=target.executable, libpython=target.libpython,
                     directory=directory, link="static", static_library=static.library)
    shim, launcher = directory / SHIM_NAME, directory / LAUNCHER_NAME
    if not (shim.is_file() and launcher.is_file() and (directory / "info.json").is_file()):
        return None
    return Built(shim=shim, launcher=launcher, version=target.version,
                 python=target.executable, libpython=target.libpython, directory=directory)


def build(python: Optional[str] = None, *, stderr: Optional[TextIO] = None,
          cache: Optional[Path] = None, link: str = "dynamic") -> Built:
    """Build (or find in the cache) the shim and launcher for ``python``;
    with ``link="static"``, the launcher linked with its static libpython
    and the shim (see the module's description).

    Raises :class:`~embedcfg.errors.ShimError` when the interpreter cannot be
    probed, has no static libpython for ``link="static"``, or the compiler
    fails.
    """
    if link not in LINKS:
        raise ShimError(f"link must be one of {', '.join(LINKS)}, not {link!r}")
    target = probe(python)
    static = static_lib(target) if link == "static" else None
    src = source_dir()
    cc = _compiler()
    compiler_id = _compiler_id(cc)
    root = cache if cache is not None else cache_dir()
    tag = f"cp{target.version[0]}{target.version[1]}"
    key = _key(src, target, cc, compiler_id)
    if static is not None:
        tag += "-static"
        key = hashlib.sha256(json.dumps([key, attrs.asdict(static), _STATIC_FLAGS,
                                         _STATIC_LINK]).encode()).hexdigest()[:20]
    final = root / f"{tag}-{key}"
    found = _load(final, target, static)
    if found is not None:
        return found
    out = stderr if stderr is not None else sys.stderr
    version = ".".join(map(str, target.version))
    what = "the static launcher" if static is not None else "shim"
    out.write(f"embedcfg: building {what} for CPython {version} ({target.executable})"
              f" in {final}\n")
    out.flush()
    start = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{tag}-", dir=root))
    try:
        commands = (_commands(src, tmp, target, cc) if static is None
                    else _static_commands(src, tmp, target, static, cc))
        for cmd in commands:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise ShimError(f"compiling the shim for CPython {version} failed:\n"
                                f"{' '.join(map(shlex.quote, cmd))}\n{proc.stderr.strip()}")
        for obj in tmp.glob("*.o"):  # the static launcher's own objects, linked in
            obj.unlink()
        info: Dict[str, Any] = {"python": target.executable, "version": list(target.version),
                                "libpython": target.libpython, "pyc_magic": target.pyc_magic,
                                "link": link}
        if static is not None:
            info["static_library"] = static.library
        (tmp / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError:
            # Another process renamed its build first: use that one.
            if _load(final, target, static) is None:
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    built = _load(final, target, static)
    if built is None:  # pragma: no cover - only if the cache is tampered with
        raise ShimError(f"the build in {final} is incomplete")
    # The end, so that a slow step before or after is not blamed on the build.
    made = (STATIC_LAUNCHER_NAME if static is not None
            else f"{SHIM_NAME} and {LAUNCHER_NAME}")
    out.write(f"embedcfg: built {made} for CPython {version} in"
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
