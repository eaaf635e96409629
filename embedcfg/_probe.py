"""The one interpreter probe: run a target CPython once, learn what embedcfg needs.

:func:`probe` runs one script in the target and returns a :class:`Target`
holding what the build (headers, libpython, ``CCSHARED``, ``hexversion``), the
checks (version, build flags, standard-library names) and ``inspect`` (the
effective configuration) use, so a target is described by one type, read one
way. :func:`run_json` is the primitive underneath: run a script, read JSON.
"""

from __future__ import annotations

import os
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple

import attrs

from .options import OPTIONS, Build, Version

__all__ = ["Target", "clean_environ", "from_info", "probe", "run_json", "script", "stdlib_names"]


def run_json(python: str, flags: List[str], code: str, *, env: Mapping[str, str],
             timeout: float) -> Any:
    """``python *flags -c code``'s standard output, parsed as JSON.

    Raises ValueError with a message for the user when the interpreter
    cannot be run, fails, or does not answer with JSON.
    """
    import json
    import subprocess  # only a probe needs it: keep `embedcfg validate` light

    try:
        proc = subprocess.run([python, *flags, "-c", code], capture_output=True, text=True,
                              timeout=timeout, env=dict(env), check=False)
    except (OSError, subprocess.SubprocessError) as e:
        raise ValueError(f"cannot run {python!r}: {e}") from e
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"{python!r} exited with status {proc.returncode}: {last}")
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        raise ValueError(f"{python!r} did not answer like a CPython interpreter") from e


def clean_environ(environ: Mapping[str, str]) -> Dict[str, str]:
    """``environ`` without its ``PYTHON*`` variables (PYTHONHOME, PYTHONPATH,
    PYTHONDONTWRITEBYTECODE...), which would change what the target reports."""
    return {k: v for k, v in environ.items() if not k.startswith("PYTHON")}


