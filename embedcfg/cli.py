"""The ``embedcfg`` command line.

Exit codes: 0 success (every file valid), 1 problems found (or a command
failed on its input), 2 usage error; ``run`` exits with the application's
status, or 78 (EX_CONFIG) when the document is refused. Only :func:`main` exits; :func:`run`
takes its streams and returns the code, which is what the tests call.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import (TYPE_CHECKING, Any, Callable, Dict, List, NamedTuple, NoReturn, Optional,
                    Sequence, TextIO, Tuple)

if TYPE_CHECKING:  # imported where used: embedcfg keeps its start-up light
    from pathlib import Path

    from .checks import Target
    from .codec import Parsed
    from .errors import Problem
    from .model import EmbedConfig

__all__ = ["EXIT_CONFIG", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "main", "run"]

#: The exit statuses of every command, defined here only (docs/reference/cli.rst).
EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
#: Exit status of `run` for a document that is not valid (sysexits.h EX_CONFIG),
#: the same as the launcher's for a configuration error.
EXIT_CONFIG = 78


class _UsageError(Exception):
    pass


def _columns() -> int:
    """The terminal width, found as shutil.get_terminal_size finds it."""
    try:
        columns = int(os.environ["COLUMNS"])
        if columns > 0:
            return columns
    except (KeyError, ValueError):
        pass
    stream = sys.__stdout__
    try:
        return (os.get_terminal_size(stream.fileno()).columns or 80) if stream else 80
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized without importing shutil (and with it
    bz2, lzma and zlib): that import was 2 % of a one-file validate run,
    which CI and pre-commit pay on every call."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: Optional[int] = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse, minus its habit of printing to sys.stdout and exiting: the
    streams are run()'s and the exit code is decided in one place."""

    def __init__(self, *args: Any, stdout: Optional[TextIO] = None, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._stdout = stdout

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (file if file is not None and file is not sys.stdout else self._stdout
             or sys.stdout).write(message)

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: Optional[str] = None) -> NoReturn:
        if message:
            raise _UsageError(message.rstrip())
        raise _Exit(status)


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _version() -> str:
    from . import __version__

    return __version__


def _parser(stdout: TextIO) -> argparse.ArgumentParser:
    """The whole command line's parser (for --help, --version and errors)."""
    p = _Parser(prog="embedcfg", description="Configuration as data for embedded CPython.",
                epilog="Exit status: 0 success, 1 problems found, 2 usage error.",
                stdout=stdout)
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add, _ in _COMMANDS.values():
        add(sub, stdout)
    return p


class _OneCommand:
    """Stands in for the sub-parsers of :func:`_parser` when argv names a
    command: that command's parser alone, as argparse would build it
    (``prog`` "embedcfg NAME"). Building every parser cost as much as
    validating a file, and pre-commit and CI start embedcfg per call."""

    def __init__(self) -> None:
        self.parser: Optional[argparse.ArgumentParser] = None

    def add_parser(self, name: str, *, help: Optional[str] = None,
                   **kwargs: Any) -> argparse.ArgumentParser:
        self.parser = _Parser(prog=f"embedcfg {name}", **kwargs)
        return self.parser


def _parse(argv: Sequence[str], stdout: TextIO) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    if argv and argv[0] in _COMMANDS:
        one = _OneCommand()
        _COMMANDS[argv[0]][0](one, stdout)
        assert one.parser is not None
        args = one.parser.parse_args(list(argv[1:]))
        args.command, args.version = argv[0], False
        return one.parser, args
    parser = _parser(stdout)
    return parser, parser.parse_args(list(argv))


_HOST_HELP = ("the built host program: also check that it exports the init functions of"
              " inittab entries without a library")


