"""The single table of interpreter options embedcfg knows.

Every option a document may set is described here and nowhere else: the JSON
Schema (``schema/embedcfg-1.schema.json``), the semantic checks, the option
reference in the docs and the C shim's name -> member table all follow from
this table, and tests fail when one of them drifts.

Names are PEP 741 names (``PYCONFIG_SPEC`` and ``PYPRECONFIG_SPEC`` of CPython
3.14's ``Python/initconfig.c``), which are also the ``PyConfig`` /
``PyPreConfig`` member names of 3.8-3.13. ``since`` / ``until`` are the first
and last CPython minor whose structs have the member; tests compare them with
the headers of every CPython installed on the machine.

``_config_init`` is deliberately absent: it records which preset filled the
struct, and overwriting it would make CPython misread the rest.
"""

from __future__ import annotations

import enum
from typing import Mapping, Optional, Tuple, Union

import attrs

__all__ = [
    "FIRST_VERSION",
    "KNOWN_VERSIONS",
    "LAST_VERSION",
    "OPTIONS",
    "Build",
    "CType",
    "Kind",
    "Option",
    "PathUse",
    "Struct",
    "Version",
    "Visibility",
    "format_version",
]

Version = Tuple[int, int]
#: A value an option can take in a document.
Scalar = Union[bool, int, str]

#: The CPython minors embedcfg configures.
FIRST_VERSION: Version = (3, 8)
LAST_VERSION: Version = (3, 14)
KNOWN_VERSIONS: Tuple[Version, ...] = tuple((3, m) for m in range(8, 15))


def format_version(version: Version) -> str:
    """``(3, 11)`` -> ``"3.11"``."""
    return f"{version[0]}.{version[1]}"


class CType(enum.Enum):
    """How CPython stores the member (the spec type of ``initconfig.c``)."""

    BOOL = "BOOL"
    INT = "INT"
    UINT = "UINT"
    ULONG = "ULONG"
    WSTR = "WSTR"
    WSTR_OPT = "WSTR_OPT"
    WSTR_LIST = "WSTR_LIST"


class Kind(enum.Enum):
    """The type of the option's value in a document."""

    BOOL = "bool"
    INT = "int"
    STR = "str"
    STR_LIST = "str_list"


class Visibility(enum.Enum):
    """What PEP 741 allows once the interpreter runs (``PyConfig_Set``)."""

    PUBLIC = "public"  # PyConfig_Get and PyConfig_Set
    READ_ONLY = "read-only"  # PyConfig_Get only: fixed at init
    INIT_ONLY = "init-only"  # not even visible to PyConfig_Get


class Struct(enum.Enum):
    """Which C struct of 3.8-3.13 holds the member."""

    CONFIG = "PyConfig"
    PRECONFIG = "PyPreConfig"
    BOTH = "PyPreConfig+PyConfig"


class PathUse(enum.Enum):
    """What the interpreter loads from a path (the security checks' question)."""

    FILE = "file"  # the file itself: a library, an archive on sys.path
    CONTENTS = "contents"  # a directory whose entries are loaded: nobody else may add one


class Build(enum.Enum):
    """Members that exist only on some builds of CPython."""

    WINDOWS = "windows"  # MS_WINDOWS
    FREE_THREADED = "free-threaded"  # Py_GIL_DISABLED
    DEBUG = "debug"  # Py_DEBUG
    STATS = "stats"  # Py_STATS
    MACOS = "macos"  # __APPLE__

    @property
    def macro(self) -> str:
        """The C macro defined on those builds (the shim's guard)."""
        return _BUILD_MACRO[self]

    @property
    def label(self) -> str:
        """How messages and docs name them: "... only on <label> builds"."""
        return _BUILD_LABEL[self]


_BUILD_MACRO = {
    Build.WINDOWS: "MS_WINDOWS",
    Build.FREE_THREADED: "Py_GIL_DISABLED",
    Build.DEBUG: "Py_DEBUG",
    Build.STATS: "Py_STATS",
    Build.MACOS: "__APPLE__",
}
_BUILD_LABEL = {
    Build.WINDOWS: "Windows",
    Build.FREE_THREADED: "free-threaded",
    Build.DEBUG: "debug",
    Build.STATS: "Py_STATS",
    Build.MACOS: "macOS",
}

_KIND_OF_CTYPE = {
    CType.BOOL: Kind.BOOL,
    CType.INT: Kind.INT,
    CType.UINT: Kind.INT,
    CType.ULONG: Kind.INT,
    CType.WSTR: Kind.STR,
    CType.WSTR_OPT: Kind.STR,
    CType.WSTR_LIST: Kind.STR_LIST,
}

