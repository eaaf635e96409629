"""Bundle an application into one relocatable directory.

``embedcfg bundle DOCUMENT -o DIR`` writes a directory that runs the
document's application on a machine that has no Python installed, from any
path it is copied to, without reading anything outside it::

    DIR/
      bin/NAME                 the launcher built for the target CPython, under
                               the application's name: it runs bin/NAME.json
      bin/NAME.json            the document, every path anchored at $ORIGIN
      bin/libembedcfg.so       the shim library, which the launcher loads beside itself
      lib/libpythonX.Y.so.1.0  a copy of the target's libpython (its soname kept)
      lib/NAME.pack            the application and the standard library, compiled
                               by the target (embedcfg pack --stdlib)
      lib/pythonX.Y/lib-dynload/   the standard library's extension modules
      lib/ext/                 the application's own extension modules (if any)
      .embedcfg-bundle         what wrote the directory (marks it as a bundle)

The launcher under another name than ``embedcfg-launch`` runs the document
of that name beside itself and gives every argument to the application, so
``bin/NAME`` is the program itself: no script, nothing else is started.
With ``link="static"`` (``--link static``), ``bin/NAME`` is the static
launcher (``embedcfg build --link static``): the interpreter and the shim are
linked in, so there is no ``libembedcfg.so`` and no copy of libpython, and the
document has no ``lib``. The extension modules of lib-dynload are the same
files: they are not linked against libpython and resolve its symbols from
the executable, which exports them (``--export-dynamic``).

``$ORIGIN`` is ``bin/`` (not the bundle's top: CPython looks for a
``pyvenv.cfg`` beside the program and in the directory above it, which must
be inside the bundle too). The
document sets ``home`` to ``$ORIGIN/..`` (the bundle itself): without it,
CPython's path calculation searches the directories above the program for
its landmarks and falls back to the prefix it was configured with, on this
machine; with it, ``sys.prefix``, ``sys.exec_prefix`` and ``sys.base_prefix``
are the bundle's directory and nothing else is searched.

Before anything is written, every import statement of the application's
modules (from the document's run target, transitively) is resolved against
the application, the standard library and the extension modules that will be
in the bundle, inside the target interpreter (its grammar, its module
names); one that cannot be found is a :class:`MissingImport`, unless it is
guarded by ``try: ... except ImportError`` (or ``ModuleNotFoundError``, or a
bare ``except``) or sits under ``if TYPE_CHECKING:``.

The directory is built beside ``DIR`` under a temporary name and renamed into
place, so a failure leaves nothing half-written. An existing ``DIR`` is
replaced only when it is empty or a previous bundle (it holds
``.embedcfg-bundle``), or with ``force``.

With ``onefile=True`` (``--onefile``, static only) the same directory is
built, then turned into one executable, ``output``: its ``bin/NAME`` with the
document, the archives and the extension modules appended as sections
(:mod:`embedcfg.onefile`), the document's ``home`` set to ``$ORIGIN`` and its
``module_search_paths`` emptied (nothing is imported from a directory).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, TextIO, Tuple

import attrs

from .document import expand
from .model import Archive, ArchivePosition, EmbedConfig

if TYPE_CHECKING:
    from .build import Built, Target
    from .pack import ArchiveInfo, PackResult

__all__ = [
    "MARKER",
    "BundleError",
    "BundleRefused",
    "BundleResult",
    "MissingImport",
    "bundle",
    "check_imports",
    "default_name",
    "missing_lines",
    "set_runpath",
]

#: The file that marks a directory as a bundle (what may be replaced without --force).
MARKER = ".embedcfg-bundle"

#: Path values of a document that bundle rewrites; any other path is refused.
_RELOCATED = {("lib",), ("options", "home"), ("options", "module_search_paths"),
              ("options", "run_filename"), ("archives",)}

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")


class BundleError(ValueError):
    """The document cannot be bundled as asked (nothing was written)."""


class BundleRefused(BundleError):
    """The output directory holds something that is not a bundle (a usage error)."""


@attrs.frozen
class MissingImport:
    """An import the bundled application would fail on."""

    #: The module imported (the first part that cannot be found).
    module: str
    #: Where: a source file of the application and its line, or, for the run
    #: target itself, None and the document's JSON pointer.
    file: Optional[str]
    line: Optional[int]
    pointer: str = ""
    #: What imports it: "import requests" or "from .x import y".
    statement: str = ""

    def message(self) -> str:
        """The message, without the location."""
        where = ("it is not in the application's module_search_paths, in the standard"
                 " library or among the extension modules")
        if not self.statement:  # the run target
            return (f"error: module {self.module!r} cannot be found in the bundle: {where};"
                    " add the directory that holds it to options.module_search_paths")
        return (f"error: module {self.module!r} ({self.statement}) cannot be found in the"
                f" bundle: {where}; add the directory that holds it to"
                " options.module_search_paths, or guard the import with"
                " try: ... except ImportError")


@attrs.frozen
class BundleResult:
    """What :func:`bundle` wrote (or, with ``missing``/``failed``, why it did not)."""

    output: str
    name: str
    version: Tuple[int, int, int]
    #: Every file written, relative to ``output``, with its size.
    files: Tuple[Tuple[str, int], ...] = ()
    missing: Tuple[MissingImport, ...] = ()
    #: Modules that did not compile (source, message).
    failed: Tuple[Tuple[str, str], ...] = ()
    #: Notes for the user (search path entries not packed, environment warnings).
    notes: Tuple[str, ...] = ()
    #: ``output`` is one executable (``--onefile``), not a directory.
    onefile: bool = False

    @property
    def ok(self) -> bool:
        """True when the bundle was written."""
        return not self.missing and not self.failed

    @property
    def size(self) -> int:
        """The bundle's size in bytes."""
        return sum(size for _, size in self.files)

    def summary(self) -> str:
        """The one summary line."""
        version = ".".join(map(str, self.version))
        if self.missing:
            return (f"bundle failed: {len(self.missing)} import(s) cannot be found; nothing"
                    " was written")
        if self.failed:
            return (f"bundle failed: {len(self.failed)} modules did not compile for CPython"
                    f" {version}; nothing was written")
        if self.onefile:
            return (f"bundled {self.name} for CPython {version} into one file,"
                    f" {self.output}: {_human(self.size)} ({self.size} bytes); run it")
        return (f"bundled {self.name} for CPython {version} into {self.output}:"
                f" {len(self.files)} files, {_human(self.size)} ({self.size} bytes);"
                f" run {os.path.join(self.output, 'bin', self.name)}")

    def listing(self) -> List[str]:
        """What was written, one line per file; a directory of more than
        three files (lib-dynload) as one line."""
        if self.onefile:
            return [f"{_human(self.size):>10}  {self.output}"]
        by_dir: Dict[str, List[Tuple[str, int]]] = {}
        for path, size in self.files:
            by_dir.setdefault(os.path.dirname(path), []).append((path, size))
        lines = []
        for directory, files in sorted(by_dir.items()):
            if len(files) > 3:
                total = sum(size for _, size in files)
                lines.append(f"{_human(total):>10}  {os.path.join(self.output, directory)}/"
                             f" ({len(files)} files)")
            else:
                lines += [f"{_human(size):>10}  {os.path.join(self.output, path)}"
                          for path, size in files]
        return lines


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.1f} {unit}" if unit != "bytes" else f"{size} bytes"
        value /= 1024
    raise AssertionError("unreachable")


