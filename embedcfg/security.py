"""Path security: who else can change what the interpreter will load.

A directory the interpreter imports from, a bytecode cache it reads, the
libpython it loads: whoever can write any of them can run code as the user
who starts the application. :func:`check_paths` looks at the paths of a
document on *this* machine, with ``lstat`` calls only (no file is opened or
read), and refuses:

* a path, or one of its ancestors, that a user other than the current one
  (or root) can write: group or other write permission, or ownership by
  another non-root user. An ancestor that is world-writable but sticky (like
  ``/tmp``) is accepted when the entry below it is owned by the current user
  or root, since the sticky bit stops others from renaming or deleting it; a
  directory whose *contents* are loaded (a module search path, the pycache
  prefix) is never accepted writable by others, sticky or not, since anyone
  could add a module or a ``.pyc`` to it;
* a path that does not exist yet below a directory others can write: they
  could create it first;
* a ``pyvenv.cfg`` next to the launcher (``$ORIGIN``) or one directory above:
  CPython's path calculation reads it even for an isolated configuration,
  so it can redirect ``sys.prefix`` (and its ``site-packages`` ``.pth`` files
  run code at start-up when ``site_import`` is on).

The launcher makes the same checks in C before the interpreter is loaded
(``capi_shim/pathsec.c``); this module is what ``embedcfg validate`` runs.
Symbolic links are followed: both the path as written and the resolved path
are checked. ACLs, mount options and capabilities are not inspected.
"""

from __future__ import annotations

import os
import stat
from typing import Callable, Iterator, List, Optional, Set, Tuple

import attrs

from .document import ARCHIVE_SUFFIXES, Anchoring, PathUse, document_paths, expand
from .errors import Problem, Severity, pointer_from_parts
from .model import EmbedConfig

__all__ = [
    "CODE_CANNOT_CHECK",
    "CODE_FOREIGN_OWNER",
    "CODE_PYVENV",
    "CODE_WRITABLE",
    "PathToCheck",
    "check_paths",
    "expand",
    "paths_of",
]

# Provisional codes, to be added to errors.CODES.
CODE_WRITABLE = "EC410"
CODE_FOREIGN_OWNER = "EC411"
CODE_PYVENV = "EC412"
CODE_CANNOT_CHECK = "EC413"

#: The file CPython's path calculation looks for beside and above the executable.
VENV_FILE = "pyvenv.cfg"

_WRITE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


@attrs.frozen
class PathToCheck:
    """One expanded path of a document, and what it is used for."""

    #: Where it comes from, for messages: ``options.module_search_paths[0]``.
    what: str
    #: JSON pointer to the value in the document.
    pointer: str
    #: The expanded, absolute path.
    path: str
    #: True when the interpreter loads the *contents* of this directory
    #: (nobody else may add entries to it); False for a file.
    contents: bool


def paths_of(cfg: EmbedConfig, *, origin: Optional[str],
             config_dir: Optional[str]) -> List[PathToCheck]:
    """The paths of ``cfg`` that must be protected, expanded: every path
    value the description says is loaded (:class:`~embedcfg.document.PathRule`)."""
    out: List[PathToCheck] = []
    for pv in document_paths(cfg):
        if pv.rule.use is None:
            continue
        if (pv.rule.anchoring is Anchoring.LIBRARY and "/" not in pv.value
                and not pv.value.startswith("$")):
            continue  # a library name: dlopen searches the system directories only
        path = expand(pv.value, origin=origin, config_dir=config_dir)
        if path is None:
            continue
        # An archive on a module search path is a file; a directory is loaded by contents.
        contents = pv.rule.use is PathUse.CONTENTS and not pv.value.endswith(ARCHIVE_SUFFIXES)
        out.append(PathToCheck(pv.label, pointer_from_parts(pv.parts), path, contents))
    return out


def _mode_text(st: os.stat_result) -> str:
    return f"{stat.filemode(st.st_mode)} ({stat.S_IMODE(st.st_mode):04o})"


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _owner_text(uid: int) -> str:
    name = _user_name(uid)
    return f"uid {uid}" if name == str(uid) else f"uid {uid} ({name})"


def _chain(path: str) -> List[str]:
    """``path`` and its ancestors up to ``/``, leaf first, nothing resolved."""
    parts = [p for p in path.split("/") if p and p != "."]
    return ["/" + "/".join(parts[:i]) for i in range(len(parts), -1, -1)]


@attrs.frozen
class _Finding:
    code: str
    path: str
    text: str
    #: What identifies the finding across spellings of a path: (dev, inode).
    key: Tuple[object, ...] = ()


