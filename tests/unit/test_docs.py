"""The documentation: builds without warnings, generated pages are fresh, examples run."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.rst"))


def _blocks(page: Path) -> Iterator[Tuple[str, str]]:
    """(language, dedented body) of every code-block in a page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"\s*\.\. code-block:: (\w+)", lines[i])
        i += 1
        if not m:
            continue
        while i < len(lines) and not lines[i].strip():
            i += 1
        body: List[str] = []
        while i < len(lines) and (lines[i].startswith("   ") or not lines[i].strip()):
            body.append(lines[i][3:])
            i += 1
        yield m.group(1), "\n".join(body).strip("\n") + "\n"


def test_generated_pages_are_fresh() -> None:
    """The option and problem-code references match the code they come from."""
    proc = subprocess.run([sys.executable, "-m", "embedcfg.generate", "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_sphinx_build_without_warnings(tmp_path: Path) -> None:
    """sphinx-build -W -n (warnings and broken references are errors)."""
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "-n", "-b", "html",
                           str(DOCS), str(tmp_path / "html")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_blocks_run(page: Path, tmp_path: Path) -> None:
    """Every python code block runs in a fresh interpreter."""
    for lang, body in _blocks(page):
        if lang == "python":
            proc = subprocess.run([sys.executable, "-c", body], cwd=tmp_path,
                                  capture_output=True, text=True, check=False)
            assert proc.returncode == 0, body + proc.stderr


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_console_blocks_match(page: Path, tmp_path: Path) -> None:
    """`$ embedcfg ...` sessions print what the page shows, on the page's last TOML block."""
    (tmp_path / "schema").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    script = Path(sys.executable).parent / "embedcfg"
    for lang, body in _blocks(page):
        if lang == "toml":
            (work / "app.toml").write_text(body, encoding="utf-8")
        if lang != "console" or not body.startswith("$ embedcfg"):
            continue
        command, *expected = body.splitlines()
        argv = shlex.split(command[2:])
        if "--target" in argv:
            continue  # names an interpreter path of the reader's machine
        proc = subprocess.run([str(script)] + argv[1:], cwd=work, capture_output=True,
                              text=True, check=False)
        assert proc.stdout.splitlines() == expected, proc.stderr


def _errors(body: str, lang: str) -> List[Tuple[str, str]]:
    from embedcfg import _api, codec
    from embedcfg.errors import Severity

    _, problems = _api.check_parsed(codec.parse(body, lang, file="snippet"))
    return [(p.code, p.pointer) for p in problems if p.severity is Severity.ERROR]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_document_blocks_validate(page: Path) -> None:
    """Every TOML/JSON document a page shows is valid, unless the page runs
    ``embedcfg validate`` on it next to show its problems."""
    blocks = list(_blocks(page))
    for i, (lang, body) in enumerate(blocks):
        if lang not in ("toml", "json"):
            continue
        following = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
        if following[0] == "console" and following[1].startswith("$ embedcfg validate"):
            continue  # a deliberate mistake, checked by test_console_blocks_match
        assert _errors(body, lang) == [], body


def _header_symbols() -> List[str]:
    """Every public name of embedcfg.h: functions, types, enumerators, macros."""
    text = (ROOT / "capi_shim" / "embedcfg.h").read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments name symbols too
    names = set(re.findall(r"\b(embedcfg_\w+|EMBEDCFG_\w+)\b", text))
    return sorted(names - {"EMBEDCFG_H"})  # the include guard


def _documented_symbols() -> List[str]:
    """The names declared by C-domain directives of the C API reference."""
    text = (DOCS / "reference" / "capi.rst").read_text(encoding="utf-8")
    found = []
    for kind, signature in re.findall(r"^\s*\.\. c:(\w+):: (.+)$", text, re.M):
        m = re.search(r"(\w+)\s*\(" if kind == "function" else r"(\w+)\s*$", signature)
        assert m, signature
        found.append(m.group(1))
    return found


def test_capi_reference_covers_the_header() -> None:
    """Each public symbol of capi_shim/embedcfg.h is documented in
    docs/reference/capi.rst exactly once, and nothing else is."""
    documented = _documented_symbols()
    assert sorted(set(documented)) == sorted(documented), "documented twice"
    assert sorted(documented) == _header_symbols()


C_PROGRAMS = [(page, body) for page in PAGES for lang, body in _blocks(page)
              if lang == "c" and "int main(" in body]


@pytest.mark.parametrize("page, body", C_PROGRAMS,
                         ids=[f"{p.relative_to(DOCS)}:{i}" for i, (p, _) in
                              enumerate(C_PROGRAMS)])
def test_c_programs_compile(page: Path, body: str, tmp_path: Path) -> None:
    """Whole C programs in the docs compile as C99 against embedcfg.h and this
    interpreter's Python.h, without warnings."""
    from embedcfg import build

    src = tmp_path / "program.c"
    src.write_text(body, encoding="utf-8")
    includes = [str(build.source_dir()), *build.probe(sys.executable).includes]
    proc = subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                           *(f"-I{i}" for i in includes), str(src)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
