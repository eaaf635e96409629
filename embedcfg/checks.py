"""Semantic rules the JSON Schema cannot express.

Each rule yields :class:`~embedcfg.errors.Problem` records with a stable code
(see the problem-code reference). Rules that depend on the CPython
versions a document targets take a :class:`Target`: the versions admitted by
``requires_python``, or one real interpreter (``--target``).
"""

from __future__ import annotations

import codecs
import keyword
import re
from typing import Dict, FrozenSet, Iterator, List, Optional, Sequence, Tuple

from ._probe import Target, probe, stdlib_names
from .document import (
    ANCHORS,
    ARCHIVE_SUFFIXES,
    RUN_OPTIONS,
    SUPPORTED,
    PREFIX_MODES,
    Anchoring,
    document_paths,
    expand,
    pycache_options,
)
from .errors import Problem, Severity, pointer_from_parts
from .model import EmbedConfig, Profile, PycacheMode, StaticModules
from .options import (
    KNOWN_VERSIONS,
    Build,
    OPTIONS,
    Option,
    Version,
    Visibility,
    format_version,
)

__all__ = [
    "ANCHORS",
    "Target",
    "archive_problems",
    "check",
    "inspect_target",
    "parse_requires_python",
    "static_lib_problems",
    "static_lib_stem",
    "stdlib_names",
    "stdlib_problems",
    "target_from_requires",
]

_WARN = Severity.WARNING
_SPEC = r"\s*(~=|==|!=|<=|>=|<|>)\s*(\d+)(?:\.(\d+|\*))?(?:\.(\d+|\*))?\s*\Z"


def _is_c_identifier(s: str) -> bool:
    return s.isascii() and s.isidentifier()


def parse_requires_python(spec: str) -> List[Tuple[str, Tuple[int, ...], bool]]:
    """Parse ``'>=3.9,<3.14'`` into ``(op, version, wildcard)`` triples.

    Raises ValueError with a message for the user on anything else.
    """
    out = []
    for item in spec.split(","):
        m = re.match(_SPEC, item)
        if not m:
            raise ValueError(f"{item.strip()!r} is not a version specifier such as '>=3.10'")
        op, major, minor, micro = m.groups()
        wildcard = "*" in (minor, micro)
        if wildcard and op not in ("==", "!="):
            raise ValueError(f"{item.strip()!r}: '.*' only goes with == and !=")
        if minor == "*" and micro is not None:
            raise ValueError(f"{item.strip()!r}: '.*' must come last")
        nums = tuple(int(x) for x in (major, minor, micro) if x is not None and x != "*")
        if op == "~=" and len(nums) < 2:
            raise ValueError(f"{item.strip()!r}: ~= needs at least two parts, as in ~=3.10")
        out.append((op, nums, wildcard))
    return out


def _satisfies(version: Tuple[int, int, int],
               specs: Sequence[Tuple[str, Tuple[int, ...], bool]]) -> bool:
    for op, nums, wildcard in specs:
        head = version[: len(nums)]
        padded = nums + (0,) * (3 - len(nums))
        if op == "==":
            ok = head == nums if wildcard else version == padded
        elif op == "!=":
            ok = head != nums if wildcard else version != padded
        elif op == ">=":
            ok = version >= padded
        elif op == "<=":
            ok = version <= padded
        elif op == ">":
            ok = version > padded
        elif op == "<":
            ok = version < padded
        else:  # ~=: >= the version, == its prefix without the last part
            ok = version >= padded and version[: len(nums) - 1] == nums[:-1]
        if not ok:
            return False
    return True


def _minor_admitted(minor: Version, specs: Sequence[Tuple[str, Tuple[int, ...], bool]]) -> bool:
    # A minor is targeted when some release of it satisfies the range; the
    # patch levels that can make a difference are 0, a large one, and those
    # the specifiers name (and their neighbours).
    patches = {0, 999}
    for _, nums, _ in specs:
        if len(nums) == 3:
            patches.update({nums[2], max(nums[2] - 1, 0), nums[2] + 1})
    return any(_satisfies((minor[0], minor[1], p), specs) for p in patches)


def target_from_requires(spec: str) -> Target:
    """The known CPython minors that ``spec`` admits (ValueError if invalid)."""
    specs = parse_requires_python(spec)
    versions = tuple(v for v in KNOWN_VERSIONS if _minor_admitted(v, specs))
    return Target(versions=versions, source=f"requires_python {spec!r}")


def inspect_target(python: str, timeout: float = 30.0) -> Target:
    """Run ``python`` to learn its version, build and standard library (the
    one probe, ``embedcfg._probe.probe``).

    Raises ValueError with a user-facing message when it cannot be run.
    """
    return probe(python, timeout=timeout)


