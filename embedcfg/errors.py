"""Problems found in a document, and the exceptions that carry them.

A :class:`Problem` is data: a stable code, a message that says what was
expected, what was found and how to fix it, and where (RFC 6901 JSON pointer,
file, line and column when the parser knows them). Reporting is separate
(:mod:`embedcfg.report`).
"""

from __future__ import annotations

import enum
from typing import Iterable, Mapping, Optional, Sequence, Tuple

import attrs

from .document import SUPPORTED

__all__ = [
    "CODES",
    "Code",
    "ConfigInvalid",
    "LoadError",
    "Problem",
    "Severity",
    "ShimError",
    "json_path",
    "pointer_from_parts",
    "pointer_parts",
]


class Severity(enum.Enum):
    """How bad a problem is: errors fail validation, warnings only with --strict."""

    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Code:
    """A documented problem code."""

    code: str
    title: str
    why: str
    fix: str


def _codes(*entries: Tuple[str, str, str, str]) -> Mapping[str, Code]:
    return {c[0]: Code(*c) for c in entries}


#: Every problem code embedcfg reports. The error-code reference in the docs
#: is generated from this table; codes are never reused for another meaning.
CODES: Mapping[str, Code] = _codes(
    # Reading the file.
    ("EC001", "file cannot be read",
     "The file does not exist, is a directory or is not readable.",
     "Check the path and the permissions."),
    ("EC002", "unknown file format",
     "The format is chosen by the extension: .json or .toml.",
     "Rename the file, or pass the format explicitly (loads(text, format=...))."),
    ("EC003", "file too large",
     "Documents are limited to 1 MiB, so a runaway file cannot exhaust memory in CI or in the C shim.",
     "A configuration never needs that much: look for generated or pasted content."),
    ("EC004", "not UTF-8",
     "Documents are UTF-8 text; the byte at the reported position is not valid UTF-8.",
     "Re-save the file as UTF-8."),
    ("EC005", "syntax error",
     "The file is not well-formed JSON or TOML.",
     "Fix the syntax at the reported line and column."),
    ("EC006", "duplicate key",
     "The same key appears twice in one table; JSON parsers silently keep the last one.",
     "Keep one of the two entries."),
    ("EC007", "non-finite number",
     "NaN and Infinity are not valid values of any option.",
     "Use an integer in the option's range."),
    ("EC008", "NUL character",
     "A NUL character cannot pass through the C API: it would silently truncate the string.",
     "Remove the \\u0000 from the string."),
    ("EC009", "lone surrogate",
     "A \\uD800-\\uDFFF escape that is not part of a surrogate pair is not a character and cannot be encoded as UTF-8.",
     "Write the character itself, or a correct surrogate pair."),
    ("EC010", "nesting too deep",
     "Documents are limited to 64 levels of nesting; deeper input is an attack or an accident.",
     "Flatten the structure."),
    ("EC011", "number too large",
     "An integer with thousands of digits is larger than any option accepts.",
     "Use a value in the option's range."),
    ("EC012", "byte order mark in JSON",
     "RFC 8259 forbids a byte order mark, and the C shim, which reads JSON documents itself, refuses it.",
     "Save the file as UTF-8 without BOM."),
    # Structure (the JSON Schema).
    ("EC100", "wrong type",
     "The value has another type than the key takes (a bool is not an int, a number is not a string).",
     "Use the type given in the message; see the option reference."),
    ("EC101", "unknown key",
     "The key is not part of the document format.",
     "Check the spelling (a suggestion is given when one is close) or remove it."),
    ("EC102", "unknown option",
     "The name under [options] is not a CPython configuration option.",
     "Check the spelling against the option reference; a suggestion is given when one is close."),
    ("EC103", "value out of range",
     "CPython accepts some out-of-range values silently and misbehaves later.",
     "Use a value in the range given in the message."),
    ("EC104", "value not allowed",
     "The key takes one of a fixed set of values.",
     "Use one of the values listed in the message."),
    ("EC105", "missing key",
     "A required key is absent.",
     "Add it."),
    ("EC106", "unsupported document version",
     "This embedcfg reads document format version 1.",
     "Set version = 1, or upgrade embedcfg."),
    ("EC107", "invalid string",
     "The string does not have the required form (for example an empty string where a name is needed).",
     "See the message for the expected form."),
    # Versions.
    ("EC200", "option too new for the target",
     "The option does not exist in a CPython version the document targets (requires_python or --target).",
     "Raise requires_python to the version named in the message, or remove the option."),
    ("EC201", "option removed in the target",
     "The option no longer exists in a CPython version the document targets.",
     "Remove the option, or restrict requires_python."),
    ("EC202", "value too new for the target",
     "This value of the option is only accepted by newer CPython versions.",
     "Raise requires_python, or use a value every targeted version accepts."),
    ("EC203", "invalid requires_python",
     "requires_python is a version specifier such as '>=3.10' or '>=3.9,<3.14'.",
     "Fix the specifier."),
    ("EC204", "target outside requires_python",
     "The --target interpreter is not in the document's requires_python range.",
     "Use another interpreter or change requires_python."),
    ("EC205", "no CPython version satisfies requires_python",
     f"embedcfg configures CPython {SUPPORTED}; the range admits none of them.",
     "Fix requires_python."),
    ("EC206", "option only on some builds",
     "The option exists only on some builds of CPython (Windows, free-threaded, debug, ...).",
     "Keep it only if every target is such a build."),
    ("EC207", "target cannot be inspected",
     "The --target interpreter could not be run to learn its version.",
     "Pass the path of a working python executable."),
    ("EC208", "lib names another CPython than the static launcher",
     "A launcher built with --link static has its CPython linked in and loads no libpython; a lib"
     " naming another minor's (or no) libpython was written for another interpreter than the one"
     " that would run.",
     "Remove lib or name the linked CPython's library (libpython3.X.so for a 3.X launcher), or"
     " build the static launcher for the CPython lib names."),
    # Conflicts.
    ("EC300", "conflicting run options",
     "run_command, run_module and run_filename are exclusive; CPython only asserts it in debug builds.",
     "Keep one of them."),
    ("EC301", "pycache policy conflicts with an option",
     "The [pycache] policy sets pycache_prefix, write_bytecode and check_hash_pycs_mode; an explicit option disagrees.",
     "Remove the raw option and let the policy decide, or make them agree."),
    ("EC302", "inittab mechanism in an embedded document",
     "An embedded document attaches to a running interpreter, and CPython aborts the process when its inittab is extended after init. static_modules = \"inittab\" asks for exactly that; the indexed importer (the automatic choice when embedded) is installed into the running interpreter instead.",
     "Set static_modules = \"indexed\" or remove the key, or set embedded = false."),
    ("EC303", "option overridden by isolated mode",
     "With isolated mode on, CPython forces safe_path on, use_environment and user_site_directory off, whatever the document says.",
     "Remove the option, or turn isolated off (isolated = false, or profile = \"python\")."),
    ("EC304", "module_search_paths_set without module_search_paths",
     "CPython then starts with an empty sys.path and fails with 'Failed to import encodings module'.",
     "Give module_search_paths (module_search_paths_set is then implied)."),
    ("EC305", "incomplete pycache policy",
     "mode = \"prefix\" needs a prefix, and a prefix is only used with mode = \"prefix\" (read and written there) or mode = \"readonly\" (only read from there); with mode \"default\", \"off\" or no mode it would do nothing.",
     "Give mode = \"prefix\" a prefix; give a prefix mode = \"prefix\" or \"readonly\", or remove it."),
    ("EC306", "option ignored in embedded mode",
     "An embedded document attaches to a running interpreter: options fixed at init cannot take effect.",
     "Remove the option, or move it to the host's own initialization."),
    # Paths.
    ("EC400", "relative path",
     "A bare relative path resolves against the current directory, which an attacker may choose.",
     "Make it absolute, or anchor it: $ORIGIN/... (the launcher's directory) or $CONFIG_DIR/... (the document's directory)."),
    ("EC401", "unknown path variable",
     "Only $ORIGIN and $CONFIG_DIR are expanded, and only at the start of a path.",
     "Use one of them, or an absolute path."),
    ("EC410", "path writable by other users",
     "A directory or file that other users can write to (group/other write bit, not protected by the sticky bit) lets them plant code that this interpreter runs.",
     "chmod go-w the path (or its parent), or use a directory only the application's user can write to."),
    ("EC411", "path owned by another user",
     "A file or directory owned by another non-root user can be changed by that user at any time.",
     "chown it to root or to the application's user, or use another path."),
    ("EC412", "unexpected pyvenv.cfg",
     "A pyvenv.cfg beside the launcher or one directory above redirects sys.prefix, and .pth files in that prefix run code at start-up, even in isolated mode.",
     "Remove the file, or move the launcher; it is never needed for an embedded application."),
    ("EC413", "path cannot be checked",
     "A path component could not be inspected (permission denied, a loop, ...), so its safety is unknown.",
     "Fix the permissions so the path can be inspected, or use another path."),
    ("EC420", "standard library not on the search path",
     "module_search_paths is sys.path exactly, and CPython imports the standard library's encodings package before anything else: without it the interpreter stops during init (\"Failed to import encodings module\").",
     "Add the standard library directory of the target CPython (and its lib-dynload), or leave module_search_paths out so CPython computes the path."),
    # Inittab.
    ("EC500", "invalid module name",
     "An inittab name must be a dotted Python identifier; CPython accepts others, which can then never be imported.",
     "Use a name such as 'mypkg._speedups'."),
    ("EC501", "duplicate module name",
     "CPython accepts the same name twice; the later entry wins and sys.builtin_module_names lists it twice.",
     "Keep one entry per module."),
    ("EC502", "module shadows the standard library",
     "A static module with the name of a standard-library or built-in module replaces it for every import.",
     "Rename the module (for example with a package prefix)."),
    ("EC503", "invalid init symbol",
     "init must be a C identifier (the name of the PyInit function).",
     "Use the C function's name, such as PyInit__speedups."),
    ("EC504", "non-ASCII module name",
     "PEP 489 names the init function of a module with a non-ASCII name PyInitU_<punycode of the name>; embedcfg's checks, embedcfg bake and the C shim do not derive that symbol, so such names are refused rather than half supported.",
     "Give the module an ASCII name (letters, digits and '_')."),
    ("EC505", "init function not found",
     "An inittab entry's init function is not defined where the document says: in its library (absolute or $CONFIG_DIR, checked by embedcfg validate and embedcfg build), or, with --host, exported by the host program, where the C shim looks it up with dlsym. The launcher would refuse to start (exit 78).",
     "Fix the name (init, or the module name it defaults from), build the library or the host with the init function, link the host with -rdynamic so dlsym finds its symbols, or point library at the right file."),
    # Archives (embedcfg pack), checked with --target and by the launcher before init.
    ("EC700", "archive cannot be read",
     "An archives[].path names a file that does not exist or cannot be read. The launcher refuses to start (exit 78) rather than fall back to the filesystem.",
     "Build it with embedcfg pack DOCUMENT -o FILE, or fix the path."),
    ("EC701", "invalid archive",
     "The file is not an embedcfg archive of this format, or it is truncated, oversized or corrupt: its index does not hold, or a checksum does not match (the header's, over the header, indexes and names, or a module's code or source or a data file's own). The launcher refuses a bad header or index before init (exit 78); a damaged module or data file fails where it is read (ImportError, OSError), since the launcher does not read every byte at start; validate --target checks them all.",
     "Rebuild it with embedcfg pack; copy it in binary mode."),
    ("EC702", "archive built for another CPython",
     "Marshalled code only loads on the CPython minor (and bytecode magic number) that wrote it; the archive's header names another one than the target's.",
     "Rebuild it with embedcfg pack --python TARGET."),
    # Values.
    ("EC600", "unknown codec",
     "The encoding is not known to Python; initialization would fail.",
     "Use a codec name Python knows, such as 'utf-8'."),
)