def stdlib_names() -> FrozenSet[str]:
    """Built-in and standard-library module names of the running interpreter.

    3.10+ lists them in ``sys.stdlib_module_names``; before that the stdlib
    directories are scanned, finding what ``pkgutil.iter_modules`` finds
    there without importing it (it imports ``inspect``, which doubled the
    time of every probe of a 3.8 or 3.9). This function also runs inside
    probed interpreters (its source is sent to them), so it uses nothing else.
    """
    import sys

    names = set(sys.builtin_module_names) | set(getattr(sys, "stdlib_module_names", ()))
    if not hasattr(sys, "stdlib_module_names"):
        import os
        import sysconfig
        from importlib.machinery import all_suffixes

        suffixes = sorted(all_suffixes(), key=len, reverse=True)  # as inspect.getmodulename

        def module_name(filename: str) -> "str | None":
            for suffix in suffixes:
                if filename.endswith(suffix):
                    return filename[:-len(suffix)]
            return None

        for directory in (sysconfig.get_path("stdlib"),
                          os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload")):
            try:
                filenames = os.listdir(directory)
            except OSError:
                continue
            for filename in filenames:
                name = module_name(filename)
                path = os.path.join(directory, filename)
                if name is None and "." not in filename and os.path.isdir(path):
                    try:
                        inner = os.listdir(path)
                    except OSError:
                        inner = []
                    if any(module_name(f) == "__init__" for f in inner):
                        name = filename  # a package
                if name and name != "__init__" and "." not in name:
                    names.add(name)
    return frozenset(names)


@attrs.frozen
class Target:
    """The CPython versions a document targets and, when one interpreter was
    probed (:func:`embedcfg.checks.inspect_target`, :func:`embedcfg.build.probe`),
    what embedcfg knows about it: one type for the build, the checks and
    ``inspect``.

    A target from ``requires_python`` has only ``versions`` and ``source``;
    a probed one has everything, read in one run of the interpreter.
    """

    versions: Tuple[Version, ...]
    #: Where the versions come from, for messages: "requires_python '>=3.9'".
    source: str
    #: Build flags of a concrete interpreter; None when unknown.
    builds: Optional[FrozenSet[Build]] = None
    #: Full version of a concrete interpreter.
    full_version: Optional[Tuple[int, int, int]] = None
    #: Standard-library and built-in module names of a concrete interpreter.
    stdlib: Optional[FrozenSet[str]] = None
    #: Its standard library's directories: ``Lib`` and ``lib-dynload``.
    stdlib_dirs: Tuple[str, ...] = ()
    #: The interpreter's ``sys.executable`` ("" when no interpreter was probed).
    executable: str = ""
    #: ``sys.hexversion`` (0 when no interpreter was probed).
    hexversion: int = 0
    #: The directories of ``Python.h`` (``include`` and ``platinclude``).
    includes: Tuple[str, ...] = ()
    #: The compiler flags for shared objects (``CCSHARED``).
    ccshared: Tuple[str, ...] = ()
    #: The shared libpython, or None for a statically linked interpreter.
    libpython: Optional[str] = None
    #: The effective ``PyConfig`` and ``PyPreConfig`` members of the probe's
    #: own run, by name (``inspect`` turns them into a document); not compared.
    config: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    preconfig: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    #: Where ``config`` was read: "PyConfig_Get (PEP 741)", ...
    config_source: str = ""
    #: The magic number of its bytecode (``importlib.util.MAGIC_NUMBER``), in
    #: hex ("" when no interpreter was probed): what a packed archive must match.
    pyc_magic: str = ""

    @property
    def version(self) -> Tuple[int, int, int]:
        """The full version of the probed interpreter."""
        if self.full_version is None:
            raise ValueError(f"{self.source} is a range of versions, not one interpreter")
        return self.full_version


# The probe runs inside the target (3.8+) and only prints one JSON object.
# FLAGS (sys.flags attribute, option, inverted) comes from options.py; it is
# the fallback for builds without _testinternalcapi before 3.14.
_CONFIG = r'''
FLAGS = __FLAGS__


def sys_path_0():
    # What Py_RunMain inserts (_PyPathConfig_ComputeSysPath0), or None.
    import os, sys
    if sys.flags.safe_path or not sys.argv:
        return None
    arg = sys.argv[0]
    if arg == "-c" or arg == "":
        return ""
    if getattr(sys.modules.get("__main__"), "__spec__", None) is not None:  # -m
        return os.getcwd()
    return os.path.dirname(os.path.realpath(arg))


def effective_config():
    import sys
    out = {"config": {}, "preconfig": {}}
    ctypes = None
    if sys.version_info >= (3, 14):
        try:
            import ctypes  # PEP 741's PyConfig_Get is reached through it
        except ImportError:  # a build without _ctypes: the fallbacks below
            pass
    if ctypes is not None:
        api = ctypes.pythonapi
        api.PyConfig_Names.restype = ctypes.py_object
        api.PyConfig_Get.restype = ctypes.py_object
        api.PyConfig_Get.argtypes = [ctypes.c_char_p]
        out["source"] = "PyConfig_Get (PEP 741)"
        for name in sorted(api.PyConfig_Names()):
            value = api.PyConfig_Get(name.encode())
            if name == "xoptions" and isinstance(value, dict):
                value = [k if v is True else "%s=%s" % (k, v) for k, v in value.items()]
            if name == "module_search_paths" and value and value[0] == sys_path_0():
                # PyConfig_Get answers with the live sys.path, where Py_RunMain
                # put sys_path_0 (the -c/-m/script directory), an init-only
                # option it cannot show; get_configs() never included it.
                value = value[1:]
            out["config"][name] = value
        return out
    try:
        import _testinternalcapi
        configs = _testinternalcapi.get_configs()
    except (ImportError, AttributeError):
        pass
    else:
        out["source"] = "_testinternalcapi.get_configs()"
        out["config"] = configs["config"]
        out["preconfig"] = configs["pre_config"]
        return out
    out["source"] = "sys attributes"
    f = sys.flags
    c = out["config"]
    for flag, name, invert in FLAGS:
        if hasattr(f, flag):
            value = getattr(f, flag)
            c[name] = (not value) if invert else value
    c["module_search_paths"] = list(sys.path)
    c["pycache_prefix"] = sys.pycache_prefix
    c["warnoptions"] = list(sys.warnoptions)
    c["xoptions"] = [k if v is True else "%s=%s" % (k, v) for k, v in sys._xoptions.items()]
    for name in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix", "executable",
                 "platlibdir"):
        if hasattr(sys, name):
            c[name] = getattr(sys, name)
    c["filesystem_encoding"] = sys.getfilesystemencoding()
    c["filesystem_errors"] = sys.getfilesystemencodeerrors()
    if sys.stdout is not None:
        c["stdio_encoding"] = sys.stdout.encoding
        c["stdio_errors"] = sys.stdout.errors
    return out


def probe():
    import os, sys, sysconfig
    if sys.version_info < (3, 8):  # only say what it is: the parent refuses it
        return {"version": list(sys.version_info[:3]), "implementation": sys.implementation.name}
    v = sysconfig.get_config_var
    paths = sysconfig.get_paths()
    lib = None
    # LIBDIR is the directory configure was given; a relocated installation (a
    # tarball unpacked elsewhere, as the 3.14 test build is) has its library
    # under its own prefix instead, which sys.base_exec_prefix follows: that one
    # is what the interpreter itself runs on, so it comes first.
    libdirs = [os.path.join(sys.base_exec_prefix, getattr(sys, "platlibdir", "lib")),
               v("LIBDIR") or ""]
    if v("Py_ENABLE_SHARED"):
        for libdir in libdirs:
            for name in (v("INSTSONAME"), v("LDLIBRARY")):
                if lib is None and name and os.path.exists(os.path.join(libdir, name)):
                    lib = os.path.join(libdir, name)
    out = effective_config()
    out.update({
        "version": list(sys.version_info[:3]),
        "hexversion": sys.hexversion,
        "pyc_magic": sys.modules["_frozen_importlib_external"].MAGIC_NUMBER.hex(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "includes": sorted({paths["include"], paths["platinclude"]}),
        "ccshared": v("CCSHARED") or "-fPIC",
        "libpython": lib,
        "windows": sys.platform == "win32",
        "macos": sys.platform == "darwin",
        "debug": bool(v("Py_DEBUG")),
        "free_threaded": bool(v("Py_GIL_DISABLED")),
        "stats": bool(v("Py_STATS")),
        "stdlib": sorted(stdlib_names()),
        "stdlib_dirs": [paths["stdlib"],
                        os.path.join(paths["platstdlib"], "lib-dynload")],
    })
    return out
'''

#: The last line of :func:`script`: what makes it print (left out in-process).
PRINT = "\nimport json\nprint(json.dumps(probe(), default=str))\n"


def script(*, printing: bool = True) -> str:
    """The probe's source: run as ``python -c``, it prints one JSON object
    (``version``, ``includes``, ``stdlib``, ``config``, ``source``...); with
    ``printing=False`` it only defines ``probe()``, for running in-process."""
    import inspect
    import textwrap

    flags = repr([(o.sys_attr[len("flags."):], o.name, o.sys_inverted)
                  for o in OPTIONS.values()
                  if o.sys_attr is not None and o.sys_attr.startswith("flags.")])
    # Without its annotation, which the target would evaluate: importing
    # typing for it was a third of the probe's time.
    names = textwrap.dedent(inspect.getsource(stdlib_names))
    signature = "def stdlib_names() -> FrozenSet[str]:"
    assert signature in names
    return (names.replace(signature, "def stdlib_names():")
            + _CONFIG.replace("__FLAGS__", flags) + (PRINT if printing else ""))


_BUILDS = ((Build.WINDOWS, "windows"), (Build.MACOS, "macos"), (Build.DEBUG, "debug"),
           (Build.FREE_THREADED, "free_threaded"), (Build.STATS, "stats"))


def from_info(info: Mapping[str, Any], label: str) -> Target:
    """The :class:`Target` described by the probe's JSON; ``label`` names the
    interpreter in messages (``--target LABEL (CPython 3.12.1)``)."""
    import shlex

    if info["implementation"] != "cpython":
        raise ValueError(f"{label!r} is {info['implementation']}, not CPython")
    full = (int(info["version"][0]), int(info["version"][1]), int(info["version"][2]))
    if full < (3, 8):
        raise _too_old(label, full)
    return Target(
        versions=(full[:2],), source=f"--target {label} (CPython {'.'.join(map(str, full))})",
        builds=frozenset(b for b, key in _BUILDS if info[key]), full_version=full,
        stdlib=frozenset(info["stdlib"]), stdlib_dirs=tuple(info.get("stdlib_dirs", ())),
        executable=info["executable"],
        hexversion=info["hexversion"], includes=tuple(info["includes"]),
        ccshared=tuple(shlex.split(info["ccshared"])), libpython=info["libpython"],
        config=info.get("config", {}), preconfig=info.get("preconfig", {}),
        config_source=str(info.get("source", "unknown")),
        pyc_magic=str(info.get("pyc_magic", "")))


def probe(python: str, *, isolated: bool = True, environ: Optional[Mapping[str, str]] = None,
          timeout: float = 60.0) -> Target:
    """Run ``python`` once and describe it.

    ``isolated`` (the default, for building and checking) runs it with
    ``-I -S`` and, unless ``environ`` is given, without the ``PYTHON*``
    variables of this process: what it reports is then the installation's,
    not the caller's. ``inspect`` runs it as a user would start it instead
    (``isolated=False``, ``environ=os.environ``), since that is what it
    captures. Raises ValueError with a message for the user when it cannot
    be run or is not CPython.
    """
    env = environ if environ is not None else clean_environ(os.environ)
    try:
        info = run_json(python, ["-I", "-S"] if isolated else [], script(), env=env,
                        timeout=timeout)
    except ValueError as e:
        version = _old_version(python, env, timeout)
        if version is not None:
            raise _too_old(python, version) from e
        raise
    return from_info(info, python)


def _too_old(label: str, version: Tuple[int, ...]) -> ValueError:
    return ValueError(f"{label!r} is CPython {'.'.join(map(str, version))}; embedcfg needs"
                      " 3.8 or newer")


def _old_version(python: str, env: Mapping[str, str], timeout: float) -> Optional[Tuple[int, ...]]:
    """The version of an interpreter the probe failed on, when it is older
    than 3.8 (Python 2 refuses -I before running anything, and its own
    message says nothing useful); else None. Asked with flags every version
    knows, with nothing imported, after the probe failed only."""
    try:
        found = run_json(python, ["-E", "-s", "-S"],
                         "import sys; sys.stdout.write('[%d, %d, %d]' % sys.version_info[:3])",
                         env=env, timeout=timeout)
    except ValueError:
        return None
    if (isinstance(found, list) and len(found) == 3 and all(isinstance(n, int) for n in found)
            and tuple(found) < (3, 8)):
        return tuple(found)
    return None