def archive_problems(cfg: EmbedConfig, target: Target, *, config_dir: Optional[str],
                     origin: Optional[str] = None) -> List[Problem]:
    """EC700-EC702: the archives of ``cfg`` as the launcher will check them
    before init, on this machine, for ``target`` (archives under an anchor
    that cannot be expanded here, such as $ORIGIN without ``origin``, are
    left to the launcher)."""
    from .document import expand
    from .pack import ArchiveError, read_archive_file

    if config_dir is not None:
        import os

        config_dir = os.path.realpath(config_dir)
    problems: List[Problem] = []
    for i, archive in enumerate(cfg.archives):
        path = expand(archive.path, origin=origin, config_dir=config_dir)
        if path is None:
            continue  # EC400 / EC401, or an $ORIGIN only the launcher knows
        label = f"archives[{i}].path: {path}"
        try:
            info = read_archive_file(path, what=label)
        except ArchiveError as e:
            code = "EC700" if "cannot read it" in str(e) else "EC701"
            problems.append(_p(code, str(e), "archives", i, "path"))
            continue
        if target.full_version is None:
            continue
        wanted = target.version[:2]
        if info.version != wanted or (target.pyc_magic and info.magic.hex() != target.pyc_magic):
            problems.append(_p(
                "EC702", f"{label} was packed for CPython {info.version[0]}.{info.version[1]}"
                f" (bytecode magic {info.magic.hex()}), the target is"
                f" {wanted[0]}.{wanted[1]} (magic {target.pyc_magic or 'unknown'}): rebuild it"
                " with embedcfg pack --python TARGET", "archives", i, "path"))
    return problems


def _p(code: str, message: str, *parts: object, severity: Severity = Severity.ERROR) -> Problem:
    return Problem(code, message, pointer_from_parts(parts), severity)


def check(cfg: EmbedConfig, target: Optional[Target] = None) -> List[Problem]:
    """Every semantic problem of ``cfg``.

    Without ``target``, the versions come from ``requires_python``; without
    either, version rules are skipped (the shim still checks at run time).
    """
    problems: List[Problem] = []
    targets = _targets(cfg, target, problems)
    for t in targets:
        problems.extend(_version_rules(cfg, t))
    problems.extend(_conflicts(cfg))
    problems.extend(_paths(cfg))
    stdlib = target.stdlib if target is not None and target.stdlib is not None else stdlib_names()
    problems.extend(_inittab(cfg, stdlib))
    problems.extend(_values(cfg))
    return problems


def _targets(cfg: EmbedConfig, target: Optional[Target], problems: List[Problem]) -> List[Target]:
    required: Optional[Target] = None
    if cfg.requires_python is not None:
        try:
            required = target_from_requires(cfg.requires_python)
        except ValueError as e:
            problems.append(_p("EC203", f"requires_python: {e}", "requires_python"))
        else:
            if not required.versions:
                problems.append(_p(
                    "EC205", f"requires_python {cfg.requires_python!r} admits no CPython"
                    f" version from {SUPPORTED}", "requires_python"))
                required = None
    if target is None:
        return [required] if required is not None else []
    if cfg.requires_python is not None and target.full_version is not None:
        try:
            ok = _satisfies(target.full_version, parse_requires_python(cfg.requires_python))
        except ValueError:
            ok = True  # already reported as EC203
        if not ok:
            problems.append(_p("EC204", f"{target.source} is outside requires_python"
                               f" {cfg.requires_python!r}", "requires_python"))
    return [target]


def _spell(value: object) -> str:
    """A value as a document spells it, for messages. json is imported here,
    on the first problem, not at import: most documents have none."""
    import json

    return json.dumps(value)


def _version_rules(cfg: EmbedConfig, target: Target) -> Iterator[Problem]:
    oldest, newest = min(target.versions), max(target.versions)
    for name, value in cfg.options.items():
        opt = OPTIONS.get(name)
        if opt is None:
            continue
        if opt.since > oldest:
            yield _p("EC200", f"option {name!r} needs CPython {format_version(opt.since)} or"
                     f" newer, but {target.source} admits {format_version(oldest)}; require"
                     f" '>={format_version(opt.since)}' or remove the option", "options", name)
        elif opt.until is not None and opt.until < newest:
            yield _p("EC201", f"option {name!r} was removed after CPython"
                     f" {format_version(opt.until)}, but {target.source} admits"
                     f" {format_version(newest)}; remove the option", "options", name)
        needs = _value_since(opt, value)
        if needs is not None and needs > oldest:
            yield _p("EC202", f"option {name!r} = {_spell(value)} needs CPython"
                     f" {format_version(needs)} or newer, but {target.source} admits"
                     f" {format_version(oldest)}", "options", name)
        if opt.build is not None:
            yield from _build_rule(opt, target)


