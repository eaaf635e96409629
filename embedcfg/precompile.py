"""Compile a document's modules ahead of time, where its pycache policy reads them.

``embedcfg precompile DOCUMENT`` compiles every module reachable on the
document's ``module_search_paths`` with the *target* interpreter, since a
``.pyc`` is only valid for the CPython minor that wrote it. The target's
standard library (without its test suite) is compiled only with ``--stdlib``,
whether or not the document lists it: the installation is not precompile's
to change unless asked. The bytecode goes exactly where
the document's policy will look for it:

* ``pycache.mode = "prefix"``, ``mode = "readonly"`` with a ``prefix`` (the
  run only reads that tree: a read-only image whose bytecode is on another
  mount), or a raw ``pycache_prefix`` option: the mirrored tree under the
  prefix, as ``sys.pycache_prefix`` computes it in the target interpreter
  (``importlib.util.cache_from_source``);
* otherwise ``__pycache__`` beside the sources (``default``, ``readonly``).

``mode = "off"`` is refused: it means "no bytecode cache", so there is
nothing to precompile for it (use ``readonly``).

The document's ``optimization_level`` selects the ``.opt-N.pyc`` name.
``unchecked_hash`` writes PEP 552 unchecked hash-based pycs, which stay valid
whatever the sources' modification times become (an image layer, a
reproducible build) and are never compared with the sources: for immutable
images only.

Nothing is half-written: the target compiles each module to a temporary file
in the destination directory; only when every module compiled are they all
renamed into place. Otherwise (or on an interruption) the temporary files and
the directories the run created are removed, and the failures are returned.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import attrs

from ._probe import clean_environ
from .document import expand, pycache_options
from .errors import ConfigInvalid
from .model import EmbedConfig, PycacheMode

__all__ = [
    "Failure",
    "PrecompileError",
    "PrecompileResult",
    "Progress",
    "plan",
    "precompile",
]

#: ``progress(done, total, source)``: called after each module.
Progress = Callable[[int, int, str], None]

#: Directories of the standard library left out with ``--stdlib``: the test
#: suite, as distributions do (some of its files are invalid on purpose).
STDLIB_EXCLUDED_DIRS = ("test", "tests", "idle_test")


class PrecompileError(ValueError):
    """The document cannot be precompiled as asked (nothing was written)."""


@attrs.frozen
class Failure:
    """A module that did not compile."""

    source: str
    message: str


@attrs.frozen
class Plan:
    """What a run compiles, and where to."""

    #: Directories to walk, as the interpreter will see them on sys.path.
    roots: Tuple[str, ...]
    #: The pycache prefix, or None for __pycache__ beside the sources.
    prefix: Optional[str]
    optimization: int
    #: "timestamp" or "unchecked-hash".
    invalidation: str
    #: Search path entries that are not compiled, with the reason.
    skipped: Tuple[Tuple[str, str], ...]


@attrs.frozen
class PrecompileResult:
    """The outcome of :func:`precompile`."""

    python: str
    version: Tuple[int, int, int]
    plan: Plan
    #: Modules compiled in this run.
    compiled: int
    #: Modules whose existing .pyc already matched (left untouched).
    up_to_date: int
    failed: Tuple[Failure, ...]
    seconds: float
    #: Compiler warnings (SyntaxWarning...), one per occurrence.
    warnings: Tuple[Failure, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every module compiled (and so was written)."""
        return not self.failed

    @property
    def destination(self) -> str:
        """Where the bytecode went, in words."""
        if self.plan.prefix is not None:
            return f"the prefix tree {self.plan.prefix}"
        return "__pycache__ beside the sources"

    def summary(self) -> str:
        """The one summary line."""
        version = ".".join(map(str, self.version))
        total = self.compiled + self.up_to_date + len(self.failed)
        kind = "unchecked hash-based" if self.plan.invalidation == "unchecked-hash" \
            else "timestamp"
        where = (f"for CPython {version}, optimization level {self.plan.optimization},"
                 f" {kind} pycs, into {self.destination}")
        if self.failed:
            return (f"precompile failed: {len(self.failed)} of {total} modules did not compile"
                    f" ({where}); nothing was written")
        return (f"precompiled {total} modules ({self.compiled} compiled, {self.up_to_date} up"
                f" to date) {where} in {self.seconds:.1f}s")


