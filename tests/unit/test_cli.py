"""The command line: exit codes, commands and streams."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import pytest

import embedcfg
from embedcfg import cli, schema

ROOT = Path(__file__).resolve().parent.parent.parent


def _run(*argv: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("argv", [
    [], ["validate"], ["frobnicate"], ["validate", "--format", "xml", "a.toml"],
    ["convert", "a.toml"], ["schema", "--write", "a", "--check", "b"],
    ["build", "--json", "--cflags"],
])
def test_usage_errors_exit_2(argv: list) -> None:
    """Bad command lines exit 2 and print to stderr only."""
    code, out, err = _run(*argv)
    assert code == 2
    assert out == ""
    assert err


def test_help_goes_to_stdout_and_exits_0() -> None:
    """--help is not an error."""
    code, out, err = _run("validate", "--help")
    assert (code, err) == (0, "")
    assert "--format" in out and "Exit status" in out


def test_version() -> None:
    """--version prints the package version."""
    assert _run("--version") == (0, f"embedcfg {embedcfg.__version__}\n", "")


def test_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    """An unreadable file is reported like any problem, with exit 1."""
    code, out, err = _run("validate", str(tmp_path / "nope.toml"))
    assert code == 1 and err == ""
    assert "EC001" in out


def test_several_files_all_reported(tmp_path: Path) -> None:
    """Every file is checked, and the exit code reflects any failure."""
    good = _write(tmp_path / "good.toml", "version = 1\n")
    bad = _write(tmp_path / "bad.json", '{"version": 1, "options": {"quiet": 1}}')
    code, out, _ = _run("validate", "--format", "json", good, bad)
    assert code == 1
    assert [p["file"] for p in json.loads(out)["problems"]] == [bad]


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    """Warnings exit 0; with --strict they exit 1."""
    doc = _write(tmp_path / "w.toml", "version = 1\n[options]\nuse_environment = true\n")
    code, out, _ = _run("validate", "--format", "json", doc)
    assert code == 0 and json.loads(out)["status"] == "ok"
    assert json.loads(out)["problems"][0]["severity"] == "warning"
    code, out, _ = _run("validate", "--strict", "--format", "json", doc)
    assert code == 1 and json.loads(out)["status"] == "fail"


def test_target_real_interpreter(tmp_path: Path) -> None:
    """--target runs the interpreter and checks versions against it."""
    doc = _write(tmp_path / "t.toml", "version = 1\n[options]\nshow_alloc_count = true\n")
    code, out, err = _run("validate", "--target", sys.executable, doc)
    assert code == 1, out + err
    assert "EC201" in out and f"{sys.version_info[0]}.{sys.version_info[1]}" in out


def test_target_that_cannot_run_is_a_usage_error(tmp_path: Path) -> None:
    """A --target that is not an interpreter exits 2 with a message."""
    doc = _write(tmp_path / "t.toml", "version = 1\n")
    code, out, err = _run("validate", "--target", str(tmp_path / "python9"), doc)
    assert code == 2 and "--target" in err


def test_engine_jsonschema_same_verdict(tmp_path: Path) -> None:
    """The reference engine finds the same schema problems."""
    doc = _write(tmp_path / "e.toml", "version = 1\n[options]\nutf8_mode = 5\nverbose = -1\n")
    ours = json.loads(_run("validate", "--format", "json", doc)[1])["problems"]
    ref = json.loads(_run("validate", "--engine", "jsonschema", "--format", "json", doc)[1])
    assert [(p["code"], p["pointer"], p["line"]) for p in ours] == [
        (p["code"], p["pointer"], p["line"]) for p in ref["problems"]]


def test_schema_print_check_write(tmp_path: Path) -> None:
    """schema prints, --write writes, --check compares."""
    code, out, _ = _run("schema")
    assert code == 0 and out == schema.render()
    target = tmp_path / "s.json"
    assert _run("schema", "--check", str(target))[0] == 1
    assert _run("schema", "--write", str(target))[0] == 0
    assert _run("schema", "--check", str(target))[0] == 0
    target.write_text("{}")
    code, _, err = _run("schema", "--check", str(target))
    assert code == 1 and "stale" in err


def test_convert_round_trip(tmp_path: Path) -> None:
    """TOML -> JSON -> TOML keeps the document."""
    src = ROOT / "examples" / "hello.toml"
    js, tm = tmp_path / "hello.json", tmp_path / "back.toml"
    assert _run("convert", str(src), str(js))[0] == 0
    assert _run("convert", str(js), str(tm))[0] == 0
    assert embedcfg.load(src) == embedcfg.load(js) == embedcfg.load(tm)


def test_convert_refuses_invalid_input_and_writes_nothing(tmp_path: Path) -> None:
    """An invalid input is reported on stderr and no output file appears."""
    bad = _write(tmp_path / "bad.toml", "version = 1\n[options]\nutf8_mode = 5\n")
    out_path = tmp_path / "out.json"
    code, out, err = _run("convert", bad, str(out_path))
    assert code == 1 and "EC100" in err and out == ""
    assert not out_path.exists()


def test_convert_unknown_output_format(tmp_path: Path) -> None:
    """The output format must be known before anything is read."""
    code, _, err = _run("convert", str(ROOT / "examples" / "hello.toml"), str(tmp_path / "x.yml"))
    assert code == 2 and "format" in err


@pytest.mark.parametrize("form", ["toml", "json", "canonical"])
def test_show(form: str) -> None:
    """show prints the normal form, which loads back to the same document."""
    src = ROOT / "examples" / "hello.toml"
    code, out, err = _run("show", "--as", form, str(src))
    assert (code, err) == (0, "")
    assert embedcfg.loads(out, "toml" if form == "toml" else "json") == embedcfg.load(src)


def test_python_dash_m_and_console_script() -> None:
    """python -m embedcfg and the embedcfg script both work in a fresh process."""
    doc = str(ROOT / "examples" / "hello.toml")
    for argv in ([sys.executable, "-m", "embedcfg", "validate", doc],
                 [str(Path(sys.executable).parent / "embedcfg"), "validate", doc]):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert (proc.returncode, proc.stderr) == (0, ""), argv
        assert proc.stdout.startswith("ok: 1 file(s)")


def test_target_checks_paths_on_this_machine(tmp_path: Path) -> None:
    """With --target, a pycache prefix others could create is refused (EC410);
    --allow-insecure-paths makes it a warning."""
    doc = _write(tmp_path / "p.toml", 'version = 1\n[pycache]\nmode = "prefix"\n'
                 f'prefix = "/tmp/embedcfg-test-{tmp_path.name}/pyc"\n')
    code, out, _ = _run("validate", "--format", "json", "--target", sys.executable, doc)
    assert code == 1
    problems = json.loads(out)["problems"]
    assert [(p["code"], p["pointer"], p["severity"]) for p in problems] == [
        ("EC410", "/pycache/prefix", "error")]
    code, out, _ = _run("validate", "--format", "json", "--target", sys.executable,
                        "--allow-insecure-paths", doc)
    assert code == 0
    assert [p["severity"] for p in json.loads(out)["problems"]] == ["warning"]


def test_bake_writes_the_sorted_table(tmp_path: Path) -> None:
    """embedcfg bake turns the example's inittab into C: every module, sorted by name."""
    out_c = tmp_path / "table.c"
    code, out, err = _run("bake", str(ROOT / "examples" / "static-app" / "app.toml"),
                          "-o", str(out_c))
    assert code == 0, err
    text = out_c.read_text()
    names = [e.name for e in embedcfg.load(ROOT / "examples" / "static-app" / "app.toml").inittab]
    positions = [text.index(f'"{n}"') for n in sorted(names)]
    assert positions == sorted(positions)
    assert _run("bake")[0] == 2