def _value_since(opt: Option, value: object) -> Optional[Version]:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    return opt.values_since.get(value)


def _build_rule(opt: Option, target: Target) -> Iterator[Problem]:
    what = opt.build.label if opt.build is not None else ""
    if target.builds is None:
        yield _p("EC206", f"option {opt.name!r} exists only on {what} builds of CPython;"
                 " elsewhere the shim refuses it", "options", opt.name, severity=_WARN)
    elif opt.build not in target.builds:
        yield _p("EC206", f"option {opt.name!r} exists only on {what} builds of CPython, and"
                 f" {target.source} is not one; remove the option", "options", opt.name)


def _conflicts(cfg: EmbedConfig) -> Iterator[Problem]:
    opts = cfg.options
    runs = [n for n in RUN_OPTIONS if n in opts]
    for extra in runs[1:]:
        yield _p("EC300", f"{' and '.join(repr(r) for r in runs)} are exclusive: CPython runs"
                 f" only one; keep one of them", "options", extra)
    yield from _pycache_rules(cfg)
    if cfg.embedded:
        # Only CPython's inittab is fixed at init; the indexed importer (the
        # automatic choice when embedded) is installed into the running one.
        if cfg.inittab and cfg.static_modules is StaticModules.INITTAB:
            yield _p("EC302", "static_modules = \"inittab\" cannot work with embedded ="
                     " true: the interpreter already runs, and CPython aborts the process when"
                     " its inittab is extended after init; set static_modules = \"indexed\""
                     " (or remove it), or set embedded = false", "static_modules")
        for name in opts:
            opt = OPTIONS.get(name)
            if opt is not None and opt.visibility is not Visibility.PUBLIC:
                yield _p("EC306", f"option {name!r} is fixed at init and cannot be applied when"
                         " attaching (embedded = true); the shim will report it as not"
                         " applied", "options", name, severity=_WARN)
    isolated = opts.get("isolated", cfg.profile is Profile.ISOLATED)
    if isolated:
        for name, forced in (("safe_path", True), ("use_environment", False),
                             ("user_site_directory", False)):
            if name in opts and opts[name] != forced:
                yield _p("EC303", f"option {name!r} = {_spell(opts[name])} has no effect:"
                         f" isolated mode forces it to {_spell(forced)}; remove it, or set"
                         " isolated = false (or profile = \"python\")", "options", name,
                         severity=_WARN)
    if opts.get("module_search_paths_set") is True and "module_search_paths" not in opts:
        yield _p("EC304", "module_search_paths_set = true without module_search_paths starts"
                 " CPython with an empty sys.path ('Failed to import encodings module'); give"
                 " module_search_paths instead", "options", "module_search_paths_set")


def _pycache_rules(cfg: EmbedConfig) -> Iterator[Problem]:
    pc = cfg.pycache
    if pc is None:
        return
    if pc.mode is not None and PREFIX_MODES.get(pc.mode) and pc.prefix is None:
        yield _p("EC305", f"pycache mode '{pc.mode.value}' needs a prefix: add prefix ="
                 " \"$ORIGIN/pycache\" (or another absolute or anchored directory)",
                 "pycache", "mode")
    if pc.prefix is not None and pc.mode not in PREFIX_MODES:
        mode = pc.mode.value if pc.mode is not None else "unset"
        yield _p("EC305", "pycache prefix is only used with mode = \"prefix\" (bytecode read"
                 " and written there) or mode = \"readonly\" (only read from there), and mode"
                 f" is {mode}: set one of them, or remove the prefix", "pycache", "prefix")
    for name, value in pycache_options(pc).items():
        if name in cfg.options and cfg.options[name] != value:
            yield _p("EC301", f"option {name!r} = {_spell(cfg.options[name])} contradicts the"
                     f" [pycache] policy, which sets it to {_spell(value)}; remove the"
                     " option", "options", name)
    if pc.mode is PycacheMode.DEFAULT and "pycache_prefix" in cfg.options:
        yield _p("EC301", "option 'pycache_prefix' contradicts pycache mode 'default'"
                 " (caches beside the sources); use mode = \"prefix\" with a prefix instead",
                 "options", "pycache_prefix")


