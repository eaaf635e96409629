"""The Python API: load, dump and validate documents."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple, Union

from . import checks, codec, schema
from .errors import ConfigInvalid, Problem, pointer_parts
from .model import EmbedConfig

__all__ = ["check_parsed", "dump", "dumps", "load", "loads", "validate"]

PathLike = Union[str, "os.PathLike[str]"]
TargetLike = Union[None, str, "os.PathLike[str]", checks.Target]


def _resolve_target(target: TargetLike) -> Tuple[Optional[checks.Target], List[Problem]]:
    if target is None or isinstance(target, checks.Target):
        return target, []
    try:
        return checks.inspect_target(os.fspath(target)), []
    except ValueError as e:
        return None, [Problem("EC207", f"--target: {e}")]


def _prune(raw: Any, problems: List[Problem]) -> Any:
    """A copy of ``raw`` without the values the schema rejected, so that the
    semantic rules can still run on the rest. An option is dropped alone;
    anything else drops its whole top-level key (keeping inittab indices
    stable for the problems already reported)."""
    import copy  # only documents with problems are pruned

    if not isinstance(raw, dict):
        return None
    pruned = copy.deepcopy(raw)
    for p in problems:
        parts = pointer_parts(p.pointer)
        if not parts:
            continue
        if parts[0] == "options" and len(parts) >= 2 and isinstance(pruned.get("options"), dict):
            pruned["options"].pop(parts[1], None)
        else:
            pruned.pop(parts[0], None)
    return pruned


def check_parsed(parsed: codec.Parsed, target: TargetLike = None, engine: str = "embedcfg",
                 schema_doc: Optional[Dict[str, Any]] = None,
                 ) -> Tuple[Optional[EmbedConfig], List[Problem]]:
    """Schema and semantic problems of a parsed document, located.

    Returns the model (None when the schema failed) and every problem found.
    ``schema_doc`` is :func:`embedcfg.schema.build_schema`'s result, passed
    in when many documents are checked so it is built once.
    """
    if parsed.problems:
        return None, list(parsed.problems)
    run = schema.iter_reference_problems if engine == "jsonschema" else schema.iter_problems
    problems = list(run(parsed.raw, schema_doc))
    raw = _prune(parsed.raw, problems) if problems else parsed.raw
    if not isinstance(raw, dict):  # the document is not even a table
        return None, parsed.locate(problems)
    partial = codec.structure(raw)
    resolved, target_problems = _resolve_target(target)
    cfg = None if problems else partial
    problems.extend(target_problems)
    problems.extend(checks.check(partial, resolved))
    return cfg, parsed.locate(problems)


def loads(text: Union[str, bytes], format: str = "toml", *,
          file: Optional[str] = None) -> EmbedConfig:
    """Parse a document from text; raise :class:`ConfigInvalid` if it is
    malformed or breaks the schema. Semantic rules are :func:`validate`'s."""
    parsed = codec.parse(text, format, file=file)
    return _structured(parsed)


def load(path: PathLike, format: Optional[str] = None) -> EmbedConfig:
    """Read a ``.toml`` or ``.json`` document (see :func:`loads`)."""
    return _structured(codec.read(path, format))


def _structured(parsed: codec.Parsed) -> EmbedConfig:
    if parsed.problems:
        raise ConfigInvalid(parsed.problems)
    problems = list(schema.iter_problems(parsed.raw))
    if problems:
        raise ConfigInvalid(parsed.locate(problems))
    return codec.structure(parsed.raw)


def dumps(cfg: EmbedConfig, format: str = "toml", *, schema_ref: Optional[str] = None) -> str:
    """The document as ``toml`` or ``json`` text."""
    return codec.dumps(cfg, format, schema_ref=schema_ref)


def dump(cfg: EmbedConfig, path: PathLike, *, schema_ref: Optional[str] = None) -> None:
    """Write the document to ``path`` (format from the extension), atomically."""
    fmt = codec.format_of(path)
    if fmt is None:
        raise ValueError(f"cannot tell the format of {os.fspath(path)!r}: use .json or .toml")
    codec.write_atomic(path, codec.dumps(cfg, fmt, schema_ref=schema_ref).encode("utf-8"))


def validate(cfg: EmbedConfig, target: TargetLike = None, *,
             config_dir: Optional[PathLike] = None,
             host: Optional[PathLike] = None) -> List[Problem]:
    """Every problem of a document built in code or loaded: the schema's
    (types, ranges, names) and the semantic rules. ``target`` is a python
    executable (or a :class:`~embedcfg.checks.Target`) to check against.

    With ``config_dir`` (what ``$CONFIG_DIR`` means) or ``host`` (the built
    host program), the inittab's init functions are looked up as well, as
    ``embedcfg validate [--host]`` does: every one the C shim would not find
    is an EC505 problem."""
    raw = codec.unstructure(cfg)
    problems = list(schema.iter_problems(raw))
    pruned = codec.structure(_prune(raw, problems)) if problems else cfg
    resolved, target_problems = _resolve_target(target)
    found = problems + target_problems + checks.check(pruned, resolved)
    if not problems and cfg.inittab and (config_dir is not None or host is not None):
        from ._symbols import symbol_problems

        found.extend(symbol_problems(cfg, config_dir=config_dir, host=host))
    return found