_INT_MAX = 2**31 - 1  # INT_MAX: the limit of the C int members
_UINT_MAX = 2**32 - 1


@attrs.frozen
class Option:
    """One interpreter option: its type, valid values, versions and meaning."""

    name: str
    ctype: CType
    doc: str
    since: Version = FIRST_VERSION
    #: The last CPython minor that has the member; None while it exists.
    until: Optional[Version] = None
    visibility: Visibility = Visibility.READ_ONLY
    struct: Struct = Struct.CONFIG
    build: Optional[Build] = None
    #: The document type; derived from ``ctype`` unless a table gives names
    #: to an integer member (``allocator``) or widens a BOOL spec member that
    #: 3.8-3.13 store as a small int (``coerce_c_locale``).
    kind: Optional[Kind] = None
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    #: Values allowed outside [minimum, maximum] (``0`` for
    #: ``int_max_str_digits``, ``-1`` for ``cpu_count``).
    also: Tuple[int, ...] = ()
    #: For str options with a closed set of values: value -> C value. For
    #: ``allocator`` the C value is the ``PyMemAllocatorName`` number.
    choices: Optional[Mapping[str, int]] = None
    #: Values that only newer CPython minors accept: value -> first minor.
    values_since: Mapping[Scalar, Version] = attrs.field(factory=dict)
    #: Where ``sys`` mirrors the option at run time, if it does: an attribute
    #: (``"prefix"``) or one of ``sys.flags`` (``"flags.optimize"``);
    #: ``sys_inverted`` when it is the option's negation (``flags.no_site``
    #: for ``site_import``). ``embedcfg inspect`` reads the flags where
    #: nothing better is available.
    sys_attr: Optional[str] = None
    sys_inverted: bool = False
    #: The value is a filesystem path (or a list of them): it must be
    #: absolute or anchored ($ORIGIN, $CONFIG_DIR), and anchors are expanded.
    path: bool = False
    #: For a path that the interpreter loads code from: what it loads. The
    #: path checks (embedcfg.security, the launcher's pathsec.c) refuse it
    #: when another user can change that. In a list, an entry ending in one
    #: of ``document.ARCHIVE_SUFFIXES`` is a file.
    loads: Optional[PathUse] = None
    #: The PYTHON* variable CPython reads for this option when the
    #: environment is read (the python profile) - for most of them even when
    #: the member was set explicitly (flags are merged with max(), others are
    #: "set if present"; measured by tests/integration/test_environment.py).
    #: The shim removes the variable of every option a document sets before
    #: init, so the document wins.
    env: Optional[str] = None

    @property
    def value_kind(self) -> Kind:
        """The document type of the option's value."""
        return self.kind if self.kind is not None else _KIND_OF_CTYPE[self.ctype]

    @property
    def runtime_settable(self) -> bool:
        """True when ``PyConfig_Set`` (3.14) can change it after init."""
        return self.visibility is Visibility.PUBLIC

    @property
    def private(self) -> bool:
        """Private CPython members (leading underscore)."""
        return self.name.startswith("_")

    def exists_in(self, version: Version) -> bool:
        """True when CPython ``version`` has the member (ignoring build flags)."""
        if version < self.since:
            return False
        return self.until is None or version <= self.until


_B, _I, _U, _UL = CType.BOOL, CType.INT, CType.UINT, CType.ULONG
_S, _SO, _SL = CType.WSTR, CType.WSTR_OPT, CType.WSTR_LIST
_PUB, _INIT = Visibility.PUBLIC, Visibility.INIT_ONLY

# PyMemAllocatorName of Include/cpython/pymem.h (stable since 3.8; mimalloc
# entries 3.13). 0 is PYMEM_ALLOCATOR_NOT_SET, which a document expresses by
# leaving the option out.
_ALLOCATORS = {
    "default": 1,
    "debug": 2,
    "malloc": 3,
    "malloc_debug": 4,
    "pymalloc": 5,
    "pymalloc_debug": 6,
    "mimalloc": 7,
    "mimalloc_debug": 8,
}