def _add_validate(sub: Any, stdout: TextIO) -> None:
    v = sub.add_parser("validate", stdout=stdout, help="check documents (exit 1 on any problem)",
                       description="Check documents against the schema and the semantic"
                       " rules. Exit status: 0 all valid, 1 problems, 2 usage error.")
    v.add_argument("files", nargs="+", metavar="FILE", help=".toml or .json documents")
    v.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="output format (github: workflow commands that annotate the diff)")
    v.add_argument("--target", metavar="PYTHON",
                   help="check against this interpreter: its version, build and stdlib")
    v.add_argument("--strict", action="store_true", help="warnings are errors too")
    v.add_argument("--allow-insecure-paths", action="store_true",
                   help="with --target: report paths other users can write to as warnings"
                   " instead of errors (development trees only)")
    v.add_argument("--engine", choices=("embedcfg", "jsonschema"), default="embedcfg",
                   help="schema evaluator: embedcfg's (fast) or jsonschema (the reference)")
    v.add_argument("--host", metavar="PROGRAM",
                   help=_HOST_HELP)
    v.add_argument("--link", choices=("dynamic", "static"), default="dynamic",
                   help="with --target: check for the launcher of `embedcfg build --link"
                   " static` too, which refuses a lib naming another CPython (EC208)")


def _add_schema(sub: Any, stdout: TextIO) -> None:
    s = sub.add_parser("schema", stdout=stdout, help="print or write the JSON Schema",
                       description="Print the JSON Schema of the document format.")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--write", metavar="PATH", nargs="?", const="schema/embedcfg-1.schema.json",
                   help="write it to PATH (default: schema/embedcfg-1.schema.json)")
    g.add_argument("--check", metavar="PATH", nargs="?", const="",
                   help="exit 1 when PATH (default: the committed schema, found from the"
                   " package) differs from the generated schema")


def _add_convert(sub: Any, stdout: TextIO) -> None:
    c = sub.add_parser("convert", stdout=stdout, help="convert a document between JSON and TOML",
                       description="Convert IN to OUT; formats come from the extensions."
                       " OUT is written atomically, and only when IN is valid.")
    c.add_argument("input", metavar="IN")
    c.add_argument("output", metavar="OUT")


def _add_show(sub: Any, stdout: TextIO) -> None:
    sh = sub.add_parser("show", stdout=stdout, help="print a validated document in normal form",
                        description="Validate FILE and print it in normal form.")
    sh.add_argument("file", metavar="FILE")
    sh.add_argument("--as", dest="fmt", choices=("toml", "json", "canonical"), default="toml",
                    help="output form (canonical: what the C shim reads)")


def _add_build(sub: Any, stdout: TextIO) -> None:
    b = sub.add_parser("build", stdout=stdout, help="build the C shim and launcher",
                       description="Compile the shim library and the launcher for an installed"
                       " CPython (cached; rebuilt only when the sources change). Documents"
                       " given are validated first, init functions included; nothing is"
                       " built when one has errors.")
    b.add_argument("documents", nargs="*", metavar="DOCUMENT",
                   help="documents to check before building (.toml or .json)")
    b.add_argument("--python", metavar="PYTHON",
                   help="the interpreter to build for (default: the one running embedcfg)")
    b.add_argument("--cflags", action="store_true",
                   help="print the compiler flags of a C/C++ host that includes embedcfg.h")
    b.add_argument("--ldflags", action="store_true",
                   help="print the linker flags of a host that links the shim library"
                   " (with --cflags: both, on one line)")
    b.add_argument("--json", action="store_true",
                   help="print the paths and flags as one JSON object")
    b.add_argument("--host", metavar="PROGRAM",
                   help=_HOST_HELP)
    b.add_argument("--link", choices=("dynamic", "static"), default="dynamic",
                   help="dynamic: the launcher loads the document's lib and the shim"
                   " library; static: one launcher linked with the interpreter's static"
                   " libpython and the shim, faster to start and to run (see the"
                   " 'static or dynamic launcher' page)")


