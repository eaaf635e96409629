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
import sys
from typing import Any, Dict, Mapping, Optional, Tuple

import attrs

from ._probe import Target, clean_environ, from_info, probe, script
from .model import EmbedConfig, Profile
from .options import OPTIONS, Kind, Option
from .schema import iter_problems, option_schema

__all__ = ["Inspection", "SKIPPED", "environment_sources", "from_probe", "inspect"]

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
    #: option name -> the ``PYTHON*`` variable it was (or may have been) read
    #: from, as ``NAME=value``: the inspected setup's environment, not its
    #: configuration, so a document that pins it pins the shell too.
    from_environment: Mapping[str, str] = attrs.field(factory=dict)


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
    """Build the inspection from the probe's JSON output
    (``embedcfg._probe.script()``, run in the inspected interpreter)."""
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


def _from_target(target: Target) -> Inspection:
    return from_probe({"version": list(target.version), "config": target.config,
                       "preconfig": target.preconfig, "source": target.config_source})


def environment_sources(cfg: EmbedConfig, environ: Mapping[str, str]) -> Dict[str, str]:
    """The options of ``cfg`` whose ``PYTHON*`` variable (options.py's ``env``)
    is set in ``environ``, which the inspected interpreter started with:
    option name -> ``NAME=value``. Empty when it ignored its environment."""
    if cfg.options.get("use_environment") is False:
        return {}
    found: Dict[str, str] = {}
    for name in cfg.options:
        variable = OPTIONS[name].env
        if variable is not None and environ.get(variable):
            found[name] = f"{variable}={environ[variable]}"
    return found


def inspect(python: Optional[str] = None, timeout: float = 60.0, *,
            clean_environment: bool = False) -> Inspection:
    """The effective configuration of ``python`` (default: this interpreter).

    A given interpreter is run as it would start for a user: with the current
    environment, so its ``PYTHON*`` variables count (the result's
    ``from_environment`` says which). ``clean_environment`` runs it without
    them instead (this interpreter too, in a new process). Raises ValueError
    when it cannot be run.
    """
    environ: Mapping[str, str] = os.environ
    if clean_environment:
        environ = clean_environ(os.environ)
        python = python or sys.executable
    if python is None:
        namespace: Dict[str, Any] = {}
        # The same probe, run here: its function is called instead of printing.
        exec(compile(script(printing=False), "<embedcfg-probe>", "exec"), namespace)
        info = json.loads(json.dumps(namespace["probe"](), default=str))
        found = _from_target(from_info(info, sys.executable))
    else:
        found = _from_target(probe(python, isolated=False, environ=environ, timeout=timeout))
    return attrs.evolve(found, from_environment=environment_sources(found.config, environ))