def test_validate_reports_in_line_order(tmp_path: Path) -> None:
    """A semantic problem on line 3 comes before schema problems on lines 4 and 5."""
    doc = _write(tmp_path / "order.toml", 'version = 1\n[options]\npycache_prefix = "rel"\n'
                 "quiet = 1\nverbose = -1\n")
    code, out, _ = _run("validate", "--format", "json", doc)
    assert code == 1
    assert [p["line"] for p in json.loads(out)["problems"]] == [3, 4, 5]


def test_convert_keeps_the_schema_pointer_json_to_toml(tmp_path: Path) -> None:
    """JSON's $schema becomes TOML's #:schema comment, which editors read."""
    src = _write(tmp_path / "a.json", '{"$schema": "https://example.org/s.json", "version": 1}')
    assert _run("convert", src, str(tmp_path / "a.toml"))[0] == 0
    text = (tmp_path / "a.toml").read_text(encoding="utf-8")
    assert text.startswith("#:schema https://example.org/s.json\n")


def test_convert_keeps_the_schema_pointer_toml_to_json(tmp_path: Path) -> None:
    """TOML's #:schema comment becomes JSON's $schema."""
    src = _write(tmp_path / "a.toml", "#:schema https://example.org/s.json\nversion = 1\n")
    assert _run("convert", src, str(tmp_path / "a.json"))[0] == 0
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert doc["$schema"] == "https://example.org/s.json"


