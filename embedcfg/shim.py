"""ctypes binding to the C shim, and running documents through the launcher.

* :func:`run` / :func:`launch`: write the canonical form of a document, start
  ``embedcfg-launch`` (built for the chosen interpreter by
  :mod:`embedcfg.build`) and return its exit code / the finished process.
* :func:`attach`: the embedded case. Load the shim built for the running
  interpreter with :class:`ctypes.PyDLL` and apply what can be changed at
  run time; the :class:`AttachReport` says, option by option, what could not.
* :class:`Handle`: the handle API of ``embedcfg.h``, for tests and tools.
  Its setters never touch the interpreter, so it is safe in any process.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

import attrs

from . import build as _build
from .codec import canonical
from .errors import ShimError
from .model import EmbedConfig

__all__ = ["AttachItem", "AttachReport", "Handle", "attach", "launch", "load_library", "run"]

PathLike = Union[str, "os.PathLike[str]"]

_APPLIED = 0


@attrs.frozen
class AttachItem:
    """What happened to one option when attaching."""

    option: str
    applied: bool
    detail: str


@attrs.frozen
class AttachReport:
    """The outcome of :func:`attach`, option by option."""

    items: Tuple[AttachItem, ...]

    @property
    def applied(self) -> Tuple[str, ...]:
        """Options changed in the running interpreter."""
        return tuple(i.option for i in self.items if i.applied)

    @property
    def not_applied(self) -> Tuple[str, ...]:
        """Options that are fixed at init (or failed), with details in ``items``."""
        return tuple(i.option for i in self.items if not i.applied)


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    c = ctypes
    h = c.c_void_p
    sigs: Mapping[str, Tuple[Any, List[Any]]] = {
        "embedcfg_create": (h, []),
        "embedcfg_free": (None, [h]),
        "embedcfg_get_error": (c.c_char_p, [h]),
        "embedcfg_get_exit_code": (c.c_int, [h, c.POINTER(c.c_int)]),
        "embedcfg_set_profile": (c.c_int, [h, c.c_char_p]),
        "embedcfg_set_origin": (c.c_int, [h, c.c_char_p]),
        "embedcfg_set_config_dir": (c.c_int, [h, c.c_char_p]),
        "embedcfg_set_int": (c.c_int, [h, c.c_char_p, c.c_int64]),
        "embedcfg_set_str": (c.c_int, [h, c.c_char_p, c.c_char_p]),
        "embedcfg_set_strlist": (c.c_int, [h, c.c_char_p, c.c_size_t, c.POINTER(c.c_char_p)]),
        "embedcfg_append_strlist": (c.c_int, [h, c.c_char_p, c.c_size_t,
                                              c.POINTER(c.c_char_p)]),
        "embedcfg_has_option": (c.c_int, [h, c.c_char_p]),
        "embedcfg_add_module_symbol": (c.c_int, [h, c.c_char_p, c.c_char_p, c.c_char_p]),
        "embedcfg_set_static_modules": (c.c_int, [h, c.c_char_p]),
        "embedcfg_get_static_modules": (c.c_char_p, [h]),
        "embedcfg_load_file": (c.c_int, [h, c.c_char_p]),
        "embedcfg_load_buffer": (c.c_int, [h, c.c_char_p, c.c_size_t]),
        "embedcfg_get_lib": (c.c_char_p, [h]),
        "embedcfg_get_requires_python": (c.c_char_p, [h]),
        "embedcfg_is_embedded": (c.c_int, [h]),
        "embedcfg_initialize": (c.c_int, [h]),
        "embedcfg_attach_report_len": (c.c_size_t, [h]),
        "embedcfg_attach_report_item": (c.c_int, [h, c.c_size_t, c.POINTER(c.c_char_p),
                                                  c.POINTER(c.c_char_p)]),
        "embedcfg_python_version_hex": (c.c_ulong, []),
        "embedcfg_version_matches": (c.c_int, [c.c_char_p, c.c_int, c.c_int, c.c_int,
                                               c.c_char_p, c.c_size_t]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def load_library(path: Optional[PathLike] = None) -> ctypes.CDLL:
    """The shim library built for this interpreter (or the one at ``path``),
    loaded with :class:`ctypes.PyDLL`: calls hold the GIL and Python errors
    are not cleared behind the caller's back."""
    if path is None:
        path = _build.build(sys.executable).shim
    return _declare(ctypes.PyDLL(os.fspath(path)))


def _b(text: Optional[str]) -> Optional[bytes]:
    return None if text is None else text.encode("utf-8")