# The driver runs in the target interpreter (-I -S -B): it only compiles to
# temporary files and says what it did, one JSON line per event. The parent
# decides whether to rename them into place or remove them.
_DRIVER = r'''
import importlib.util, json, os, py_compile, sys, sysconfig, warnings

job = json.loads(sys.stdin.read())
opt = job["optimization"]
mode = (py_compile.PycInvalidationMode.UNCHECKED_HASH if job["invalidation"] == "unchecked-hash"
        else py_compile.PycInvalidationMode.TIMESTAMP)
stdlib = sysconfig.get_path("stdlib")
excluded = set(job["stdlib_excluded"])
magic = importlib.util.MAGIC_NUMBER


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def in_stdlib(path):
    return path == stdlib or path.startswith(stdlib.rstrip("/") + "/")


def modules(root):
    # What the import system can reach: identifier names only (a directory
    # named "site-packages" or "my-scripts" can never be a package).
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d.isidentifier()
                         and not (d in excluded and in_stdlib(os.path.join(top, d))))
        for name in sorted(files):
            if name.endswith(".py") and name[:-3].isidentifier():
                yield os.path.join(top, name)


def cache_path(source):
    sys.pycache_prefix = job["prefix"]
    try:
        return importlib.util.cache_from_source(source, optimization=opt if opt else "")
    finally:
        sys.pycache_prefix = None


def up_to_date(source, cfile):
    try:
        with open(cfile, "rb") as f:
            head = f.read(16)
        st = os.stat(source)
    except OSError:
        return False
    if len(head) < 16 or head[:4] != magic:
        return False
    flags = int.from_bytes(head[4:8], "little")
    if mode is py_compile.PycInvalidationMode.TIMESTAMP:
        return (flags == 0 and int.from_bytes(head[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
                and int.from_bytes(head[12:16], "little") == st.st_size & 0xFFFFFFFF)
    if flags != 1:
        return False
    with open(source, "rb") as f:
        return importlib.util.source_hash(f.read()) == head[8:16]


def makedirs(directory):
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for d in reversed(missing):
        os.mkdir(d, 0o755)
        emit(event="mkdir", path=d)


roots = []
for root in job["roots"]:
    if in_stdlib(root) and not job["stdlib"]:
        # The installed interpreter is not ours to write to unless asked.
        emit(event="skipped", path=root, reason="in the standard library of %s: add --stdlib"
             " to compile it" % sys.executable)
    else:
        roots.append(root)
if job["stdlib"]:
    roots.append(stdlib)
seen = set()
sources = []
for root in roots:
    for source in modules(root):
        cfile = cache_path(source)
        if cfile not in seen:
            seen.add(cfile)
            sources.append((source, cfile))
emit(event="total", total=len(sources), version=list(sys.version_info[:3]),
     stdlib=stdlib)
for source, cfile in sources:
    if up_to_date(source, cfile):
        emit(event="fresh", source=source)
        continue
    head, tail = os.path.split(cfile)
    tmp = os.path.join(head, ".%s.embedcfg-%d.tmp" % (tail, os.getpid()))
    try:
        makedirs(head)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            py_compile.compile(source, cfile=tmp, dfile=source, doraise=True, optimize=opt,
                               invalidation_mode=mode)
        for w in caught:
            emit(event="warning", source=source, message="%s: %s (line %s)" % (
                w.category.__name__, w.message, w.lineno))
    except py_compile.PyCompileError as e:
        err = e.exc_value
        where = ""
        if isinstance(err, SyntaxError) and err.lineno:
            where = " (line %d)" % err.lineno
        emit(event="failed", source=source, message="%s: %s%s" % (
            e.exc_type_name, getattr(err, "msg", None) or err, where))
    except (OSError, ValueError) as e:
        emit(event="failed", source=source, message="%s: %s" % (type(e).__name__, e))
    else:
        emit(event="compiled", source=source, tmp=tmp, cfile=cfile)
emit(event="end")
'''