def _add_run(sub: Any, stdout: TextIO) -> None:
    r = sub.add_parser("run", stdout=stdout, help="run a document through the launcher",
                       description="Validate DOCUMENT, build the launcher if needed, and run"
                       " it; the exit status is the application's. An invalid document"
                       " exits 78 (EX_CONFIG) without starting an interpreter.")
    r.add_argument("document", metavar="DOCUMENT")
    r.add_argument("args", nargs="*", metavar="ARG",
                   help="arguments for the application (after --)")
    r.add_argument("--python", metavar="PYTHON",
                   help="the interpreter to run (default: the one of the document's lib,"
                   " else the one running embedcfg)")
    r.add_argument("--link", choices=("dynamic", "static"), default="dynamic",
                   help="run it with the dynamic launcher or the one linked with the static"
                   " libpython (as embedcfg build --link)")


def _add_precompile(sub: Any, stdout: TextIO) -> None:
    pc = sub.add_parser("precompile", stdout=stdout,
                        help="compile the modules a document's interpreter will import",
                        description="Compile every module on the document's module search"
                        " paths with the target interpreter, into exactly the place the"
                        " [pycache] policy reads from. Nothing is half-written; exit 1 lists"
                        " the modules that failed.")
    pc.add_argument("file", metavar="DOCUMENT", help=".toml or .json document")
    pc.add_argument("--python", metavar="PYTHON",
                    help="the target interpreter (default: the one running embedcfg); its"
                    " CPython minor must be the one the application runs with")
    pc.add_argument("--stdlib", action="store_true",
                    help="also compile the target's standard library (without its test suite)")
    pc.add_argument("--unchecked-hash", action="store_true",
                    help="write unchecked hash-based pycs (PEP 552): never compared with the"
                    " sources; for immutable images only")
    pc.add_argument("--origin", metavar="DIR",
                    help="what $ORIGIN means: the directory the launcher will run from")


def _add_pack(sub: Any, stdout: TextIO) -> None:
    pk = sub.add_parser("pack", stdout=stdout,
                        help="pack a document's modules into one bytecode archive",
                        description="Compile every module on the document's module search"
                        " paths with the target interpreter and write them, sorted and"
                        " indexed, into one archive (docs/reference/archive.rst) that the"
                        " document's archives key imports from. Deterministic; nothing is"
                        " written when a module fails to compile (exit 1).")
    pk.add_argument("file", metavar="DOCUMENT", help=".toml or .json document")
    pk.add_argument("-o", "--output", required=True, metavar="FILE",
                    help="the archive to write (atomically)")
    pk.add_argument("--python", metavar="PYTHON",
                    help="the target interpreter (default: the one running embedcfg); the"
                    " archive only loads on its CPython minor")
    pk.add_argument("--stdlib", action="store_true",
                    help="also pack the target's standard library (without its test suite)")
    pk.add_argument("--with-source", action="store_true",
                    help="store the sources too, for tracebacks and get_source")
    pk.add_argument("--no-data", action="store_true",
                    help="leave out the package data files")
    pk.add_argument("--origin", metavar="DIR",
                    help="what $ORIGIN means: the directory the launcher will run from")


def _add_bundle(sub: Any, stdout: TextIO) -> None:
    bu = sub.add_parser("bundle", stdout=stdout,
                        help="write a relocatable directory that runs a document's application",
                        description="Write DIR: the launcher (bin/NAME), a copy of the target's"
                        " libpython, the application and the standard library packed by the"
                        " target, the extension modules, and the document rewritten with"
                        " $ORIGIN paths; with --onefile, one executable that holds all of it."
                        " Every import of the application must be found first."
                        " Exit status: 0 written, 1 problems (nothing written), 2 usage error"
                        " (DIR holds something that is not a bundle).")
    bu.add_argument("file", metavar="DOCUMENT", help=".toml or .json document")
    bu.add_argument("-o", "--output", required=True, metavar="DIR",
                    help="the directory to write (built beside it and renamed into place);"
                    " with --onefile, the file")
    bu.add_argument("--python", metavar="PYTHON",
                    help="the target interpreter (default: the one running embedcfg); it needs"
                    " a shared libpython, or with --link static a static one")
    bu.add_argument("--name", metavar="NAME",
                    help="the program's name, bin/NAME (default: the document's file name"
                    " without its extension)")
    bu.add_argument("--with-source", action="store_true",
                    help="store the sources in the archive too, for tracebacks")
    bu.add_argument("--force", action="store_true",
                    help="replace DIR even when it is not empty and not a previous bundle")
    bu.add_argument("--link", choices=("dynamic", "static"), default=None,
                    help="dynamic (default): the launcher, the shim library and a copy of"
                    " libpython; static (the default with --onefile): the launcher linked"
                    " with the target's static libpython and the shim (embedcfg build"
                    " --link static), alone")
    bu.add_argument("--onefile", action="store_true",
                    help="write one executable: the static launcher with the document, the"
                    " archive and the extension modules appended")


