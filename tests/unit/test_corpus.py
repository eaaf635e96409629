"""The bad-input and valid corpora, through the command line, in every format."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Dict, List

import pytest

from embedcfg import cli

DATA = Path(__file__).resolve().parent.parent / "data"
ROOT = DATA.parent.parent
EXPECTED: Dict[str, List[Dict[str, object]]] = json.loads(
    (DATA / "invalid_expected.json").read_text())
INVALID = sorted(p.name for p in (DATA / "invalid").iterdir())
VALID = sorted(p.name for p in (DATA / "valid").iterdir())
# Documents of the examples; build/ directories hold what their build scripts write.
EXAMPLES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").rglob("*")
                  if p.suffix in (".toml", ".json") and "build" not in p.relative_to(ROOT).parts)


def _run(*argv: str) -> "tuple[int, str, str]":
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def _digest() -> str:
    h = hashlib.sha256()
    for p in sorted((DATA / "invalid").iterdir()):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus_digest() -> "object":
    """The corpus must be unchanged by validating it (nothing is ever written)."""
    before = _digest()
    yield
    assert _digest() == before


def test_corpus_is_large_and_fully_described() -> None:
    """At least 50 bad inputs, each with its expected problems, and no stray entry."""
    assert len(INVALID) >= 50
    assert sorted(EXPECTED) == INVALID


@pytest.mark.parametrize("name", INVALID)
def test_invalid_json_format(name: str, corpus_digest: object) -> None:
    """--format json: exactly the expected codes, pointers and lines; exit 1."""
    code, out, err = _run("validate", "--format", "json", str(DATA / "invalid" / name))
    assert (code, err) == (1, "")
    doc = json.loads(out)
    assert doc["status"] == "fail"
    got = [{"code": p["code"], "pointer": p["pointer"], "line": p["line"]}
           for p in doc["problems"]]
    assert got == EXPECTED[name]
    for p in doc["problems"]:
        assert set(p) == {"file", "code", "severity", "message", "pointer", "line", "col"}
        assert p["file"] == str(DATA / "invalid" / name)
        assert (p["line"] is None) == (p["col"] is None)


@pytest.mark.parametrize("name", INVALID)
def test_invalid_text_format(name: str, corpus_digest: object) -> None:
    """--format text: one 'file:line:col: CODE severity: message' line per problem."""
    path = str(DATA / "invalid" / name)
    code, out, err = _run("validate", path)
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert len(lines) == len(EXPECTED[name]) + 1
    for line, exp in zip(lines, EXPECTED[name]):
        where = f"{path}:{exp['line']}:" if exp["line"] is not None else f"{path}: "
        assert line.startswith(where), line
        assert f" {exp['code']} error: " in line
    assert lines[-1].startswith("fail: 1 file(s)")
    assert "Traceback" not in out


@pytest.mark.parametrize("name", INVALID)
def test_invalid_github_format(name: str, corpus_digest: object) -> None:
    """--format github: one escaped ::error workflow command per problem."""
    code, out, err = _run("validate", "--format", "github", str(DATA / "invalid" / name))
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert len(lines) == len(EXPECTED[name])
    for line, exp in zip(lines, EXPECTED[name]):
        m = re.fullmatch(r"::error (file=[^,:]+(?:,line=(\d+),col=\d+)?),title=(EC\d+)::(.+)",
                         line)
        assert m, line
        assert m.group(3) == exp["code"]
        assert m.group(2) == (str(exp["line"]) if exp["line"] is not None else None)
        assert "\n" not in m.group(4) and "\r" not in m.group(4)


@pytest.mark.parametrize("name", VALID)
def test_valid_corpus(name: str) -> None:
    """Valid documents pass with exit 0."""
    code, out, err = _run("validate", str(DATA / "valid" / name))
    assert (code, err) == (0, ""), out
    assert out.startswith("ok: 1 file(s), 0 error(s)")


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_are_valid(name: str) -> None:
    """Every example document validates, strictly, and names the committed schema
    ($schema in JSON, the #:schema comment in TOML) for editors."""
    code, out, err = _run("validate", "--strict", str(ROOT / name))
    assert (code, err) == (0, ""), out
    path = ROOT / name
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        ref = json.loads(text)["$schema"]
    else:
        m = re.match(r"#:schema (\S+)\n", text)
        assert m, f"{name} does not start with a #:schema comment"
        ref = m.group(1)
    assert (path.parent / ref).resolve() == ROOT / "schema" / "embedcfg-1.schema.json"


def test_too_large_file(tmp_path: Path) -> None:
    """A file over 1 MiB is one EC003 problem, not a slow parse."""
    big = tmp_path / "huge.json"
    big.write_bytes(b'{"version": 1, "lib": "/' + b"a" * (1024 * 1024) + b'"}')
    code, out, _ = _run("validate", "--format", "json", str(big))
    assert code == 1
    assert [p["code"] for p in json.loads(out)["problems"]] == ["EC003"]


def test_examples_pass_an_independent_schema_validator() -> None:
    """check-jsonschema (jsonschema underneath) accepts every example against the
    committed schema: editors and other tools see the same contract."""
    import subprocess
    import sys

    tool = Path(sys.executable).parent / "check-jsonschema"
    files = [str(ROOT / name) for name in EXAMPLES]
    proc = subprocess.run([str(tool), "--schemafile", str(ROOT / "schema" / "embedcfg-1.schema.json"),
                           *files], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