class Handle:
    """One ``embedcfg_handle``: set options, load documents, read errors.

    Every failing call raises :class:`~embedcfg.ShimError` with the shim's message.
    """

    def __init__(self, lib: Optional[ctypes.CDLL] = None) -> None:
        self._lib = lib if lib is not None else load_library()
        self._h = self._lib.embedcfg_create()
        if not self._h:
            raise MemoryError("embedcfg_create")

    def close(self) -> None:
        """Free the handle (idempotent)."""
        if self._h:
            self._lib.embedcfg_free(self._h)
            self._h = None

    def __enter__(self) -> "Handle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    @property
    def error(self) -> str:
        """The last error message ("" when none)."""
        raw = self._lib.embedcfg_get_error(self._h)
        return raw.decode("utf-8", "replace") if raw else ""

    def _check(self, rc: int) -> None:
        if rc < 0:
            raise ShimError(self.error)

    def exit_code(self) -> Optional[int]:
        """The exit status CPython asked for during init, if any."""
        code = ctypes.c_int(0)
        return code.value if self._lib.embedcfg_get_exit_code(self._h, ctypes.byref(code)) else None

    def set_profile(self, profile: str) -> None:
        self._check(self._lib.embedcfg_set_profile(self._h, _b(profile)))

    def set_origin(self, directory: str) -> None:
        self._check(self._lib.embedcfg_set_origin(self._h, _b(directory)))

    def set_config_dir(self, directory: str) -> None:
        self._check(self._lib.embedcfg_set_config_dir(self._h, _b(directory)))

    def set_int(self, name: str, value: int) -> None:
        self._check(self._lib.embedcfg_set_int(self._h, _b(name), value))

    def set_str(self, name: str, value: str) -> None:
        self._check(self._lib.embedcfg_set_str(self._h, _b(name), _b(value)))

    def set_strlist(self, name: str, items: Sequence[str], append: bool = False) -> None:
        arr = (ctypes.c_char_p * max(len(items), 1))(*[_b(i) for i in items])
        fn = self._lib.embedcfg_append_strlist if append else self._lib.embedcfg_set_strlist
        self._check(fn(self._h, _b(name), len(items), arr))

    def has_option(self, name: str) -> bool:
        return bool(self._lib.embedcfg_has_option(self._h, _b(name)))

    def add_module(self, name: str, symbol: Optional[str] = None,
                   library: Optional[str] = None) -> None:
        """Register an inittab module by symbol name (resolved at init)."""
        self._check(self._lib.embedcfg_add_module_symbol(self._h, _b(name), _b(symbol),
                                                         _b(library)))

    def set_static_modules(self, mechanism: Optional[str]) -> None:
        """``"inittab"``, ``"indexed"``, or None for the automatic choice."""
        self._check(self._lib.embedcfg_set_static_modules(self._h, _b(mechanism)))

    @property
    def static_modules(self) -> str:
        """The mechanism in effect for the modules registered so far."""
        return (self._lib.embedcfg_get_static_modules(self._h) or b"").decode("utf-8")

    def load_buffer(self, data: bytes) -> None:
        self._check(self._lib.embedcfg_load_buffer(self._h, data, len(data)))

    def load_file(self, path: PathLike) -> None:
        self._check(self._lib.embedcfg_load_file(self._h, os.fsencode(path)))

    def load(self, cfg: EmbedConfig) -> None:
        """Load a document in its canonical form."""
        self.load_buffer(canonical(cfg))

    @property
    def lib(self) -> str:
        return (self._lib.embedcfg_get_lib(self._h) or b"").decode("utf-8")

    @property
    def requires_python(self) -> str:
        return (self._lib.embedcfg_get_requires_python(self._h) or b"").decode("utf-8")

    @property
    def embedded(self) -> bool:
        return bool(self._lib.embedcfg_is_embedded(self._h))

    def initialize(self) -> None:
        """Initialize CPython, or attach when the document says embedded."""
        self._check(self._lib.embedcfg_initialize(self._h))

    def report(self) -> AttachReport:
        """The attach report of the last :meth:`initialize`."""
        items = []
        for i in range(self._lib.embedcfg_attach_report_len(self._h)):
            name, detail = ctypes.c_char_p(), ctypes.c_char_p()
            status = self._lib.embedcfg_attach_report_item(self._h, i, ctypes.byref(name),
                                                           ctypes.byref(detail))
            items.append(AttachItem(option=(name.value or b"").decode("utf-8"),
                                    applied=status == _APPLIED,
                                    detail=(detail.value or b"").decode("utf-8", "replace")))
        return AttachReport(items=tuple(items))


def attach(cfg: EmbedConfig, *, library: Optional[PathLike] = None,
           config_dir: Optional[PathLike] = None) -> AttachReport:
    """Apply an ``embedded = true`` document to the running interpreter.

    Options that can change at run time (``module_search_paths`` entries are
    appended to ``sys.path``; ``pycache_prefix``, ``write_bytecode``,
    ``warnoptions``, ``argv``; any public option through ``PyConfig_Set`` on
    3.14) are applied; the others are reported as not applied. The
    inittab's modules become importable through the indexed static importer
    (report item ``inittab``); their init functions are all found first, so a
    missing one refuses the document before anything changes. Raises
    :class:`~embedcfg.ShimError` when the document is refused (for instance
    ``embedded = false``). ``config_dir`` is what ``$CONFIG_DIR`` means.
    """
    with Handle(load_library(library)) as h:
        if config_dir is not None:
            h.set_config_dir(os.fspath(config_dir))
        h.load(cfg)
        h.initialize()
        return h.report()


