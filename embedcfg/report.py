"""Printing problems: ``text``, ``json`` and ``github`` reporters.

Results are gathered first and printed by one reporter chosen by name; the
exit code is decided elsewhere (the command line).
"""

from __future__ import annotations

from typing import Callable, Dict, List, Sequence, TextIO, Tuple

import attrs

from .errors import Problem

__all__ = ["FORMATS", "github_escape_data", "github_escape_property", "in_reading_order",
           "report"]


def _text(problems: Sequence[Problem], files: Sequence[str], failed: bool, out: TextIO) -> None:
    for p in problems:
        where = p.file or "<document>"
        if p.line is not None:
            where += f":{p.line}:{p.col or 1}"
        at = f" [{p.path}]" if p.pointer else ""
        out.write(f"{where}: {p.code} {p.severity.value}: {p.message}{at}\n")
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    verdict = "fail" if failed else "ok"
    out.write(f"{verdict}: {len(files)} file(s), {errors} error(s), {warnings} warning(s)\n")


def _json(problems: Sequence[Problem], files: Sequence[str], failed: bool, out: TextIO) -> None:
    import json  # only this format needs it

    errors = sum(p.is_error for p in problems)
    doc = {
        "status": "fail" if failed else "ok",
        "summary": {"files": len(files), "errors": errors, "warnings": len(problems) - errors},
        "problems": [
            {"file": p.file, "code": p.code, "severity": p.severity.value,
             "message": p.message, "pointer": p.pointer, "line": p.line, "col": p.col}
            for p in problems
        ],
    }
    out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def github_escape_data(s: str) -> str:
    """Escape a workflow command's message as @actions/core does."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_escape_property(s: str) -> str:
    """Escape a workflow command's property value as @actions/core does."""
    return github_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _github(problems: Sequence[Problem], files: Sequence[str], failed: bool,
            out: TextIO) -> None:
    for p in problems:
        props: List[str] = []
        if p.file is not None:
            props.append(f"file={github_escape_property(p.file)}")
        if p.line is not None:
            props.append(f"line={p.line}")
            props.append(f"col={p.col or 1}")
        props.append(f"title={github_escape_property(p.code)}")
        kind = "error" if p.is_error else "warning"
        message = p.message + (f" [{p.path}]" if p.pointer else "")
        out.write(f"::{kind} {','.join(props)}::{github_escape_data(message)}\n")


FORMATS: Dict[str, Callable[[Sequence[Problem], Sequence[str], bool, TextIO], None]] = {
    "text": _text,
    "json": _json,
    "github": _github,
}


def _printable(s: str) -> str:
    # A string from a model built in code may hold lone surrogates, which no
    # output stream can encode; they are shown escaped instead.
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


def in_reading_order(problems: Sequence[Problem], files: Sequence[str]) -> List[Problem]:
    """``problems`` by file (in the order ``files`` names them), then line and
    column: the order a reader goes through the files in, whichever check
    found each problem first. Problems without a line come first in their
    file (they are about the whole document); ties keep their order."""
    rank = {name: i for i, name in reversed(list(enumerate(files)))}

    def key(p: Problem) -> Tuple[int, int, int]:
        file_rank = rank.get(p.file, len(files)) if p.file is not None else len(files)
        return file_rank, p.line or 0, p.col or 0

    return sorted(problems, key=key)


def report(fmt: str, problems: Sequence[Problem], files: Sequence[str], failed: bool,
           out: TextIO) -> None:
    """Write ``problems`` found in ``files`` to ``out`` in format ``fmt``, in
    reading order; ``failed`` is the verdict (warnings fail only under --strict)."""
    clean = [attrs.evolve(p, message=_printable(p.message),
                          file=None if p.file is None else _printable(p.file),
                          pointer=_printable(p.pointer))
             for p in in_reading_order(problems, files)]
    FORMATS[fmt](clean, [_printable(f) for f in files], failed, out)