def _option_str(cfg: EmbedConfig, name: str) -> Optional[str]:
    value = cfg.options.get(name)
    return value if isinstance(value, str) else None


def plan(cfg: EmbedConfig, *, config_dir: Optional[str], origin: Optional[str] = None,
         unchecked_hash: bool = False) -> Plan:
    """Where the modules of ``cfg`` are and where their bytecode goes.

    Raises :class:`PrecompileError` when the policy has no cache to fill or
    a path cannot be expanded.
    """
    pc = cfg.pycache
    if pc is not None and pc.mode is PycacheMode.OFF:
        raise PrecompileError("pycache mode 'off' means no bytecode cache, so there is nothing"
                              " to precompile for it; use mode = \"readonly\" to read"
                              " precompiled bytecode without ever writing")
    if config_dir is not None:
        # The shim expands $CONFIG_DIR to the document's real directory.
        config_dir = os.path.realpath(config_dir)

    def expanded(value: str, what: str) -> str:
        path = expand(value, origin=origin, config_dir=config_dir)
        if path is None:
            anchor = value.split("/")[0]
            if anchor == "$ORIGIN":
                raise PrecompileError(f"{what}: {value!r} is relative to the launcher's"
                                      " directory: pass --origin DIR (where the launcher will"
                                      " be installed)")
            raise PrecompileError(f"{what}: {value!r} is neither absolute nor anchored at"
                                  " $ORIGIN or $CONFIG_DIR")
        return path

    prefix: Optional[str] = None
    policy_prefix = pycache_options(pc).get("pycache_prefix")
    if isinstance(policy_prefix, str):
        prefix = expanded(policy_prefix, "pycache.prefix")
    elif _option_str(cfg, "pycache_prefix") is not None:
        # a raw prefix: with no policy, or with readonly without a policy
        # prefix (read from the prefix tree, never write); with default it
        # is an error (EC301)
        prefix = expanded(_option_str(cfg, "pycache_prefix") or "", "options.pycache_prefix")
    roots: List[str] = []
    skipped: List[Tuple[str, str]] = []
    paths = cfg.options.get("module_search_paths")
    for i, value in enumerate(paths if isinstance(paths, tuple) else ()):
        path = expanded(value, f"options.module_search_paths[{i}]")
        if os.path.isdir(path):
            roots.append(path)
        elif os.path.isfile(path):
            skipped.append((path, "an archive: zipimport reads bytecode from inside it only"))
        else:
            skipped.append((path, "does not exist"))
    level = cfg.options.get("optimization_level", 0)
    return Plan(roots=tuple(roots), prefix=prefix,
                optimization=level if isinstance(level, int) else 0,
                invalidation="unchecked-hash" if unchecked_hash else "timestamp",
                skipped=tuple(skipped))