def _canonical_for_run(cfg: EmbedConfig, config_dir: Optional[PathLike]) -> bytes:
    data = canonical(cfg)
    if config_dir is None and (b"$CONFIG_DIR" in data or b"${CONFIG_DIR}" in data):
        raise ShimError("the document uses $CONFIG_DIR: pass config_dir (the directory"
                        " it stands for)")
    return data




_LIBPYTHON = re.compile(r"libpython(\d+)\.(\d+)")


def _python_for(cfg: EmbedConfig, config_dir: Optional[PathLike]) -> str:
    """The interpreter to build for: the one installed with the document's
    ``lib`` (``<prefix>/lib/libpython3.X.so`` -> ``<prefix>/bin/python3.X``),
    else the one running embedcfg."""
    lib = cfg.lib
    if lib is not None and lib.startswith("$CONFIG_DIR") and config_dir is not None:
        lib = os.fspath(config_dir) + lib[len("$CONFIG_DIR"):]
    m = _LIBPYTHON.search(Path(lib).name) if lib is not None and os.path.isabs(lib) else None
    if lib is not None and m is not None:
        candidate = Path(lib).parent.parent / "bin" / f"python{m.group(1)}.{m.group(2)}"
        if candidate.exists():
            return str(candidate)
    return sys.executable


def _program_argv0(cfg: EmbedConfig, origin: str, config_dir: Optional[str]) -> Optional[str]:
    """What ``sys.argv[0]`` is when CPython's own command line runs what
    ``cfg`` runs: the script (``python app.py``), ``-c``, or ``-m`` (which
    runpy replaces with the module's file, as for ``python -m``). None when
    the document decides: it gives ``argv`` itself, or CPython parses argv as
    a command line (``parse_argv``, on by default in the python profile) and
    computes it from there."""
    from .model import Profile
    from .document import expand

    options = cfg.options
    parse_argv = options.get("parse_argv", cfg.profile is Profile.PYTHON)
    if "argv" in options or parse_argv:
        return None
    script = options.get("run_filename")
    if isinstance(script, str):
        return expand(script, origin=origin, config_dir=config_dir) or script
    if "run_command" in options:
        return "-c"
    if "run_module" in options:
        return "-m"
    return None


def launch(cfg: EmbedConfig, argv: Sequence[str] = (), python: Optional[str] = None,
           config_dir: Optional[PathLike] = None, *, link: str = "dynamic", **kwargs: Any
           ) -> "subprocess.CompletedProcess[Any]":
    """Run ``cfg`` through the launcher built for ``python`` (default: the
    interpreter of the document's ``lib`` when it can be found next to it,
    else this interpreter) and return the finished process. ``config_dir`` is what
    ``$CONFIG_DIR`` means; the canonical document is written to a private
    temporary directory, never there (it may be a read-only image), and the
    launcher is told ``--config-dir``. ``kwargs`` go to :func:`subprocess.run`
    (``env``, ``capture_output``...).

    ``sys.argv`` is what CPython's command line gives for the same program:
    ``[script, *argv]`` for ``run_filename``, ``['-c', *argv]`` for
    ``run_command``, the module's file for ``run_module``, unless the
    document sets ``argv`` (``argv`` then follows it) or ``parse_argv``.
    ``link="static"``: the launcher linked with the static libpython
    (``embedcfg build --link static``)."""
    data = _canonical_for_run(cfg, config_dir)
    built = _build.build(python if python is not None else _python_for(cfg, config_dir),
                         link=link)
    first = _program_argv0(cfg, os.path.realpath(built.launcher.parent),
                           None if config_dir is None else os.path.realpath(config_dir))
    if first is not None:
        # The launcher puts its arguments after the document's argv; without
        # one it would start argv with its own path ([''] with no arguments).
        data = _canonical_for_run(cfg.with_options(argv=[first]), config_dir)
    with tempfile.TemporaryDirectory(prefix="embedcfg-run-") as tmp:
        doc = Path(tmp) / "document.json"
        doc.write_bytes(data)
        where = ([] if config_dir is None
                 else ["--config-dir", os.path.realpath(os.fspath(config_dir))])
        return subprocess.run([str(built.launcher), *where, str(doc), *argv], check=False,
                              **kwargs)


def run(cfg: EmbedConfig, argv: Sequence[str] = (), python: Optional[str] = None,
        config_dir: Optional[PathLike] = None, *, link: str = "dynamic") -> int:
    """Run ``cfg`` through the launcher (``link`` as for :func:`launch`) and
    return its exit code (78 for a configuration error, with one
    ``embedcfg: error:`` line on stderr)."""
    return launch(cfg, argv, python, config_dir, link=link).returncode