def _path_problem(value: str, *parts: object, allow_name: bool = False) -> Optional[Problem]:
    what = ".".join(str(p) for p in parts)
    if value.startswith("$"):
        m = re.match(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(\}?)", value)
        name = "$" + m.group(1) if m else value.split("/")[0]
        if m and m.group(2) and name in ANCHORS:
            return _p("EC401", f"{what}: write {name} without braces", *parts)
        if name not in ANCHORS or value[len(name):][:1] not in ("", "/"):
            return _p("EC401", f"{what}: {name!r} is not a known anchor; use $ORIGIN (the"
                      " launcher's directory), $CONFIG_DIR (this document's directory) or an"
                      " absolute path", *parts)
        return None
    if _is_absolute(value):
        return None
    if allow_name and "/" not in value and "\\" not in value:
        return None  # a library name, searched by dlopen in the system directories only
    return _p("EC400", f"{what}: {value!r} is a relative path, which would resolve against"
              " the current directory; write $CONFIG_DIR/" + value.lstrip("./") +
              " or $ORIGIN/... or an absolute path", *parts)


def _is_absolute(value: str) -> bool:
    return value.startswith("/") or bool(re.match(r"[A-Za-z]:[\\/]|\\\\", value))


def _paths(cfg: EmbedConfig) -> Iterator[Problem]:
    for pv in document_paths(cfg):
        problem = _path_problem(pv.value, *pv.parts,
                                allow_name=pv.rule.anchoring is Anchoring.LIBRARY)
        if problem is not None:
            yield problem


def _inittab(cfg: EmbedConfig, stdlib: FrozenSet[str]) -> Iterator[Problem]:
    seen: Dict[str, int] = {}
    for i, entry in enumerate(cfg.inittab):
        parts = entry.name.split(".")
        if not entry.name.isascii() and all(p.isidentifier() for p in parts):
            yield _p("EC504", f"inittab name {entry.name!r} is not ASCII: PEP 489 names the"
                     " init function of such a module PyInitU_ followed by the punycode of"
                     " its name, which embedcfg does not support; give the module an ASCII"
                     " name", "inittab", i, "name")
        elif not all(_is_c_identifier(p) and not keyword.iskeyword(p) for p in parts):
            yield _p("EC500", f"inittab name {entry.name!r} is not a dotted Python identifier"
                     " (ASCII letters, digits and '_', parts separated by '.'); CPython would"
                     " accept it but it could never be imported", "inittab", i, "name")
        elif entry.name in seen:
            yield _p("EC501", f"inittab name {entry.name!r} is already registered by entry"
                     f" {seen[entry.name]}; keep one", "inittab", i, "name")
        elif entry.name in stdlib:
            yield _p("EC502", f"inittab name {entry.name!r} shadows the standard-library module"
                     f" of the same name; rename it (for example 'myapp.{entry.name}')",
                     "inittab", i, "name")
        seen.setdefault(entry.name, i)
        if entry.init is not None and not _is_c_identifier(entry.init):
            yield _p("EC503", f"inittab init {entry.init!r} is not a C identifier; give the"
                     " name of the init function, such as"
                     f" 'PyInit_{parts[-1] if _is_c_identifier(parts[-1]) else 'name'}'",
                     "inittab", i, "init")


def _values(cfg: EmbedConfig) -> Iterator[Problem]:
    for name in ("filesystem_encoding", "stdio_encoding"):
        value = cfg.options.get(name)
        if isinstance(value, str):
            try:
                codecs.lookup(value)
            except LookupError:
                yield _p("EC600", f"option {name!r}: {value!r} is not a codec Python knows;"
                         " use a name such as 'utf-8'", "options", name)
    for name in ("filesystem_errors", "stdio_errors"):
        value = cfg.options.get(name)
        if isinstance(value, str):
            try:
                codecs.lookup_error(value)
            except LookupError:
                yield _p("EC600", f"option {name!r}: {value!r} is not an error handler Python"
                         " knows; use one such as 'strict' or 'surrogateescape'",
                         "options", name)


# The standard library: CPython imports encodings before anything else runs.

def _holds_encodings(path: str) -> bool:
    """Whether a module search path entry provides the encodings package."""
    import os

    if path.endswith(ARCHIVE_SUFFIXES):
        if not os.path.isfile(path):
            return False
        import zipfile  # only for a zip on the path

        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (OSError, zipfile.BadZipFile):
            return False
        return bool({"encodings/__init__.py", "encodings/__init__.pyc"} & names)
    return any(os.path.isfile(os.path.join(path, "encodings", name))
               for name in ("__init__.py", "__init__.pyc"))