_PTR_ESCAPES = (("~", "~0"), ("/", "~1"))


def pointer_from_parts(parts: Iterable[object]) -> str:
    """Build an RFC 6901 JSON pointer from key and index segments."""
    out = []
    for p in parts:
        s = str(p)
        for raw, esc in _PTR_ESCAPES:
            s = s.replace(raw, esc)
        out.append("/" + s)
    return "".join(out)


def pointer_parts(pointer: str) -> Tuple[str, ...]:
    """Split an RFC 6901 JSON pointer into its (unescaped) segments."""
    if not pointer:
        return ()
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/"))


def json_path(pointer: str) -> str:
    """Render a pointer as a JSONPath-style location: ``$.inittab[2].name``."""
    out = ["$"]
    for part in pointer_parts(pointer):
        if part.isdigit():
            out.append(f"[{part}]")
        elif part.isidentifier():
            out.append(f".{part}")
        else:
            out.append("[" + repr(part) + "]")
    return "".join(out)


@attrs.frozen
class Problem:
    """One thing wrong with a document."""

    code: str
    message: str
    pointer: str = ""
    severity: Severity = Severity.ERROR
    file: Optional[str] = None
    line: Optional[int] = None
    col: Optional[int] = None

    @property
    def path(self) -> str:
        """The location as ``$.a.b[0]``."""
        return json_path(self.pointer)

    @property
    def is_error(self) -> bool:
        """True for errors, False for warnings."""
        return self.severity is Severity.ERROR


class LoadError(OSError):
    """A document could not be read at all (missing, unreadable)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class ConfigInvalid(ValueError):
    """A document has problems; they are in ``problems``."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0] if self.problems else None
        where = ""
        if first is not None:
            where = first.file or ""
            if first.line is not None:
                where += f":{first.line}:{first.col or 1}"
            where = f"{where}: " if where else ""
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        text = f"{where}{first.code} {first.message}{more}" if first else "invalid document"
        super().__init__(text)


class ShimError(RuntimeError):
    """The C shim refused a document or failed to apply it."""