# The import check runs in the target interpreter (-I -S -B): it knows the
# target's grammar, its built-in and frozen modules and its extension
# suffixes. It lists what the bundle will hold (the application's roots and
# the standard library, scanned as embedcfg pack scans them, and
# lib-dynload), then walks the import statements from the run target.
_CHECKER = r'''
import ast, json, os, sys
from importlib.machinery import EXTENSION_SUFFIXES

job = json.loads(sys.stdin.read())
stdlib = job["stdlib"]
excluded = set(job["stdlib_excluded"])
suffixes = sorted(EXTENSION_SUFFIXES, key=len, reverse=True)


def under(path, top):
    path, top = os.path.realpath(path), os.path.realpath(top)
    return path == top or path.startswith(top.rstrip("/") + "/")


def extension_name(filename):
    for suffix in suffixes:
        if filename.endswith(suffix):
            return filename[:-len(suffix)]
    return None


def scan(top, prefix, is_stdlib, modules, extensions):
    # What embedcfg pack packs from one root (regular packages, .py modules),
    # and the extension modules beside them.
    for name in sorted(os.listdir(top)):
        path = os.path.join(top, name)
        if os.path.isdir(path):
            if (name.isidentifier() and not (name in excluded and is_stdlib)
                    and os.path.isfile(os.path.join(path, "__init__.py"))):
                modules.append((prefix + name, os.path.join(path, "__init__.py"), True))
                scan(path, prefix + name + ".", is_stdlib, modules, extensions)
        elif name.endswith(".py") and name[:-3].isidentifier():
            if name != "__init__.py":
                modules.append((prefix + name[:-3], path, False))
        else:
            module = extension_name(name)
            if module and module.isidentifier():
                extensions.append((prefix + module, path, bool(prefix)))


roots = list(job["roots"])
if stdlib not in roots:
    roots.append(stdlib)
owner = {}
modules = {}      # name -> (path, is_package, is_app)
extensions = []   # the application's: (name, path, in_package)
available = set(sys.builtin_module_names)
try:
    import _imp
    available.update(_imp._frozen_module_names())  # 3.11+
except (ImportError, AttributeError):
    available.update(("_frozen_importlib", "_frozen_importlib_external", "zipimport"))
for root in roots:
    is_stdlib = under(root, stdlib)
    found, exts = [], []
    scan(root, "", is_stdlib, found, exts)
    for name, path, is_package in found:
        if owner.setdefault(name.split(".")[0], root) == root:
            modules.setdefault(name, (path, is_package, not is_stdlib))
    for name, path, in_package in exts:
        if owner.setdefault(name.split(".")[0], root) == root and name not in modules:
            available.add(name)
            if not is_stdlib:
                extensions.append((name, path, in_package))
for name in sorted(os.listdir(job["dynload"])) if os.path.isdir(job["dynload"]) else ():
    module = extension_name(name)
    if module:
        available.add(module)
available.update(modules)
packages = set(n for n, (p, is_package, a) in modules.items() if is_package)
for name, is_package in job["archived"]:  # the document's own archives
    available.add(name)
    if is_package:
        packages.add(name)


def is_guard(handler):
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for n in names:
        ident = n.id if isinstance(n, ast.Name) else getattr(n, "attr", None)
        if ident in ("ImportError", "ModuleNotFoundError"):
            return True
    return False


def is_type_checking(test):
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


TRY = tuple(t for t in (getattr(ast, "Try", None), getattr(ast, "TryStar", None)) if t)


def imports(node, guarded=False):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        if not guarded:
            yield node
        return
    if isinstance(node, TRY):
        inner = guarded or any(is_guard(h) for h in node.handlers)
        for child in node.body:
            for found in imports(child, inner):
                yield found
        for child in list(node.handlers) + node.orelse + node.finalbody:
            for found in imports(child, guarded):
                yield found
        return
    if isinstance(node, ast.If) and is_type_checking(node.test):
        for child in node.orelse:
            for found in imports(child, guarded):
                yield found
        return
    for child in ast.iter_child_nodes(node):
        for found in imports(child, guarded):
            yield found


def stdlib_alias(name):
    # A standard library package may put a submodule into sys.modules itself
    # (3.14's collections/__init__.py makes collections.abc _collections_abc):
    # the target's own import system says, after importing the (trusted)
    # parent package.
    parent = name.rpartition(".")[0]
    if parent not in modules or modules[parent][2]:
        return False
    try:
        import importlib.util
        return importlib.util.find_spec(name) is not None
    except Exception:
        return False


def first_missing(dotted):
    # The first part of a dotted name that cannot be found, or None. Below a
    # module that is not a package (os.path) nothing can be checked.
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in available and not stdlib_alias(name):
            return name if i == 1 or ".".join(parts[:i - 1]) in packages else None
        if name not in packages:
            return None
    return None


missing = []
walked = set()
queue = []


def need(name, file, line, statement, pointer=""):
    gone = first_missing(name)
    if gone is not None:
        missing.append({"module": gone, "file": file, "line": line, "statement": statement,
                        "pointer": pointer})
        return
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        queue.append(".".join(parts[:i]))


def statement_of(node):
    if isinstance(node, ast.Import):
        return "import " + ", ".join(a.name for a in node.names)
    return "from %s%s import %s" % ("." * node.level, node.module or "",
                                    ", ".join(a.name for a in node.names))


def walk_source(source, file, module, is_package, pointer=""):
    try:
        tree = ast.parse(source, file or "<run_command>")
    except (SyntaxError, ValueError):
        return  # embedcfg pack reports it, with the line
    here = module if is_package else module.rpartition(".")[0]
    for node in imports(tree):
        line = None if pointer else node.lineno
        if isinstance(node, ast.Import):
            for alias in node.names:
                need(alias.name, file, line, statement_of(node), pointer)
            continue
        base = node.module or ""
        if node.level:
            parts = here.split(".") if here else []
            if node.level - 1 > len(parts) or not parts:
                missing.append({"module": "." * node.level + base, "file": file, "line": line,
                                "statement": statement_of(node), "pointer": pointer})
                continue
            parts = parts[:len(parts) - (node.level - 1)]
            base = ".".join(parts + ([base] if base else []))
        need(base, file, line, statement_of(node), pointer)
        for alias in node.names:
            if alias.name != "*" and base + "." + alias.name in modules:
                queue.append(base + "." + alias.name)


entry = job["entry"]
if entry["kind"] == "module":
    need(entry["value"], None, None, "", "/options/run_module")
    if entry["value"] in packages:
        need(entry["value"] + ".__main__", None, None, "", "/options/run_module")
elif entry["kind"] == "file":
    with open(entry["value"], "rb") as f:
        walk_source(f.read(), entry["value"], "__main__", False)
elif entry["kind"] == "command":
    walk_source(entry["value"], None, "__main__", False, "/options/run_command")
else:
    queue.extend(n for n, (p, i, is_app) in sorted(modules.items()) if is_app)
while queue:
    name = queue.pop()
    if name in walked or name not in modules:
        continue
    walked.add(name)
    path, is_package, is_app = modules[name]
    if not is_app:
        continue  # the standard library is trusted
    with open(path, "rb") as f:
        walk_source(f.read(), path, name, is_package)
sys.stdout.write(json.dumps({"missing": missing, "extensions": extensions,
                             "walked": len(walked),
                             "soabi": sys.implementation.cache_tag}))
'''