def _stdlib_archive(cfg: EmbedConfig, *, config_dir: Optional[str],
                    origin: Optional[str]) -> bool:
    """Whether an archive of ``cfg`` provides the standard library: a
    ``before_path`` one (installed before init imports encodings) packed with
    ``--stdlib``, by its header, as the launcher judges it. One that cannot be
    expanded or read counts: EC400/EC700/EC701 say what is wrong with it."""
    from .model import ArchivePosition
    from .pack import FLAG_STDLIB, peek_flags

    for archive in cfg.archives:
        if archive.position is ArchivePosition.AFTER_PATH:
            continue
        path = expand(archive.path, origin=origin, config_dir=config_dir)
        flags = peek_flags(path) if path is not None else None
        if flags is None or flags & FLAG_STDLIB:
            return True
    return False


def stdlib_problems(cfg: EmbedConfig, *, config_dir: Optional[str], origin: Optional[str],
                    target: Optional[Target] = None) -> List[Problem]:
    """EC420 when ``module_search_paths`` (which is sys.path exactly) has no
    entry holding the standard library's ``encodings`` package, and no
    ``before_path`` archive was packed with it, without which CPython stops
    during init ("Failed to import encodings module").

    An error with a target (an interpreter of this machine, which says where
    its standard library is), a warning without. Not judged: an entry that
    cannot be expanded here (``$ORIGIN`` without ``origin``), or, without a
    target, an absolute one (it names the machine the document is deployed
    on), since either may hold it; an embedded document (the running
    interpreter has its standard library already).
    """
    paths = cfg.options.get("module_search_paths")
    if not isinstance(paths, tuple) or cfg.embedded:
        return []  # CPython computes the path, with the standard library
    expanded = [expand(p, origin=origin, config_dir=config_dir) for p in paths]
    if target is None and any(p.startswith("/") for p in paths):
        return []
    if any(p is None for p in expanded) or any(_holds_encodings(p) for p in expanded if p):
        return []
    if _stdlib_archive(cfg, config_dir=config_dir, origin=origin):
        return []
    if target is not None and target.stdlib_dirs:
        fix = ("add the standard library of " + target.source + ": "
               + ", ".join(repr(d) for d in target.stdlib_dirs))
        severity = Severity.ERROR
    else:
        fix = ("add the standard library directory of the CPython it runs (such as"
               " '.../lib/python3.X' and its 'lib-dynload')")
        severity = _WARN
    return [_p("EC420", "options.module_search_paths: no entry holds the standard library"
               " (its encodings package, which CPython imports first) and no archive packs it,"
               f" so the interpreter cannot start; {fix} (or pack it: embedcfg pack --stdlib)",
               "options", "module_search_paths", severity=severity)]


# The static launcher (embedcfg build --link static): libpython is linked in.

def static_lib_stem(target: Target) -> str:
    """What the names of ``target``'s libraries start with, before ``.so``
    or ``.a``: ``libpython3.11``, ``libpython3.13t`` (free-threaded),
    ``libpython3.12d`` (debug); sysconfig ``LIBRARY`` without ``.a``."""
    major, minor = target.version[:2]
    builds = target.builds or frozenset()
    flags = ("t" if Build.FREE_THREADED in builds else "") + ("d" if Build.DEBUG in builds else "")
    return f"libpython{major}.{minor}{flags}"


def static_lib_problems(cfg: EmbedConfig, target: Target) -> List[Problem]:
    """EC208: a ``lib`` that the static launcher built for ``target`` refuses.

    That launcher has the interpreter linked in and loads nothing, so
    ``lib`` may only be absent or name a library of the same CPython (its
    file name starts with :func:`static_lib_stem` and a dot: the shared
    ``libpython3.11.so.1.0``, a path to it, the static ``libpython3.11.a``);
    the same rule, on the expanded path's file name, as the launcher's.
    """
    import os

    if cfg.lib is None or target.full_version is None:
        return []
    stem = static_lib_stem(target)
    base = os.path.basename(cfg.lib)
    if base.startswith(stem + "."):
        return []
    want = f"{target.version[0]}.{target.version[1]}"
    m = re.match(r"libpython(\d+)\.(\d+)", base)
    if m is not None:
        named = f"a CPython {m.group(1)}.{m.group(2)} library"
        other = (f", or build a static launcher for CPython {m.group(1)}.{m.group(2)}"
                 f" (embedcfg build --link static --python python{m.group(1)}.{m.group(2)})")
    else:
        named, other = f"not a CPython {want} library", ""
    return [_p("EC208", f"lib: {cfg.lib} is {named}, but the static launcher of {target.source}"
               f" has CPython {want} linked in, which would run instead; remove lib or set it"
               f" to the CPython {want} library ({stem}.so){other}", "lib")]