def _add_bake(sub: Any, stdout: TextIO) -> None:
    from .bake import MECHANISMS

    b = sub.add_parser("bake", stdout=stdout,
                       help="write a document's inittab as a sorted C table",
                       description="Turn a document's inittab into C source: a static-module"
                       " table compiled into the host. Exit status: 0 written, 1 problems,"
                       " 2 usage error.")
    b.add_argument("document", help="the document (TOML or JSON)")
    b.add_argument("-o", "--output", required=True,
                   help="the C file to write ('-' for standard output)")
    b.add_argument("--mechanism", choices=MECHANISMS, default=None,
                   help="indexed: a sorted table for the static importer (default, unless"
                        " the document sets static_modules); inittab: CPython's struct"
                        " _inittab array")
    b.add_argument("--prefix", default="embedcfg_static",
                   help="prefix of the generated C symbols (default: embedcfg_static)")
    b.add_argument("--host", help="a built host program: report init functions it lacks")


def _add_inspect(sub: Any, stdout: TextIO) -> None:
    i = sub.add_parser("inspect", stdout=stdout,
                       help="print an interpreter's effective configuration as a document",
                       description="Capture the effective configuration of PYTHON (default:"
                       " the interpreter running embedcfg) as a document, to pin it.")
    i.add_argument("--python", metavar="PYTHON", help="the interpreter to inspect")
    i.add_argument("--clean-env", action="store_true",
                   help="start it without this shell's PYTHON* variables, so that only"
                   " its installation and configuration are captured")
    i.add_argument("--format", choices=("toml", "json"), default="toml")