def _remove(paths: Sequence[str], directories: Sequence[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass
    for d in reversed(directories):  # deepest first
        try:
            os.rmdir(d)
        except OSError:
            pass


def precompile(cfg: EmbedConfig, *, python: Optional[str] = None,
               config_dir: Optional[str] = None, origin: Optional[str] = None,
               include_stdlib: bool = False, unchecked_hash: bool = False,
               progress: Optional[Progress] = None, validate: bool = True) -> PrecompileResult:
    """Compile the modules of ``cfg`` with ``python`` (default: this interpreter).

    ``config_dir`` is what ``$CONFIG_DIR`` means (the document's directory),
    ``origin`` what ``$ORIGIN`` means (where the launcher will be). Raises
    :class:`~embedcfg.errors.ConfigInvalid` when the document has errors
    (checked against ``python`` when ``validate``) and
    :class:`PrecompileError` when it cannot be precompiled at all. Failures
    to compile single modules are in the result, and then nothing was written.
    """
    import subprocess  # only a run needs them: keep `embedcfg --help` fast
    import tempfile

    exe = python or sys.executable
    if validate:
        from ._api import validate as _validate
        from .checks import inspect_target

        try:
            target = inspect_target(exe)
        except ValueError as e:
            raise PrecompileError(f"--python: {e}") from e
        errors = [p for p in _validate(cfg, target) if p.is_error]
        if errors:
            raise ConfigInvalid(errors)
    job_plan = plan(cfg, config_dir=config_dir, origin=origin, unchecked_hash=unchecked_hash)
    job = {"roots": list(job_plan.roots), "prefix": job_plan.prefix,
           "optimization": job_plan.optimization, "invalidation": job_plan.invalidation,
           "stdlib": include_stdlib, "stdlib_excluded": list(STDLIB_EXCLUDED_DIRS)}
    start = time.monotonic()
    temporaries: List[str] = []
    created: List[str] = []
    moves: List[Tuple[str, str]] = []
    failed: List[Failure] = []
    warned: List[Failure] = []
    skipped: List[Tuple[str, str]] = list(job_plan.skipped)
    fresh = 0
    total = 0
    done = 0
    version: Tuple[int, int, int] = (0, 0, 0)
    committed = False
    # The job goes in through a file, not a pipe: a target that exits
    # without reading it must not break the writer.
    job_file = tempfile.TemporaryFile("w+", encoding="utf-8")
    job_file.write(json.dumps(job))
    job_file.seek(0)
    err_file = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
    try:
        proc = subprocess.Popen([exe, "-I", "-S", "-B", "-c", _DRIVER], stdin=job_file,
                                stdout=subprocess.PIPE, stderr=err_file,
                                env=clean_environ(os.environ), text=True, encoding="utf-8")
    except OSError as e:
        err_file.close()
        raise PrecompileError(f"cannot run {exe!r}: {e.strerror}") from e
    finally:
        job_file.close()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event: Dict[str, Any] = json.loads(line)
            except ValueError:
                raise PrecompileError(f"{exe} answered {line.strip()[:200]!r}, not a progress"
                                      " record: is it CPython 3.8 or newer?") from None
            kind = event["event"]
            if kind == "total":
                total = event["total"]
                version = (event["version"][0], event["version"][1], event["version"][2])
            elif kind == "skipped":
                skipped.append((event["path"], event["reason"]))
            elif kind == "warning":
                warned.append(Failure(event["source"], event["message"]))
            elif kind == "mkdir":
                created.append(event["path"])
            elif kind in ("compiled", "fresh", "failed"):
                done += 1
                if kind == "compiled":
                    temporaries.append(event["tmp"])
                    moves.append((event["tmp"], event["cfile"]))
                elif kind == "fresh":
                    fresh += 1
                else:
                    failed.append(Failure(event["source"], event["message"]))
                if progress is not None:
                    progress(done, total, event["source"])
        status = proc.wait()
        if status != 0 or version == (0, 0, 0):
            err_file.seek(0)
            last = (err_file.read().strip().splitlines() or ["no output"])[-1]
            raise PrecompileError(f"{exe} stopped (status {status}) before it finished: {last}")
        if not failed:
            for tmp, final in moves:
                os.replace(tmp, final)
            committed = True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        err_file.close()
        if not committed:
            _remove(temporaries, created)
    job_plan = attrs.evolve(job_plan, skipped=tuple(skipped))
    return PrecompileResult(python=exe, version=version, plan=job_plan, compiled=len(moves),
                            up_to_date=fresh, failed=tuple(failed),
                            seconds=time.monotonic() - start, warnings=tuple(warned))