@attrs.frozen
class _Checked:
    missing: Tuple[MissingImport, ...]
    #: The application's extension modules: (name, path, inside a package).
    extensions: Tuple[Tuple[str, str, bool], ...]


def _entry(cfg: EmbedConfig, config_dir: Optional[str]) -> Dict[str, str]:
    o = cfg.options
    if isinstance(o.get("run_module"), str):
        return {"kind": "module", "value": str(o["run_module"])}
    if isinstance(o.get("run_filename"), str):
        path = expand(str(o["run_filename"]), origin=None, config_dir=config_dir)
        if path is None or not os.path.isfile(path):
            raise BundleError(f"options.run_filename: {o['run_filename']!r} is not a file here;"
                              " bundle copies it into the bundle, so it must exist")
        return {"kind": "file", "value": path}
    if isinstance(o.get("run_command"), str):
        return {"kind": "command", "value": str(o["run_command"])}
    return {"kind": "none", "value": ""}


def check_imports(cfg: EmbedConfig, *, python: str, roots: List[str], stdlib: str,
                  dynload: str, config_dir: Optional[str],
                  archived: Sequence[Tuple[str, bool]] = ()) -> Tuple[MissingImport, ...]:
    """Every import of the application (from its run target, transitively)
    that the bundle could not satisfy, given its search path ``roots``, the
    target's ``stdlib`` and ``dynload`` directories and the modules of the
    document's own archives, ``archived`` (name, is a package); the check of
    :func:`bundle`."""
    return _check(cfg, python=python, roots=roots, stdlib=stdlib, dynload=dynload,
                  config_dir=config_dir, archived=archived).missing