def run(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    """Run the command line ``argv`` (without the program name)."""
    try:
        if not argv:
            _parser(stdout).print_usage(stderr)
            return EXIT_USAGE
        parser, args = _parse(argv, stdout)
        if args.version:
            stdout.write(f"embedcfg {_version()}\n")
            return EXIT_OK
        if args.command is None:
            parser.print_usage(stderr)
            return EXIT_USAGE
        return _COMMANDS[args.command][1](args, stdout, stderr)
    except _UsageError as e:
        stderr.write(f"{e}\n")
        return EXIT_USAGE
    except _Exit as e:  # --help
        return e.code


def _validate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .report import report

    target = None
    if args.target is not None:
        from .checks import inspect_target

        try:
            target = inspect_target(args.target)
        except ValueError as e:
            stderr.write(f"embedcfg: error: --target: {e}\n")
            return EXIT_USAGE
    if args.link == "static" and target is None:
        stderr.write("embedcfg validate: error: --link static needs --target: the launcher's"
                     " CPython\n")
        return EXIT_USAGE
    checked = _check_documents(args.files, target=target, engine=args.engine, symbols=True,
                               host=args.host, allow_insecure=args.allow_insecure_paths,
                               static_for=target if args.link == "static" else None)
    problems = [p for c in checked for p in c.problems]
    failed = any(p.is_error or args.strict for p in problems)
    report(args.format, problems, args.files, failed, stdout)
    return EXIT_PROBLEMS if failed else EXIT_OK


class _Checked(NamedTuple):
    """One document, read and checked."""

    name: str
    #: None when the file could not be read or parsed.
    parsed: Optional["Parsed"]
    #: None when it could not be read or breaks the schema.
    cfg: Optional["EmbedConfig"]
    #: Every problem found, located in the file.
    problems: List["Problem"]


def _check_documents(names: Sequence[str], *, target: Optional["Target"] = None,
                     engine: str = "embedcfg", symbols: bool = False,
                     host: Optional[str] = None,
                     allow_insecure: bool = False,
                     static_for: Optional["Target"] = None) -> List[_Checked]:
    """Read and check every document; no problem stops the others.

    Every command that reads documents comes through here, so they all find
    the same problems. ``symbols``: look up the inittab's init functions
    (EC505), in ``host`` too. With a ``target``, the paths the document names
    are checked on this machine as well, where the target lives. ``static_for``:
    the CPython a static launcher has linked in, whose ``lib`` rule (EC208)
    applies as well.
    """
    from . import _api, codec, schema
    from .errors import LoadError

    schema_doc = schema.build_schema()  # once for all the files
    checked: List[_Checked] = []
    for name in names:
        try:
            parsed = codec.read(name)
        except LoadError as e:
            checked.append(_Checked(name, None, None, [e.problem]))
            continue
        cfg, problems = _api.check_parsed(parsed, target, engine, schema_doc)
        if cfg is not None and symbols:
            problems.extend(_symbol_problems(parsed, cfg, name, host))
        config_dir = os.path.dirname(os.path.realpath(name))
        if cfg is not None and target is not None:
            from .checks import archive_problems
            from .security import check_paths

            problems.extend(parsed.locate(check_paths(
                cfg, config_dir=config_dir, origin=None, allow_insecure=allow_insecure)))
            problems.extend(parsed.locate(archive_problems(cfg, target, config_dir=config_dir)))
        if cfg is not None and static_for is not None:
            from .checks import static_lib_problems

            problems.extend(parsed.locate(static_lib_problems(cfg, static_for)))
        if cfg is not None:
            from .checks import stdlib_problems

            problems.extend(parsed.locate(stdlib_problems(
                cfg, config_dir=config_dir, origin=None, target=target)))
        checked.append(_Checked(name, parsed, cfg, problems))
    return checked


def _valid_documents(names: Sequence[str], stderr: TextIO,
                     **checks: Any) -> Optional[List[_Checked]]:
    """The documents, checked as :func:`_check_documents` does; None, after
    every problem was reported on ``stderr``, when one of them has errors
    (what a command that goes on to use them needs)."""
    from .report import report

    checked = _check_documents(names, **checks)
    problems = [p for c in checked for p in c.problems]
    if any(c.cfg is None for c in checked) or any(p.is_error for p in problems):
        report("text", problems, names, True, stderr)
        return None
    return checked


def _schema(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from . import codec, schema

    text = schema.render()
    if args.write:
        codec.write_atomic(args.write, text.encode("utf-8"))
        stderr.write(f"wrote {args.write}\n")
    elif args.check is not None:
        if not args.check:
            from pathlib import Path

            args.check = _committed_schema(Path(__file__).resolve().parent)
        try:
            with open(args.check, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            stderr.write(f"embedcfg: error: cannot read {args.check}: {e.strerror}\n")
            return EXIT_PROBLEMS
        if current != text:
            stderr.write(f"{args.check} is stale: run 'embedcfg schema --write {args.check}'\n")
            return EXIT_PROBLEMS
        stdout.write(f"{args.check} is up to date\n")
    else:
        stdout.write(text)
    return EXIT_OK


def _committed_schema(package: "Path") -> str:
    """Where the committed schema of ``package`` (the ``embedcfg`` directory)
    is: inside it in an installed wheel, beside it in a checkout; else the
    current directory's ``schema/``, as before there was a package to ask."""
    from .schema import SCHEMA_FILE

    for candidate in (package / SCHEMA_FILE, package.parent / SCHEMA_FILE):
        if candidate.is_file():
            return str(candidate)
    return SCHEMA_FILE


def _load_for_output(name: str, stdout: TextIO, stderr: TextIO) -> Optional["EmbedConfig"]:
    checked = _valid_documents([name], stderr)
    return None if checked is None else checked[0].cfg


def _convert(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from . import _api, codec

    if codec.format_of(args.output) is None:
        stderr.write(f"embedcfg: error: cannot tell the format of {args.output!r}:"
                     " use .json or .toml\n")
        return EXIT_USAGE
    checked = _valid_documents([args.input], stderr)
    if checked is None:
        return EXIT_PROBLEMS
    (document,) = checked
    assert document.parsed is not None and document.cfg is not None
    _api.dump(document.cfg, args.output,
              schema_ref=_moved_ref(document.parsed.schema_ref, args.input, args.output))
    return EXIT_OK


def _moved_ref(ref: Optional[str], source: str, destination: str) -> Optional[str]:
    """The schema pointer ``ref`` of ``source`` as ``destination`` must spell
    it: a URL or an absolute path as is; a relative path, which editors
    resolve from the file's directory, rewritten from the new directory."""
    if ref is None or "://" in ref or os.path.isabs(ref):
        return ref
    target = os.path.join(os.path.dirname(os.path.abspath(source)), ref)
    return os.path.relpath(target, os.path.dirname(os.path.abspath(destination)))


def _show(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from . import codec

    cfg = _load_for_output(args.file, stdout, stderr)
    if cfg is None:
        return EXIT_PROBLEMS
    if args.fmt == "canonical":
        stdout.write(codec.canonical(cfg).decode("utf-8") + "\n")
    else:
        stdout.write(codec.dumps(cfg, args.fmt))
    return EXIT_OK


def _symbol_problems(parsed: "Parsed", cfg: "EmbedConfig", name: str,
                     host: Optional[str]) -> List["Problem"]:
    """EC505: init functions the shim would not find (only when there is an
    inittab: nm is not run for other documents)."""
    if not cfg.inittab:
        return []
    from ._symbols import symbol_problems

    found = symbol_problems(cfg, config_dir=os.path.dirname(os.path.realpath(name)), host=host)
    return parsed.locate(found) if found else []


def _build(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import json
    import shlex

    from .build import build, host_flags
    from .errors import ShimError

    if args.json and (args.cflags or args.ldflags):
        stderr.write("embedcfg build: error: --json already holds the flags: give it alone\n")
        return EXIT_USAGE
    if args.link == "static":
        return _build_static(args, stdout, stderr)
    if args.documents and _valid_documents(args.documents, stderr, symbols=True,
                                           host=args.host) is None:
        return EXIT_PROBLEMS

    try:
        if args.json or args.cflags or args.ldflags:
            flags = host_flags(args.python, stderr=stderr)
            built = flags.built
        else:
            built = build(args.python, stderr=stderr)
    except ShimError as e:
        stderr.write(f"embedcfg: error: {e}\n")
        return EXIT_PROBLEMS
    if args.json:
        stdout.write(json.dumps({
            "python": built.python, "version": ".".join(map(str, built.version)),
            "link": built.link, "shim": str(built.shim), "launcher": str(built.launcher),
            "libpython": built.libpython, "include_dirs": list(flags.include_dirs),
            "cflags": list(flags.cflags), "ldflags": list(flags.ldflags)}, indent=2) + "\n")
        return EXIT_OK
    if args.cflags or args.ldflags:
        chosen = (flags.cflags if args.cflags else ()) + (flags.ldflags if args.ldflags else ())
        stdout.write(" ".join(map(shlex.quote, chosen)) + "\n")
        return EXIT_OK
    stdout.write(f"CPython {'.'.join(map(str, built.version))}\n"
                 f"shim:     {built.shim}\nlauncher: {built.launcher}\n")
    return EXIT_OK


def _build_static(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``embedcfg build --link static``: the launcher linked with the static
    libpython; documents are checked for it too (EC208)."""
    import json

    from .build import build, probe
    from .errors import ShimError

    if args.cflags or args.ldflags:
        stderr.write("embedcfg build: error: --link static builds a launcher only; a host"
                     " that links the shim library takes --cflags/--ldflags without it\n")
        return EXIT_USAGE
    try:
        target = probe(args.python) if args.documents else None
        if args.documents and _valid_documents(args.documents, stderr, symbols=True,
                                               host=args.host, static_for=target) is None:
            return EXIT_PROBLEMS
        built = build(args.python, stderr=stderr, link="static")
    except ShimError as e:
        stderr.write(f"embedcfg: error: {e}\n")
        return EXIT_PROBLEMS
    if args.json:
        stdout.write(json.dumps({
            "python": built.python, "version": ".".join(map(str, built.version)),
            "link": built.link, "launcher": str(built.launcher),
            "static_library": built.static_library, "libpython": built.libpython},
            indent=2) + "\n")
        return EXIT_OK
    stdout.write(f"CPython {'.'.join(map(str, built.version))}\n"
                 f"launcher: {built.launcher} (libpython {built.static_library} linked in)\n")
    return EXIT_OK


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from . import shim
    from .errors import ShimError

    cfg = _load_for_output(args.document, stdout, stderr)
    if cfg is None:
        return EXIT_CONFIG
    try:
        return shim.run(cfg, args.args, args.python,
                        config_dir=os.path.dirname(os.path.abspath(args.document)),
                        link=args.link)
    except ShimError as e:
        stderr.write(f"embedcfg: error: {e}\n")
        return EXIT_CONFIG


class _Bar:
    """precompile's one-line progress bar on a terminal (stderr)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.last = -1.0

    def __call__(self, done: int, total: int, source: str) -> None:
        import time

        now = time.monotonic()
        if done != total and now - self.last < 0.1:
            return
        self.last = now
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total}")
        self.stream.flush()

    def finish(self) -> None:
        if self.last >= 0:
            self.stream.write("\n")
            self.stream.flush()


def _precompile(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .errors import ConfigInvalid
    from .precompile import PrecompileError, precompile
    from .report import report

    checked = _valid_documents([args.file], stderr)
    if checked is None:
        return EXIT_PROBLEMS
    (document,) = checked
    assert document.parsed is not None and document.cfg is not None
    cfg = document.cfg
    bar = _Bar(stderr) if stderr.isatty() else None
    try:
        result = precompile(cfg, python=args.python,
                            config_dir=os.path.dirname(os.path.abspath(args.file)),
                            origin=args.origin, include_stdlib=args.stdlib,
                            unchecked_hash=args.unchecked_hash, progress=bar)
    except ConfigInvalid as e:
        located: List[Problem] = document.parsed.locate(list(e.problems))
        report("text", located, [args.file], True, stderr)
        return EXIT_PROBLEMS
    except PrecompileError as e:
        stderr.write(f"embedcfg: error: {e}\n")
        return EXIT_PROBLEMS
    finally:
        if bar is not None:
            bar.finish()
    for path, why in result.plan.skipped:
        stderr.write(f"embedcfg: note: {path} not compiled: {why}\n")
    for f in (*result.warnings, *result.failed):
        stderr.write(f"{f.source}: {f.message}\n")
    (stdout if result.ok else stderr).write(result.summary() + "\n")
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _pack(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .pack import PackError, pack

    checked = _valid_documents([args.file], stderr)
    if checked is None:
        return EXIT_PROBLEMS
    cfg = checked[0].cfg
    assert cfg is not None
    try:
        result = pack(cfg, args.output, python=args.python,
                      config_dir=os.path.dirname(os.path.abspath(args.file)),
                      origin=args.origin, include_stdlib=args.stdlib,
                      with_source=args.with_source, with_data=not args.no_data)
    except PackError as e:
        stderr.write(f"embedcfg: error: {e}\n")
        return EXIT_PROBLEMS
    for path, why in result.skipped:
        stderr.write(f"embedcfg: note: {path} not packed: {why}\n")
    for source, message in result.failed:
        stderr.write(f"{source}: {message}\n")
    (stdout if result.ok else stderr).write(result.summary() + "\n")
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _bundle(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ._locate import Locator
    from .bundle import BundleError, BundleRefused, bundle, default_name, missing_lines

    checked = _valid_documents([args.file], stderr)
    if checked is None:
        return EXIT_PROBLEMS
    (document,) = checked
    assert document.parsed is not None and document.cfg is not None
    try:
        result = bundle(document.cfg, args.output, python=args.python,
                        name=args.name or default_name(args.file),
                        config_dir=os.path.dirname(os.path.abspath(args.file)),
                        with_source=args.with_source, force=args.force,
                        link=args.link or ("static" if args.onefile else "dynamic"),
                        onefile=args.onefile, log=stderr)
    except BundleRefused as e:
        stderr.write(f"embedcfg bundle: error: {e}\n")
        return EXIT_USAGE
    except BundleError as e:
        stderr.write(f"{args.file}: error: {e}\n")
        return EXIT_PROBLEMS
    locator = Locator(document.parsed.text, document.parsed.fmt)
    for line in missing_lines(result.missing, locator.find, args.file):
        stderr.write(line + "\n")
    for source, message in result.failed:
        stderr.write(f"{source}: {message}\n")
    for note in result.notes:
        stderr.write(f"embedcfg: note: {note}\n")
    if result.ok:
        stdout.write("".join(line + "\n" for line in result.listing()))
    (stdout if result.ok else stderr).write(result.summary() + "\n")
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _bake(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from pathlib import Path

    from .bake import bake, missing_symbols

    checked = _valid_documents([args.document], stderr)
    if checked is None:
        return EXIT_PROBLEMS
    cfg = checked[0].cfg
    assert cfg is not None
    if args.host is not None:
        missing = missing_symbols(cfg, args.host, exported=False,
                                  config_dir=Path(args.document).resolve().parent)
        if missing:
            for m in missing:
                stderr.write(f"{args.document}: error: {m.message}\n")
            return EXIT_PROBLEMS
    try:
        # A baked table is compiled in, so the size threshold of the automatic
        # choice does not apply: the document's explicit choice, else indexed.
        mechanism = args.mechanism or (cfg.static_modules.value
                                       if cfg.static_modules is not None else "indexed")
        text = bake(cfg, mechanism=mechanism, prefix=args.prefix,
                    source=os.path.basename(args.document))
    except ValueError as e:
        stderr.write(f"{args.document}: error: {e}\n")
        return EXIT_PROBLEMS
    if args.output == "-":
        stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return EXIT_OK


def _inspect(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from . import codec, introspect

    try:
        found = introspect.inspect(args.python, clean_environment=args.clean_env)
    except ValueError as e:
        stderr.write(f"embedcfg: error: --python: {e}\n")
        return EXIT_USAGE
    version = ".".join(map(str, found.version))
    notes = [f"captured from CPython {version} through {found.source}"]
    notes += [f"from the environment: {name} ({variable}); --clean-env captures without it"
              for name, variable in sorted(found.from_environment.items())]
    notes += [f"not captured: {name} ({why})" for name, why in sorted(found.skipped.items())]
    if args.format == "toml":
        stdout.write("".join(f"# {n}\n" for n in notes) + codec.dumps(found.config, "toml"))
    else:
        stdout.write(codec.dumps(found.config, "json"))
        stderr.write("".join(f"embedcfg: {n}\n" for n in notes))
    return EXIT_OK


_Handler = Callable[[argparse.Namespace, TextIO, TextIO], int]

#: Every sub-command: what adds its parser and what runs it, in --help order.
_COMMANDS: Dict[str, Tuple[Callable[[Any, TextIO], None], _Handler]] = {
    "validate": (_add_validate, _validate), "schema": (_add_schema, _schema),
    "convert": (_add_convert, _convert), "show": (_add_show, _show),
    "build": (_add_build, _build), "run": (_add_run, _run),
    "precompile": (_add_precompile, _precompile), "pack": (_add_pack, _pack),
    "bundle": (_add_bundle, _bundle),
    "bake": (_add_bake, _bake),
    "inspect": (_add_inspect, _inspect),
}


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Console entry point."""
    sys.exit(run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr))


if __name__ == "__main__":  # pragma: no cover
    main()