# The order is the order of the reference docs: alphabetical, private last.
_TABLE = (
    Option("allocator", _I, "Memory allocator (PYTHONMALLOC).", struct=Struct.PRECONFIG,
           kind=Kind.STR, choices=_ALLOCATORS,
           values_since={"mimalloc": (3, 13), "mimalloc_debug": (3, 13)}, env="PYTHONMALLOC"),
    Option("argv", _SL, "Command line arguments; becomes sys.argv.", visibility=_PUB,
           sys_attr="argv"),
    Option("base_exec_prefix", _SO, "sys.base_exec_prefix.", visibility=_PUB,
           sys_attr="base_exec_prefix", path=True),
    Option("base_executable", _SO, "sys._base_executable.", visibility=_PUB,
           sys_attr="_base_executable", path=True),
    Option("base_prefix", _SO, "sys.base_prefix.", visibility=_PUB, sys_attr="base_prefix", path=True),
    Option("buffered_stdio", _B, "Buffer stdout and stderr (false is -u).", env="PYTHONUNBUFFERED"),
    Option("bytes_warning", _U, "Warn (1) or raise (2) on bytes/str comparisons (-b).",
           visibility=_PUB, minimum=0, maximum=2, sys_attr="flags.bytes_warning"),
    Option("check_hash_pycs_mode", _S,
           "Validation of hash-based .pyc files (PEP 552, --check-hash-based-pycs).",
           kind=Kind.STR, choices={"default": 0, "always": 1, "never": 2}),
    Option("code_debug_ranges", _B, "Keep column positions in code objects (-X no_debug_ranges is false).",
           since=(3, 11), env="PYTHONNODEBUGRANGES"),
    Option("coerce_c_locale", _B, "Coerce the C locale to a UTF-8 locale: 0 no, 1 yes, 2 yes and warn (PEP 538).",
           struct=Struct.PRECONFIG, kind=Kind.INT, minimum=0, maximum=2, env="PYTHONCOERCECLOCALE"),
    Option("coerce_c_locale_warn", _B, "Warn when the C locale is coerced.",
           struct=Struct.PRECONFIG),
    Option("configure_c_stdio", _B, "Configure C standard streams (binary mode, buffering)."),
    Option("configure_locale", _B, "Set LC_CTYPE to the user preferred locale.",
           struct=Struct.PRECONFIG),
    Option("context_aware_warnings", _I, "warnings.catch_warnings uses a context variable (-X context_aware_warnings).",
           since=(3, 14), minimum=0, maximum=1, env="PYTHON_CONTEXT_AWARE_WARNINGS"),
    Option("cpu_count", _I, "Override os.cpu_count() (-X cpu_count); -1 leaves it alone.",
           since=(3, 13), visibility=_PUB, minimum=1, maximum=_INT_MAX, also=(-1,), env="PYTHON_CPU_COUNT"),
    Option("dev_mode", _B, "Python Development Mode (-X dev).", struct=Struct.BOTH, env="PYTHONDEVMODE", sys_attr="flags.dev_mode"),
    Option("dump_refs", _B, "Dump live references at exit (debug builds only act on it).", env="PYTHONDUMPREFS"),
    Option("dump_refs_file", _SO, "File to dump live references into at exit.", since=(3, 11), path=True),
    Option("enable_gil", _I, "Free-threaded builds: 0 disable the GIL, 1 enable it (-X gil).",
           since=(3, 13), build=Build.FREE_THREADED, minimum=0, maximum=1),
    Option("exec_prefix", _SO, "sys.exec_prefix.", visibility=_PUB, sys_attr="exec_prefix", path=True),
    Option("executable", _SO, "sys.executable.", visibility=_PUB, sys_attr="executable", path=True),
    Option("faulthandler", _B, "Enable faulthandler (-X faulthandler).", env="PYTHONFAULTHANDLER"),
    Option("filesystem_encoding", _S, "Filesystem encoding (sys.getfilesystemencoding())."),
    Option("filesystem_errors", _S, "Filesystem error handler (sys.getfilesystemencodeerrors())."),
    Option("hash_seed", _UL, "Seed of str/bytes hashing (PYTHONHASHSEED); also sets use_hash_seed.",
           minimum=0, maximum=_UINT_MAX, env="PYTHONHASHSEED"),
    Option("home", _SO, "Python home directory: where the standard library is found (PYTHONHOME).", path=True, env="PYTHONHOME"),
    Option("import_time", _U, "Show import times: 1 (-X importtime), 2 also cached imports (3.14).",
           minimum=0, maximum=2, values_since={2: (3, 14)}, env="PYTHONPROFILEIMPORTTIME"),
    Option("inspect", _B, "Enter interactive mode after running a script (-i).", visibility=_PUB,
           sys_attr="flags.inspect", env="PYTHONINSPECT"),
    Option("install_signal_handlers", _B, "Install Python's signal handlers (SIGINT, ...)."),
    Option("int_max_str_digits", _U, "Limit of int <-> str conversion digits (-X int_max_str_digits); 0 disables.",
           since=(3, 12), visibility=_PUB, minimum=640, maximum=_INT_MAX, also=(0,), env="PYTHONINTMAXSTRDIGITS", sys_attr="flags.int_max_str_digits"),
    Option("interactive", _B, "Interactive mode (-i).", visibility=_PUB,
           sys_attr="flags.interactive"),
    Option("isolated", _B, "Isolated mode (-I): implies safe_path, no environment, no user site.",
           struct=Struct.BOTH, sys_attr="flags.isolated"),
    Option("legacy_windows_fs_encoding", _B, "Use mbcs for the filesystem encoding (PYTHONLEGACYWINDOWSFSENCODING).",
           struct=Struct.PRECONFIG, build=Build.WINDOWS, env="PYTHONLEGACYWINDOWSFSENCODING"),
    Option("legacy_windows_stdio", _B, "Use the legacy Windows console I/O (PYTHONLEGACYWINDOWSSTDIO).",
           build=Build.WINDOWS, env="PYTHONLEGACYWINDOWSSTDIO"),
    Option("malloc_stats", _B, "Print pymalloc statistics at exit (PYTHONMALLOCSTATS).", env="PYTHONMALLOCSTATS"),
    Option("module_search_paths", _SL, "The module search path: sys.path exactly (sets module_search_paths_set).",
           visibility=_PUB, sys_attr="path", path=True, loads=PathUse.CONTENTS, env="PYTHONPATH"),
    Option("module_search_paths_set", _B, "Use module_search_paths as given instead of computing it.",
           visibility=_INIT),
    Option("optimization_level", _U, "Optimization level: -O is 1, -OO is 2.", visibility=_PUB,
           minimum=0, maximum=2, sys_attr="flags.optimize", env="PYTHONOPTIMIZE"),
    Option("orig_argv", _SL, "The original command line; becomes sys.orig_argv.", since=(3, 10),
           sys_attr="orig_argv"),
    Option("parse_argv", _B, "Parse argv like the python command line does.", struct=Struct.BOTH),
    Option("parser_debug", _B, "Parser debug output (-d, debug builds).", visibility=_PUB,
           sys_attr="flags.debug", env="PYTHONDEBUG"),
    Option("pathconfig_warnings", _B, "Warn when the path configuration cannot be computed."),
    Option("perf_profiling", _U, "Linux perf support: 1 trampolines (-X perf), 2 jitdump (-X perf_jit, 3.13).",
           since=(3, 12), minimum=0, maximum=2, values_since={2: (3, 13)}, env="PYTHONPERFSUPPORT"),
    Option("platlibdir", _S, "Name of the platform library directory (sys.platlibdir).",
           since=(3, 9), visibility=_PUB, sys_attr="platlibdir", env="PYTHONPLATLIBDIR"),
    Option("prefix", _SO, "sys.prefix.", visibility=_PUB, sys_attr="prefix", path=True),
    Option("program_name", _S, "Program name used to compute the path configuration."),
    Option("pycache_prefix", _SO, "Directory tree for .pyc files instead of __pycache__ (-X pycache_prefix).",
           visibility=_PUB, sys_attr="pycache_prefix", path=True, loads=PathUse.CONTENTS,
           env="PYTHONPYCACHEPREFIX"),
    Option("pythonpath_env", _SO, "Module search path entries as PYTHONPATH would give them (os.pathsep-separated).",
           visibility=_INIT, env="PYTHONPATH"),
    Option("quiet", _B, "Do not print the version at interactive start-up (-q).", visibility=_PUB,
           sys_attr="flags.quiet"),
    Option("remote_debug", _B, "Allow remote debuggers to attach (PEP 768).", since=(3, 14),
           env="PYTHON_DISABLE_REMOTE_DEBUG"),
    Option("run_command", _SO, "Run this code, as -c does."),
    Option("run_filename", _SO, "Run this file, as python FILE does.", path=True),
    Option("run_module", _SO, "Run this module as __main__, as -m does."),
    Option("run_presite", _SO, "Import this module before site (debug builds, -X presite).",
           since=(3, 13), build=Build.DEBUG),
    Option("safe_path", _B, "Do not prepend a potentially unsafe path to sys.path (-P).", since=(3, 11), env="PYTHONSAFEPATH", sys_attr="flags.safe_path"),
    Option("show_alloc_count", _B, "Print allocation counts at exit (COUNT_ALLOCS builds; removed in 3.9).",
           until=(3, 8)),
    Option("show_ref_count", _B, "Print the total reference count at exit (debug builds)."),
    Option("site_import", _B, "Import the site module at start-up (false is -S).", sys_attr="flags.no_site", sys_inverted=True),
    Option("skip_source_first_line", _B, "Skip the first line of the source file (-x)."),
    Option("stdio_encoding", _S, "Encoding of sys.stdin, sys.stdout and sys.stderr.", env="PYTHONIOENCODING"),
    Option("stdio_errors", _S, "Error handler of sys.stdin, sys.stdout and sys.stderr.", env="PYTHONIOENCODING"),
    Option("stdlib_dir", _SO, "Directory of the standard library (sys._stdlib_dir).", since=(3, 11),
           visibility=_PUB, sys_attr="_stdlib_dir", path=True),
    Option("sys_path_0", _SO, "Path prepended to sys.path by Py_RunMain.", since=(3, 13),
           visibility=_INIT, path=True),
    Option("thread_inherit_context", _I, "Threads start with a copy of the caller's context (-X thread_inherit_context).",
           since=(3, 14), minimum=0, maximum=1, env="PYTHON_THREAD_INHERIT_CONTEXT"),
    Option("tlbc_enabled", _I, "Free-threaded builds: thread-local bytecode (-X tlbc).", since=(3, 14),
           build=Build.FREE_THREADED, minimum=0, maximum=1),
    Option("tracemalloc", _U, "Trace memory allocations, keeping this many frames (-X tracemalloc).",
           minimum=0, maximum=65535, env="PYTHONTRACEMALLOC"),
    Option("use_environment", _B, "Read PYTHON* environment variables (false is -E).",
           struct=Struct.BOTH, visibility=_PUB, sys_attr="flags.ignore_environment", sys_inverted=True),
    Option("use_frozen_modules", _B, "Use frozen standard library modules (-X frozen_modules).",
           since=(3, 11)),
    Option("use_hash_seed", _B, "Use hash_seed instead of a random seed.", env="PYTHONHASHSEED"),
    Option("use_system_logger", _B, "Send stdout and stderr to the system log (Apple platforms).",
           since=(3, 14), build=Build.MACOS),
    Option("user_site_directory", _B, "Add the user site-packages directory to sys.path (false is -s).", env="PYTHONNOUSERSITE", sys_attr="flags.no_user_site", sys_inverted=True),
    Option("utf8_mode", _B, "Python UTF-8 Mode (-X utf8, PEP 540).", struct=Struct.PRECONFIG, env="PYTHONUTF8",
           sys_attr="flags.utf8_mode"),
    Option("verbose", _U, "Verbose imports (-v; higher is louder).", visibility=_PUB,
           minimum=0, maximum=_INT_MAX, sys_attr="flags.verbose", env="PYTHONVERBOSE"),
    Option("warn_default_encoding", _B, "EncodingWarning when the locale encoding is used implicitly (PEP 597).",
           since=(3, 10), env="PYTHONWARNDEFAULTENCODING", sys_attr="flags.warn_default_encoding"),
    Option("warnoptions", _SL, "Warning filters (-W); becomes sys.warnoptions.", visibility=_PUB,
           sys_attr="warnoptions", env="PYTHONWARNINGS"),
    Option("write_bytecode", _B, "Write .pyc files (false is -B).", visibility=_PUB,
           sys_attr="flags.dont_write_bytecode", sys_inverted=True,
           env="PYTHONDONTWRITEBYTECODE"),
    Option("xoptions", _SL, "-X options, each 'name' or 'name=value'; becomes sys._xoptions.",
           visibility=_PUB, sys_attr="_xoptions"),
    Option("_init_main", _B, "Private: run the main phase of initialization (false stops before it).",
           visibility=_INIT),
    Option("_install_importlib", _B, "Private: initialize importlib (false is for freezing tools only).",
           visibility=_INIT),
    Option("_is_python_build", _B, "Private: Python runs from its source tree.", since=(3, 11),
           visibility=_INIT),
    Option("_pystats", _B, "Private: gather statistics (Py_STATS builds).", since=(3, 13),
           build=Build.STATS),
)

#: Every option by name, in reference order.
OPTIONS: Mapping[str, Option] = {o.name: o for o in _TABLE}