def _check(cfg: EmbedConfig, *, python: str, roots: List[str], stdlib: str, dynload: str,
           config_dir: Optional[str], archived: Sequence[Tuple[str, bool]] = ()) -> _Checked:
    from ._probe import clean_environ
    from .pack import STDLIB_EXCLUDED_DIRS

    job = {"roots": roots, "stdlib": stdlib, "dynload": dynload,
           "stdlib_excluded": list(STDLIB_EXCLUDED_DIRS), "entry": _entry(cfg, config_dir),
           "archived": [list(a) for a in archived]}
    try:
        proc = subprocess.run([python, "-I", "-S", "-B", "-c", _CHECKER],
                              input=json.dumps(job), capture_output=True, text=True,
                              env=clean_environ(os.environ), check=False, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        raise BundleError(f"cannot run {python!r}: {e}") from e
    try:
        found = json.loads(proc.stdout)
    except ValueError:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise BundleError(f"{python} stopped (status {proc.returncode}) while checking the"
                          f" imports: {last}") from None
    missing = tuple(sorted((MissingImport(module=m["module"], file=m["file"], line=m["line"],
                                  pointer=m["pointer"], statement=m["statement"])
                    for m in found["missing"]),
                           key=lambda m: (m.file or "", m.line or 0, m.module)))
    extensions = tuple((e[0], e[1], bool(e[2])) for e in found["extensions"])
    return _Checked(missing=missing, extensions=extensions)


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _roots(cfg: EmbedConfig, config_dir: Optional[str]) -> List[str]:
    """The document's module search path, expanded: what the application imports from."""
    from .pack import PackError, search_roots

    def unexpanded(i: int, value: str) -> str:
        return (f"options.module_search_paths[{i}]: {value!r} cannot be expanded at bundle"
                " time ($ORIGIN is the launcher's directory, which only exists once"
                " bundled); use $CONFIG_DIR/... or an absolute path for the application's"
                " sources")

    try:
        return search_roots(cfg, config_dir, None, unexpanded=unexpanded)[0]
    except PackError as e:
        raise BundleError(str(e)) from e


def _refuse_other_paths(cfg: EmbedConfig) -> None:
    from .document import document_paths

    for value in document_paths(cfg):
        head = tuple(p for p in value.parts[:2] if isinstance(p, str))
        if head[:1] in _RELOCATED or head in _RELOCATED:
            continue
        raise BundleError(f"{value.label}: {value.value!r} is a path that bundle does not"
                          " relocate (only lib, archives, options.home,"
                          " options.module_search_paths and options.run_filename are"
                          " rewritten); remove it from the document to bundle it")


def _archive_files(cfg: EmbedConfig,
                   config_dir: Optional[str]) -> List[Tuple[str, "ArchiveInfo"]]:
    """The document's own archives: each file, read and checked."""
    from .pack import ArchiveError, read_archive_file

    found = []
    for i, archive in enumerate(cfg.archives):
        source = expand(archive.path, origin=None, config_dir=config_dir)
        if source is None:
            raise BundleError(f"archives[{i}].path: {archive.path!r} cannot be expanded at"
                              " bundle time; use $CONFIG_DIR/... or an absolute path")
        try:
            found.append((source, read_archive_file(source, what=f"archives[{i}].path:"
                                                              f" {source}")))
        except ArchiveError as e:
            raise BundleError(str(e)) from e
    return found


def _check_output(output: str, force: bool) -> None:
    if not os.path.lexists(output):
        return
    if not os.path.isdir(output) or os.path.islink(output):
        raise BundleRefused(f"{output} exists and is not a directory: remove it or choose"
                            " another -o")
    if force or not os.listdir(output) or os.path.isfile(os.path.join(output, MARKER)):
        return
    raise BundleRefused(f"{output} is not empty and is not a bundle (no {MARKER}): choose an"
                        " empty or new directory, or pass --force to replace it")


def _copy_tree(source: str, target: str, runpath: str) -> None:
    """The extension modules of ``source`` (files, no caches) into ``target``."""
    os.makedirs(target, exist_ok=True)
    for name in sorted(os.listdir(source)):
        path = os.path.join(source, name)
        if os.path.isfile(path) and not name.endswith((".pyc", ".pyo")):
            _copy_library(path, os.path.join(target, name), runpath)


def _copy_library(source: str, target: str, runpath: str) -> None:
    shutil.copy2(source, target)
    os.chmod(target, os.stat(target).st_mode | stat.S_IWUSR)
    set_runpath(target, runpath)


_DT_STRTAB, _DT_RPATH, _DT_RUNPATH = 5, 15, 29


def set_runpath(path: str, runpath: str) -> bool:
    """Replace, in place, the RUNPATH (or RPATH) of the ELF64 little-endian
    shared object ``path`` by ``runpath``, or by ``$ORIGIN`` when that one
    does not fit; False when the file has none (or is not such an object).

    A CPython build links libpython and its extension modules with its own
    ``lib`` directory as RUNPATH; copied into a bundle, they would make the
    dynamic loader look for their libraries (libm, libssl...) in that
    directory of the machine the bundle runs on first. The new string is
    written over the old one, which it must not be longer than (what
    ``chrpath`` does): the file keeps its size and layout.
    """
    import struct

    with open(path, "r+b") as f:
        blob = f.read()
        try:
            spans = _runpath_spans(blob)
        except (struct.error, ValueError, IndexError):
            return False  # not an ELF file this reader understands: left as it is
        for start, old in spans:
            new = runpath.encode() if len(runpath) <= old else b"$ORIGIN"
            if len(new) > old:
                continue  # shorter than "$ORIGIN": a system directory, left alone
            f.seek(start)
            f.write(new + b"\0" * (old - len(new)))
        return bool(spans)


def _runpath_spans(blob: bytes) -> List[Tuple[int, int]]:
    """(file offset, length) of each RPATH and RUNPATH string of an ELF64
    little-endian object (none for anything else)."""
    import struct

    if blob[:4] != b"\x7fELF" or blob[4] != 2 or blob[5] != 1:
        return []
    phoff, = struct.unpack_from("<Q", blob, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", blob, 0x36)
    segments = [struct.unpack_from("<IIQQQQQQ", blob, phoff + i * phentsize)
                for i in range(phnum)]
    dynamic = [s for s in segments if s[0] == 2]  # PT_DYNAMIC
    if not dynamic:
        return []
    entries = []
    offset = dynamic[0][2]
    while offset + 16 <= len(blob):
        tag, value = struct.unpack_from("<qQ", blob, offset)
        if tag == 0:
            break
        entries.append((tag, value))
        offset += 16
    strtab = [v for t, v in entries if t == _DT_STRTAB]
    loads = [s for s in segments if strtab and s[0] == 1 and s[3] <= strtab[0] < s[3] + s[5]]
    if not loads:
        return []
    base = strtab[0] - loads[0][3] + loads[0][2]
    spans = []
    for tag, value in entries:
        if tag in (_DT_RPATH, _DT_RUNPATH):
            start = base + value
            spans.append((start, blob.index(b"\0", start) - start))
    return spans


def _rewrite(cfg: EmbedConfig, *, version: Tuple[int, int, int], libname: Optional[str],
             archives: List[Archive], has_ext: bool, run_filename: Optional[str]) -> EmbedConfig:
    minor = f"python{version[0]}.{version[1]}"
    paths = [f"$ORIGIN/../lib/{minor}/lib-dynload"] + (["$ORIGIN/../lib/ext"] if has_ext else [])
    options = dict(cfg.options)
    options.pop("module_search_paths_set", None)  # True (or absent) either way
    options.pop("run_filename", None)
    options.update(home="$ORIGIN/..", module_search_paths=tuple(paths))
    if run_filename is not None:
        options["run_filename"] = run_filename
    # the static launcher has the interpreter linked in: no lib to load
    lib = None if libname is None else f"$ORIGIN/../lib/{libname}"
    return attrs.evolve(cfg, lib=lib, archives=tuple(archives), options=options)


def _files(top: str) -> List[Tuple[str, int]]:
    found = []
    for directory, dirs, files in os.walk(top):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(directory, f)
            found.append((os.path.relpath(path, top), os.lstat(path).st_size))
    return found


def bundle(cfg: EmbedConfig, output: str, *, config_dir: Optional[str], name: str,
           python: Optional[str] = None, with_source: bool = False, force: bool = False,
           link: str = "dynamic", onefile: bool = False,
           log: Optional[TextIO] = None) -> BundleResult:
    """Write the bundle of ``cfg`` (read from ``config_dir``) to ``output``.

    Raises :class:`BundleRefused` when ``output`` holds something else than a
    bundle (without ``force``), :class:`BundleError` when the document cannot
    be bundled; imports that cannot be found and modules that do not compile
    are in the result, and then nothing was written. ``link`` is ``"dynamic"``
    (the launcher, the shim library and a copy of libpython) or ``"static"``
    (the launcher linked with the target's static libpython, alone).
    ``onefile`` (static only): ``output`` is one executable instead of a
    directory, the static launcher with the bundle appended
    (:mod:`embedcfg.onefile`).
    """
    from . import build
    from .checks import target_from_requires
    from .errors import ShimError

    if not _NAME.match(name) or name.startswith(build.LAUNCHER_NAME):
        raise BundleRefused(f"--name {name!r}: use letters, digits, '.', '_' and '-' (not"
                            f" starting with '.', '-' or {build.LAUNCHER_NAME!r})")
    if link not in build.LINKS:
        raise BundleRefused(f"--link {link!r}: use one of {', '.join(build.LINKS)}")
    output = os.path.abspath(output)
    if onefile:
        if link != "static":
            raise BundleRefused("--onefile holds the interpreter in the executable: it needs"
                                " --link static (the default with --onefile)")
        _check_onefile_output(output, force)
        if isinstance(cfg.options.get("run_filename"), str):
            raise BundleError("options.run_filename: a one-file application has no file to"
                              " run; set options.run_module to a module of the application"
                              " instead, or bundle it as a directory (without --onefile)")
    else:
        _check_output(output, force)
    if cfg.embedded:
        raise BundleError("embedded = true: a bundle starts its own interpreter (set"
                          " embedded = false)")
    if cfg.options.get("module_search_paths_set") is False:
        raise BundleError("options.module_search_paths_set = false: a bundle lists its search"
                          " path itself; remove the option")
    _refuse_other_paths(cfg)
    if config_dir is not None:
        config_dir = os.path.realpath(config_dir)  # as the shim expands $CONFIG_DIR
    try:
        target = build.probe(python)
    except ShimError as e:
        raise BundleError(str(e)) from e
    exe = python or sys.executable
    if target.libpython is None and link == "dynamic":
        raise BundleError(f"{target.executable} has no shared libpython, which the launcher"
                          " loads: bundle a CPython built with --enable-shared, or pass"
                          " --link static")
    stdlib, dynload = target.stdlib_dirs[0], target.stdlib_dirs[1]
    version = target.version
    if cfg.requires_python is not None and version[:2] not in target_from_requires(
            cfg.requires_python).versions:
        raise BundleError(f"requires_python {cfg.requires_python!r} does not admit CPython"
                          f" {'.'.join(map(str, version))} ({exe}), which the bundle would"
                          " ship; pass --python with one it admits")
    roots = _roots(cfg, config_dir)
    archive_files = _archive_files(cfg, config_dir)
    for i, (source, info) in enumerate(archive_files):
        if info.magic.hex() != target.pyc_magic:
            raise BundleError(f"archives[{i}].path: {source} was packed for CPython"
                              f" {info.version[0]}.{info.version[1]}, not for the bundle's"
                              f" {version[0]}.{version[1]}: pack it again with --python"
                              f" {exe}")
    archived = [(m.name, m.is_package) for _, info in archive_files for m in info.modules]
    checked = _check(cfg, python=exe, roots=roots, stdlib=stdlib, dynload=dynload,
                     config_dir=config_dir, archived=archived)
    if checked.missing:
        return BundleResult(output=output, name=name, version=version, missing=checked.missing)
    nested = [e for e in checked.extensions if e[2]]
    if nested and not onefile:
        raise BundleError(f"{nested[0][1]}: extension module {nested[0][0]!r} is inside a"
                          " package, which the bundle's archive provides; the archive cannot"
                          " load extension modules from its packages: make it a top-level"
                          " module on module_search_paths")
    notes: List[str] = []
    if cfg.options.get("use_environment") is True or (
            cfg.profile is not None and cfg.profile.value == "python"
            and cfg.options.get("use_environment") is not False):
        notes.append("the document reads the environment (profile python or use_environment):"
                     " PYTHONPATH and the other PYTHON* variables of the machine it runs on"
                     " change it; set use_environment = false to make the bundle"
                     " self-contained")

    try:
        built = build.build(python, stderr=log, link=link)
    except ShimError as e:
        raise BundleError(str(e)) from e
    parent = os.path.dirname(output)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(output)}-", dir=parent)
    try:
        packed = _write(tmp, cfg, name=name, built=built, target=target, python=exe,
                        config_dir=config_dir, with_source=with_source, checked=checked,
                        archive_files=archive_files)
        if not packed.ok:
            shutil.rmtree(tmp, ignore_errors=True)
            return BundleResult(output=output, name=name, version=version,
                                failed=packed.failed)
        notes += [f"{path} not packed: {why}" for path, why in packed.skipped
                  if not _under(path, stdlib) and not _under(path, dynload)]
        if onefile:
            size = _write_onefile(tmp, output, name=name, version=version, checked=checked)
            files = [(os.path.basename(output), size)]
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.chmod(tmp, 0o755)  # mkdtemp's 0700 would keep other users out of the bundle
            files = _files(tmp)
            _replace(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BundleResult(output=output, name=name, version=version, files=tuple(files),
                        notes=tuple(notes), onefile=onefile)


def _check_onefile_output(output: str, force: bool) -> None:
    from .build import LAUNCHER_NAME
    from .onefile import OneFileError, read_onefile

    if os.path.basename(output).startswith(LAUNCHER_NAME):
        raise BundleRefused(f"-o {output}: a file name starting with {LAUNCHER_NAME!r} is the"
                            " launcher's own, which does not run its payload; choose another")
    if os.path.isdir(output) and not os.path.islink(output):
        raise BundleRefused(f"{output} is a directory: --onefile writes a file; remove it or"
                            " choose another -o")
    if not os.path.lexists(output) or force:
        return
    if not os.path.isfile(output) or os.path.islink(output):
        raise BundleRefused(f"{output} exists and is not a file: remove it or choose another"
                            " -o")
    try:
        previous = read_onefile(output)
    except OneFileError:
        previous = None
    if previous is None:
        raise BundleRefused(f"{output} exists and is not a one-file application: choose a new"
                            " file, or pass --force to replace it")


def _write_onefile(tmp: str, output: str, *, name: str, version: Tuple[int, int, int],
                   checked: _Checked) -> int:
    """The one-file application at ``output`` from the bundle directory
    ``tmp`` (a static one): its launcher, its document without the
    directory's paths, its archives and extension modules as sections.
    Returns its size."""
    from . import codec
    from .onefile import AFTER_PATH, ARCHIVE, DOCUMENT, EXTENSION, Section, write_onefile

    bin_dir, lib_dir = os.path.join(tmp, "bin"), os.path.join(tmp, "lib")
    with open(os.path.join(bin_dir, f"{name}.json"), "rb") as f:
        cfg = codec.structure(json.loads(f.read()))
    sections = []
    for archive in cfg.archives:
        source = os.path.join(lib_dir, os.path.basename(archive.path))
        with open(source, "rb") as f:
            data = f.read()
        after = archive.position is ArchivePosition.AFTER_PATH
        sections.append(Section(kind=ARCHIVE, name=os.path.basename(source), data=data,
                                flags=AFTER_PATH if after else 0))
    # the extension modules: lib-dynload's by their file names, the
    # application's by the names the import check found (inside packages too:
    # the extension importer is asked for every name, after the archives)
    found = []
    dynload = os.path.join(lib_dir, f"python{version[0]}.{version[1]}", "lib-dynload")
    for file in sorted(os.listdir(dynload)):
        module = file.split(".", 1)[0]
        if "." in file and module.isidentifier():
            found.append((module, os.path.join(dynload, file)))
    for module, path, _ in checked.extensions:
        copy = os.path.join(lib_dir, "ext", os.path.basename(path))
        shutil.copyfile(path, copy)
        found.append((module, copy))
    strip = shutil.which("strip")
    launcher = os.path.join(bin_dir, name)  # the bundle's own copy
    if strip is not None:
        # libpython's DWARF sections (pyenv builds keep them) are three quarters
        # of the static launcher (30.6 to 7.9 MiB for 3.12) and never loaded;
        # the symbol tables stay, for backtraces and extension modules
        subprocess.run([strip, "--strip-debug", launcher], capture_output=True, check=False)
    for module, path in found:
        # $ORIGIN is /proc/self/fd for a module loaded from memory, the
        # private extraction directory otherwise: never the build's prefix
        set_runpath(path, "$ORIGIN")
        if strip is not None:
            # every byte of a module is checksummed and copied into memory
            # at its import, and its DWARF sections are never loaded (nor
            # found by a debugger in a memfd): left out, lib-dynload is a
            # third of its size (19 to 6.5 MiB for 3.12)
            subprocess.run([strip, "--strip-debug", path], capture_output=True, check=False)
        with open(path, "rb") as f:
            data = f.read()
        tail = os.path.basename(path)
        suffix = tail[tail.index("."):]
        sections.append(Section(kind=EXTENSION, name=module, data=data,
                                path=module.replace(".", "/") + suffix))
    options = dict(cfg.options)
    options.update(home="$ORIGIN", module_search_paths=())
    document = attrs.evolve(cfg, archives=(), options=options)
    sections.append(Section(kind=DOCUMENT, name=f"{name}.json",
                            data=codec.dumps(document, "json").encode()))
    return write_onefile(output, launcher, sections)


def _write(tmp: str, cfg: EmbedConfig, *, name: str, built: "Built", target: "Target",
           python: str, config_dir: Optional[str], with_source: bool, checked: _Checked,
           archive_files: List[Tuple[str, "ArchiveInfo"]]) -> "PackResult":
    """Fill the directory ``tmp`` with the bundle; the archive's
    :class:`~embedcfg.pack.PackResult` (when it is not ``ok``, ``tmp`` is
    incomplete)."""
    from . import __version__, build
    from .codec import dumps
    from .pack import PackError, pack

    version = target.version
    bin_dir, lib_dir = os.path.join(tmp, "bin"), os.path.join(tmp, "lib")
    os.makedirs(bin_dir)
    os.makedirs(lib_dir)
    # the launcher under the application's name runs bin/NAME.json
    shutil.copy2(built.launcher, os.path.join(bin_dir, name))
    libname = None
    if built.link == "dynamic":  # the static launcher has both linked in
        assert target.libpython is not None
        shutil.copy2(built.shim, os.path.join(bin_dir, build.SHIM_NAME))
        libname = os.path.basename(target.libpython)
        _copy_library(os.path.realpath(target.libpython), os.path.join(lib_dir, libname),
                      "$ORIGIN")
    minor = f"python{version[0]}.{version[1]}"
    _copy_tree(target.stdlib_dirs[1], os.path.join(lib_dir, minor, "lib-dynload"),
               "$ORIGIN/../..")
    for _, path, _ in checked.extensions:
        os.makedirs(os.path.join(lib_dir, "ext"), exist_ok=True)
        _copy_library(path, os.path.join(lib_dir, "ext", os.path.basename(path)), "$ORIGIN/..")
    try:
        packed = pack(cfg, os.path.join(lib_dir, f"{name}.pack"), python=python,
                      config_dir=config_dir, include_stdlib=True, with_source=with_source)
    except PackError as e:
        raise BundleError(str(e)) from e
    if not packed.ok:
        return packed
    archives = [Archive(path=f"$ORIGIN/../lib/{name}.pack", position=ArchivePosition.BEFORE_PATH)]
    for i, (archive, (source, _)) in enumerate(zip(cfg.archives, archive_files)):
        copied = f"archive{i}-{os.path.basename(source)}"
        shutil.copy2(source, os.path.join(lib_dir, copied))
        archives.append(attrs.evolve(archive, path=f"$ORIGIN/../lib/{copied}"))
    run_filename = None
    if isinstance(cfg.options.get("run_filename"), str):
        script = _entry(cfg, config_dir)["value"]
        os.makedirs(os.path.join(lib_dir, "main"))
        shutil.copy2(script, os.path.join(lib_dir, "main", os.path.basename(script)))
        run_filename = f"$ORIGIN/../lib/main/{os.path.basename(script)}"
    rewritten = _rewrite(cfg, version=version, libname=libname, archives=archives,
                         has_ext=bool(checked.extensions), run_filename=run_filename)
    with open(os.path.join(bin_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        f.write(dumps(rewritten, "json"))
    with open(os.path.join(tmp, MARKER), "w", encoding="utf-8") as f:
        f.write(json.dumps({"embedcfg": __version__, "name": name,
                            "python": ".".join(map(str, version))}, indent=2) + "\n")
    return packed


def _replace(new: str, output: str) -> None:
    """Put the directory ``new`` at ``output``: a rename when nothing is
    there, else the old one is renamed aside first and removed after."""
    if not os.path.lexists(output):
        os.rename(new, output)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(output)}-old-",
                           dir=os.path.dirname(output))
    os.rmdir(old)
    os.rename(output, old)
    try:
        os.rename(new, output)
    except BaseException:
        os.rename(old, output)
        raise
    _make_writable(old)
    shutil.rmtree(old, ignore_errors=True)


def _make_writable(tree: str) -> None:
    """u+w on every directory of ``tree``, so that a read-only bundle can be removed."""
    for directory, _, _ in os.walk(tree):
        try:
            os.chmod(directory, os.lstat(directory).st_mode | stat.S_IWUSR)
        except OSError:
            pass


def default_name(document: str) -> str:
    """The bundle's name when --name is not given: the document's file name
    without its extension (``app.toml`` -> ``app``)."""
    base = os.path.basename(document)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return stem or "app"


def missing_lines(missing: Tuple[MissingImport, ...], locate: Any, document: str) -> List[str]:
    """The located lines of ``missing``: ``file:line: error: ...``. ``locate``
    maps a JSON pointer of the document to (line, column) or None."""
    out = []
    for m in missing:
        if m.file is not None:
            where = f"{m.file}:{m.line}" if m.line else m.file
        else:
            pos = locate(m.pointer)
            where = f"{document}:{pos[0]}" if pos else document
            where += f": {m.pointer.strip('/').replace('/', '.')}"
        out.append(f"{where}: {m.message()}")
    return out