def _inspect(path: str, *, contents: bool, uid: int,
             lstat: Callable[[str], os.stat_result]) -> Iterator[_Finding]:
    """Findings along the chain of ``path`` as written (no link resolved)."""
    child_owned = True  # the component below the current one is ours or root's
    missing: Optional[str] = None  # the highest missing component seen so far
    for i, component in enumerate(_chain(path)):
        try:
            st = lstat(component)
        except (FileNotFoundError, NotADirectoryError):
            missing = component
            continue
        except OSError as e:
            yield _Finding(CODE_CANNOT_CHECK, component,
                           f"{component} cannot be inspected ({e.strerror}); make it"
                           " searchable by this user, or choose another path", (component,))
            return
        leaf = i == 0
        if leaf:
            role = ""
        elif missing is not None:
            role = (f" (the nearest existing ancestor of {path}, which does not exist:"
                    " another user could create it first)")
        else:
            role = f" (an ancestor of {path})"
        owned = st.st_uid in (0, uid)
        if not owned:
            yield _Finding(CODE_FOREIGN_OWNER, component,
                           f"{component}{role} is owned by {_owner_text(st.st_uid)}, not by"
                           f" the current user ({_owner_text(uid)}) or root (mode"
                           f" {_mode_text(st)}): that user can change what is loaded from it;"
                           f" fix: chown {_user_name(uid)} {component}, or move the files to"
                           " a directory the current user or root owns", (st.st_dev, st.st_ino))
        writable_by = st.st_mode & _WRITE_BY_OTHERS
        if writable_by and not stat.S_ISLNK(st.st_mode):  # a link's own mode is unused
            sticky = stat.S_ISDIR(st.st_mode) and bool(st.st_mode & stat.S_ISVTX)
            # The sticky bit stops others from renaming or deleting entries
            # they do not own; it does not stop them from adding new ones.
            adds_matter = (leaf and contents) or missing is not None
            if not (sticky and not adds_matter and child_owned and not leaf):
                who = " and ".join(w for w, bit in (("its group", stat.S_IWGRP),
                                                   ("all users", stat.S_IWOTH))
                                   if writable_by & bit)
                fix = f"chmod go-w {component}"
                if missing is not None:
                    fix += f", or create {missing} first (mode 0755)"
                yield _Finding(CODE_WRITABLE, component,
                               f"{component}{role} is writable by {who} (mode"
                               f" {_mode_text(st)}, owner {_owner_text(st.st_uid)}): whoever"
                               f" can write it can plant code that this interpreter runs;"
                               f" fix: {fix}", (st.st_dev, st.st_ino))
        child_owned = owned
        missing = None


def _findings(path: str, *, contents: bool, uid: int,
              lstat: Callable[[str], os.stat_result]) -> List[_Finding]:
    found = list(_inspect(path, contents=contents, uid=uid, lstat=lstat))
    real = os.path.realpath(path)
    if real != os.path.normpath(path):
        seen = {(f.code, f.key) for f in found}
        found.extend(f for f in _inspect(real, contents=contents, uid=uid, lstat=lstat)
                     if (f.code, f.key) not in seen)
    return found


def _pyvenv_candidates(origin: Optional[str], cfg: EmbedConfig,
                       config_dir: Optional[str]) -> List[Tuple[str, str]]:
    dirs: List[Tuple[str, str]] = []
    if origin:
        dirs.append(("the launcher's directory ($ORIGIN)", origin))
    # CPython's path calculation looks for pyvenv.cfg beside and above the
    # executable: options.executable, else program_name (searched in PATH
    # when it has no slash, which no check made here can predict).
    for name in ("executable", "program_name"):
        value = cfg.options.get(name)
        if isinstance(value, str) and ("/" in value or value.startswith("$")):
            expanded = expand(value, origin=origin, config_dir=config_dir)
            if expanded is not None:
                dirs.append((f"the directory of option {name!r}", os.path.dirname(expanded)))
    out: List[Tuple[str, str]] = []
    for label, d in dirs:
        d = d.rstrip("/") or "/"
        out.append((label, os.path.join(d, VENV_FILE)))
        parent = os.path.dirname(d)
        out.append((f"the parent of {label}", os.path.join(parent, VENV_FILE)))
    return out


def check_paths(cfg: EmbedConfig, *, config_dir: Optional[str], origin: Optional[str],
                allow_insecure: bool = False,
                uid: Optional[int] = None,
                lstat: Callable[[str], os.stat_result] = os.lstat) -> List[Problem]:
    """Refusals for the paths of ``cfg`` on this machine.

    ``origin`` is the launcher's directory (``$ORIGIN``) and ``config_dir``
    the document's (``$CONFIG_DIR``); paths anchored to an unknown one are
    skipped, and so is the ``pyvenv.cfg`` check without ``origin``.
    ``allow_insecure`` (``--allow-insecure-paths``, for development only)
    turns every refusal into a warning. ``uid`` defaults to the effective
    user id; ``lstat`` is replaceable for tests.
    """
    me = os.geteuid() if uid is None else uid
    severity = Severity.WARNING if allow_insecure else Severity.ERROR
    problems: List[Problem] = []
    reported: Set[Tuple[str, Tuple[object, ...]]] = set()
    for item in paths_of(cfg, origin=origin, config_dir=config_dir):
        for f in _findings(item.path, contents=item.contents, uid=me, lstat=lstat):
            if (f.code, f.key) in reported:
                continue  # an ancestor shared by several paths: say it once
            reported.add((f.code, f.key))
            problems.append(Problem(f.code, f"{item.what}: {f.text}", item.pointer, severity))
    seen: Set[str] = set()
    for label, candidate in _pyvenv_candidates(origin, cfg, config_dir):
        if candidate in seen:
            continue
        seen.add(candidate)
        try:
            st = lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:
            problems.append(Problem(CODE_CANNOT_CHECK, f"{candidate} cannot be inspected"
                                    f" ({e.strerror}); the launcher must know whether it"
                                    " exists", "", severity))
            continue
        problems.append(Problem(
            CODE_PYVENV, f"unexpected {candidate} in {label} (owner"
            f" {_owner_text(st.st_uid)}, mode {_mode_text(st)}): CPython reads it at start-up"
            " even with an isolated configuration, and it can redirect sys.prefix to a"
            " directory whose .pth files run code; fix: remove it, or install the launcher"
            " in a directory of its own (not a virtual environment's bin/)", "", severity))
    return problems

