"""``embedcfg validate --target PYTHON`` against every installed CPython 3.8-3.14.

The version and build rules are checked against what the real interpreter
says it is; a minor that is not installed is skipped with the reason.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from embedcfg import cli
from embedcfg.options import OPTIONS, Visibility

from ..pythons import MINORS, missing_reason
from .conftest import minor_id


@pytest.fixture(params=MINORS, ids=minor_id)
def target(request: pytest.FixtureRequest, pythons: Dict[Tuple[int, int], str]) -> Any:
    """(minor, interpreter) for each CPython minor 3.8-3.14 (skipped when absent)."""
    if request.param not in pythons:
        pytest.skip(missing_reason(request.param))
    return request.param, pythons[request.param]


def _validate(python: str, doc: Path, text: str) -> Tuple[int, List[Tuple[str, str]]]:
    doc.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["validate", "--format", "json", "--target", python, str(doc)], out, err)
    assert err.getvalue() == ""
    problems = json.loads(out.getvalue())["problems"]
    return code, [(p["code"], p["pointer"]) for p in problems]


def test_options_of_the_targets_own_version_pass(target: Any, tmp_path: Path) -> None:
    """Every option introduced by the target's own minor validates against it."""
    minor, python = target
    newest = [o for o in OPTIONS.values() if o.since == minor and o.build is None
              and o.visibility is not Visibility.INIT_ONLY and o.exists_in(minor)]
    if minor == MINORS[0]:  # every option is "since 3.8": a few, free of conflicts
        newest = [OPTIONS[n] for n in ("site_import", "verbose", "warnoptions")]
    assert newest
    lines = [f"{o.name} = {json.dumps(_valid(o.name))}" for o in newest]
    code, problems = _validate(python, tmp_path / "t.toml",
                               "version = 1\n[options]\n" + "\n".join(lines) + "\n")
    assert (code, problems) == (0, [])


def test_options_the_target_lacks_are_refused(target: Any, tmp_path: Path) -> None:
    """Options newer (EC200) or removed (EC201) relative to the target are errors."""
    minor, python = target
    newer = sorted(o.name for o in OPTIONS.values() if o.since > minor and o.build is None)
    removed = sorted(o.name for o in OPTIONS.values()
                     if o.until is not None and o.until < minor and o.build is None)
    assert newer or removed
    lines = [f"{name} = {json.dumps(_valid(name))}" for name in newer + removed]
    code, problems = _validate(python, tmp_path / "t.toml",
                               "version = 1\n[options]\n" + "\n".join(lines) + "\n")
    expected = sorted([("EC200", f"/options/{n}") for n in newer]
                      + [("EC201", f"/options/{n}") for n in removed])
    assert (code, sorted(problems)) == (1, expected)


def test_value_and_build_rules(target: Any, tmp_path: Path) -> None:
    """import_time = 2 needs 3.14 (EC202); a free-threaded-only option is
    refused on a default build (EC206)."""
    minor, python = target
    code, problems = _validate(python, tmp_path / "t.toml",
                               "version = 1\n[options]\nimport_time = 2\n")
    assert (code, problems) == ((0, []) if minor >= (3, 14)
                                else (1, [("EC202", "/options/import_time")]))
    code, problems = _validate(python, tmp_path / "ft.toml",
                               "version = 1\n[options]\nenable_gil = 1\n")
    if minor < (3, 13):
        assert (code, problems) == (1, [("EC200", "/options/enable_gil"),
                                        ("EC206", "/options/enable_gil")])
    else:
        assert (code, problems) == (1, [("EC206", "/options/enable_gil")])


def _valid(name: str) -> Any:
    """A value inside the option's range."""
    opt = OPTIONS[name]
    if opt.choices:
        return sorted(opt.choices)[0]
    kind = opt.value_kind.name
    if kind == "BOOL":
        return True
    if kind == "INT":
        return opt.minimum if opt.minimum is not None else 0
    if kind == "STR_LIST":
        return ["/opt/x"]
    return "/opt/x" if opt.path else "x"
