"""The effective configuration of a real interpreter, as a document.

``embedcfg inspect`` captures a working setup so it can be pinned. Where the
values come from depends on the version and build:

- CPython 3.14+: PEP 741's ``PyConfig_Names()`` / ``PyConfig_Get()``, called
  through ctypes (the public API for exactly this);
- 3.8-3.13 builds that ship the test modules (pyenv, python.org):
  ``_testinternalcapi.get_configs()``, the whole ``PyConfig``/``PyPreConfig``;
- otherwise the public ``sys`` attributes (``sys.flags``, ``sys.path``,
  ``sys.pycache_prefix``, ...): fewer options, but every one of them exact.

Options that describe the inspecting process itself rather than the setup
(``argv``, the ``run_*`` options of the probe, ``sys_path_0``) are left out,
as are private members.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Mapping, Optional, Tuple

import attrs

from .model import EmbedConfig, Profile
from .options import OPTIONS, Kind, Option
from .schema import iter_problems, option_schema

__all__ = ["Inspection", "PROBE", "SKIPPED", "from_probe", "inspect"]

#: Options not captured, and why.
SKIPPED: Mapping[str, str] = {
    "argv": "the arguments of the inspecting process",
    "orig_argv": "the command line of the inspecting process",
    "run_command": "the inspecting process's own code",
    "run_filename": "the inspecting process's own script",
    "run_module": "the inspecting process's own module",
    "sys_path_0": "set by Py_RunMain for the inspecting process",
    "module_search_paths_set": "implied by module_search_paths",
    "parse_argv": "only meaningful with the original command line",
}

# The probe runs inside the inspected interpreter (3.8+): it only prints JSON.
# FLAGS (sys.flags attribute, option, inverted) comes from options.py.
PROBE = r'''
import json, sys

FLAGS = __FLAGS__

def sys_path_0():
    # What Py_RunMain inserts (_PyPathConfig_ComputeSysPath0), or None.
    import os
    if sys.flags.safe_path or not sys.argv:
        return None
    arg = sys.argv[0]
    if arg == "-c" or arg == "":
        return ""
    if getattr(sys.modules.get("__main__"), "__spec__", None) is not None:  # -m
        return os.getcwd()
    return os.path.dirname(os.path.realpath(arg))

def probe():
    out = {"version": list(sys.version_info[:3]), "config": {}, "preconfig": {}}
    if sys.version_info >= (3, 14):
        import ctypes
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

print(json.dumps(probe(), default=str))
'''.replace("__FLAGS__", repr([(o.flag, o.name, o.flag_inverted)
                                for o in OPTIONS.values() if o.flag is not None]))

_ALLOCATOR_NAMES = {v: k for k, v in (OPTIONS["allocator"].choices or {}).items()}


@attrs.frozen
class Inspection:
    """What ``inspect`` found: the document, where it came from, what was left out."""

    config: EmbedConfig
    #: Where the values were read: "PyConfig_Get (PEP 741)", ...
    source: str
    version: Tuple[int, int, int]
    #: option name -> why it is not in the document.
    skipped: Mapping[str, str]


def _convert(opt: Option, value: Any) -> Tuple[Optional[Any], Optional[str]]:
    """The document value of a raw config value, or None and the reason."""
    if value is None:
        return None, "not set"
    if opt.name == "allocator":
        name = _ALLOCATOR_NAMES.get(value)
        return (name, None) if name else (None, "not set")
    kind = opt.value_kind
    if kind is Kind.BOOL:
        if value in (0, 1):
            return bool(value), None
        return None, f"value {value!r} is CPython's 'not read yet' sentinel"
    if kind is Kind.STR_LIST:
        return [str(v) for v in value], None
    if kind is Kind.INT:
        return int(value), None
    return str(value), None


def from_probe(data: Mapping[str, Any]) -> Inspection:
    """Build the inspection from the probe's JSON output."""
    version = (int(data["version"][0]), int(data["version"][1]), int(data["version"][2]))
    raw: Dict[str, Any] = {**data.get("preconfig", {}), **data.get("config", {})}
    options: Dict[str, Any] = {}
    skipped: Dict[str, str] = {}
    for name, value in raw.items():
        opt = OPTIONS.get(name)
        if opt is None or opt.private:
            continue
        if name in SKIPPED:
            skipped[name] = SKIPPED[name]
            continue
        converted, why = _convert(opt, value)
        if converted is None:
            skipped[name] = why or "no value"
            continue
        problems = list(iter_problems(converted, option_schema(opt)))
        if problems:
            skipped[name] = f"value {converted!r} is outside the option's range"
            continue
        options[name] = converted
    isolated = bool(raw.get("isolated", False))
    cfg = EmbedConfig(profile=Profile.ISOLATED if isolated else Profile.PYTHON,
                      requires_python=f"=={version[0]}.{version[1]}.*", options=options)
    return Inspection(config=cfg, source=str(data.get("source", "unknown")), version=version,
                      skipped=skipped)


def inspect(python: Optional[str] = None, timeout: float = 60.0) -> Inspection:
    """The effective configuration of ``python`` (default: this interpreter).

    A given interpreter is run as it would start for a user: with the current
    environment, so its ``PYTHON*`` variables count. Raises ValueError when it
    cannot be run.
    """
    if python is None:
        namespace: Dict[str, Any] = {}
        # The probe prints; capture by running its function directly.
        exec(compile(PROBE.replace("print(json.dumps(probe(), default=str))", ""),
                     "<embedcfg-probe>", "exec"), namespace)
        data = json.loads(json.dumps(namespace["probe"](), default=str))
        return from_probe(data)
    from ._probe import run_json

    return from_probe(run_json(python, [], PROBE, env=os.environ, timeout=timeout))