def test_convert_rewrites_a_relative_schema_pointer(tmp_path: Path) -> None:
    """A relative pointer still names the same schema from the output's directory."""
    (tmp_path / "conf").mkdir()
    src = _write(tmp_path / "conf" / "a.toml", "#:schema ../schema/s.json\nversion = 1\n")
    assert _run("convert", src, str(tmp_path / "a.json"))[0] == 0
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert doc["$schema"] == "schema/s.json"


def test_schema_check_works_from_any_directory(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """--check without PATH finds the committed schema from the package, not the cwd."""
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("schema", "--check")
    assert (code, err) == (0, "")
    assert out == f"{ROOT / 'schema' / 'embedcfg-1.schema.json'} is up to date\n"


def test_committed_schema_inside_an_installed_package(tmp_path: Path) -> None:
    """In a wheel the schema is embedcfg/schema/...: that copy is the one checked."""
    shipped = tmp_path / "embedcfg" / "schema" / "embedcfg-1.schema.json"
    shipped.parent.mkdir(parents=True)
    shipped.write_text("{}", encoding="utf-8")
    assert cli._committed_schema(tmp_path / "embedcfg") == str(shipped)


def test_validate_against_a_too_old_target_is_one_usage_error(tmp_path: Path) -> None:
    """A --target older than 3.8 is one message for the interpreter, not one per option."""
    import shutil

    pyenv = shutil.which("pyenv")
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True,
                          check=False).stdout.strip() if pyenv else ""
    old = sorted(Path(root, "versions").glob("3.7.*/bin/python3.7")) if root else []
    if not old:
        pytest.skip("no CPython 3.7 installed")
    doc = _write(tmp_path / "v.toml", "version = 1\n[options]\nsafe_path = true\n"
                 "int_max_str_digits = 1000\n")
    code, out, err = _run("validate", "--target", str(old[0]), doc)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "needs 3.8 or newer" in err


def test_validate_target_refuses_a_search_path_without_the_stdlib(tmp_path: Path) -> None:
    """validate --target: a document that cannot start is EC420, located; without
    --target it is a warning and the document stays valid."""
    (tmp_path / "app").mkdir()
    doc = _write(tmp_path / "app.toml", 'version = 1\n[options]\n'
                 'module_search_paths = ["$CONFIG_DIR/app"]\n')
    code, out, _ = _run("validate", "--target", sys.executable, doc)
    assert code == 1
    assert f"{doc}:3:1: EC420 error: options.module_search_paths: no entry holds" in out
    code, out, _ = _run("validate", doc)
    assert (code, "EC420 warning" in out) == (0, True)
