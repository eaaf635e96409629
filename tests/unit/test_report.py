"""Reporters."""

from __future__ import annotations

import io
import json

from embedcfg.errors import CODES, Problem, Severity, json_path, pointer_from_parts
from embedcfg.report import github_escape_data, github_escape_property, report


def _out(fmt: str, problems: list, failed: bool = True) -> str:
    buf = io.StringIO()
    report(fmt, problems, ["a.toml"], failed, buf)
    return buf.getvalue()


def test_github_escaping_matches_actions_toolkit() -> None:
    """%, CR and LF in data; also : and , in properties."""
    assert github_escape_data("50%\r\nx: y, z") == "50%25%0D%0Ax: y, z"
    assert github_escape_property("C:\\a,b%") == "C%3A\\a%2Cb%25"


def test_github_line() -> None:
    """Properties, title and escaped message on one line."""
    p = Problem("EC103", "must be 0..2,\nfound 9", "/options/x", file="dir,1/a:b.toml",
                line=3, col=1)
    assert _out("github", [p]) == (
        "::error file=dir%2C1/a%3Ab.toml,line=3,col=1,title=EC103::must be 0..2,%0Afound 9"
        " [$.options.x]\n")


def test_github_warning_and_unknown_location() -> None:
    """Warnings use ::warning; unknown lines are left out."""
    p = Problem("EC303", "m", "", Severity.WARNING, file="a.toml")
    assert _out("github", [p], False) == "::warning file=a.toml,title=EC303::m\n"


def test_json_shape() -> None:
    """Exactly status, summary and problems, with the seven documented keys."""
    p = Problem("EC100", "m", "/inittab/2/name", file="a.toml", line=None, col=None)
    doc = json.loads(_out("json", [p]))
    assert doc == {"status": "fail", "summary": {"files": 1, "errors": 1, "warnings": 0},
                   "problems": [
        {"file": "a.toml", "code": "EC100", "severity": "error", "message": "m",
         "pointer": "/inittab/2/name", "line": None, "col": None}]}
    assert json.loads(_out("json", [], False)) == {
        "status": "ok", "summary": {"files": 1, "errors": 0, "warnings": 0}, "problems": []}


def test_json_summary_counts_warnings_apart() -> None:
    """The summary counts errors and warnings as the text format's last line does."""
    problems = [Problem("EC100", "m", "", file="a.toml"),
                Problem("EC303", "w", "", Severity.WARNING, file="a.toml"),
                Problem("EC303", "w", "", Severity.WARNING, file="a.toml")]
    assert json.loads(_out("json", problems))["summary"] == {
        "files": 1, "errors": 1, "warnings": 2}


def test_problems_in_reading_order() -> None:
    """By file as given, then line and column, whichever check found them first."""
    found = [Problem("EC100", "b7", "", file="b.toml", line=7, col=1),
             Problem("EC100", "a8", "", file="a.toml", line=8, col=3),
             Problem("EC400", "a4", "", file="a.toml", line=4, col=9),
             Problem("EC400", "a4x", "", file="a.toml", line=4, col=2),
             Problem("EC207", "a", "", file="a.toml")]
    buf = io.StringIO()
    report("json", found, ["a.toml", "b.toml"], True, buf)
    assert [p["message"] for p in json.loads(buf.getvalue())["problems"]] == [
        "a", "a4x", "a4", "a8", "b7"]


def test_text_format() -> None:
    """file:line:col: CODE severity: message [path], then a summary."""
    p = Problem("EC102", "unknown option 'x'", "/options/x", file="a.toml", line=4, col=1)
    assert _out("text", [p]) == ("a.toml:4:1: EC102 error: unknown option 'x' [$.options.x]\n"
                                 "fail: 1 file(s), 1 error(s), 0 warning(s)\n")


def test_pointers_and_paths() -> None:
    """RFC 6901 escaping and the $.a[0] rendering."""
    assert pointer_from_parts(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert json_path("/inittab/2/name") == "$.inittab[2].name"
    assert json_path("/options/a~1b") == "$.options['a/b']"
    assert json_path("") == "$"


def test_every_code_is_documented_fully() -> None:
    """Each code has a title, a why and a fix, and codes are EC + 3 digits."""
    for code, c in CODES.items():
        assert code == c.code and len(code) == 5 and code.startswith("EC")
        assert c.title and c.why and c.fix


def test_unencodable_text_does_not_crash_reporters() -> None:
    """A lone surrogate in a message (from a model built in code) is escaped."""
    p = Problem("EC100", "found \udc00", "/lib", file="a.toml")
    for fmt in ("text", "json", "github"):
        _out(fmt, [p]).encode("utf-8")
