"""The launcher refuses bad documents before the interpreter is touched:
exit 78 (EX_CONFIG) and exactly one line ``embedcfg: error: ...``."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from embedcfg import build as _build
from embedcfg import codec
from embedcfg.model import EmbedConfig
from embedcfg.shim import launch

from .conftest import Shim, clean_env, stdlib_paths

EX_CONFIG = 78


def _one_line_error(proc: Any) -> str:
    assert proc.returncode == EX_CONFIG, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("embedcfg: error: "), proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stdout == ""
    return str(proc.stderr)


def test_lib_of_another_minor_is_refused(shim: Shim, shims: Any,
                                         pythons: Dict[Tuple[int, int], str],
                                         tmp_path: Path) -> None:
    """A launcher built for one minor given another minor's libpython: exit 78, no crash."""
    others = [m for m in sorted(pythons) if m != shim.minor]
    if not others:
        pytest.skip("only one CPython installed")
    other = _build.probe(pythons[others[-1]]).libpython
    assert other is not None
    proc = shim.launch(EmbedConfig(lib=other, options={"run_command": "print('ran')"}),
                       directory=tmp_path)
    err = _one_line_error(proc)
    assert f"built for CPython {shim.minor[0]}.{shim.minor[1]}" in err


def test_relative_lib_is_refused(shim: Shim, tmp_path: Path) -> None:
    """lib = "lib/libpython..." would resolve against the current directory: refused."""
    planted = tmp_path / "lib"
    planted.mkdir()
    proc = shim.launch(EmbedConfig(lib="lib/libpython3.so"), directory=tmp_path)
    assert "relative path" in _one_line_error(proc)


def test_requires_python_is_checked(shim: Shim, tmp_path: Path) -> None:
    """The loaded libpython must satisfy requires_python."""
    proc = shim.launch(EmbedConfig(requires_python=">=4.0",
                                   options={"run_command": "print('ran')"}),
                       directory=tmp_path)
    assert "requires_python '>=4.0'" in _one_line_error(proc)
    ok = shim.launch(EmbedConfig(requires_python=f"=={shim.minor[0]}.{shim.minor[1]}.*",
                                 options={"run_command": "print('ran')"}), directory=tmp_path)
    assert ok.stdout == "ran\n", ok.stderr


def test_origin_anchored_lib(shim: Shim, tmp_path: Path) -> None:
    """lib = "$ORIGIN/..." resolves against the launcher's own directory."""
    libpython = shim.built.libpython
    assert libpython is not None
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy2(shim.built.launcher, app / shim.built.launcher.name)
    shutil.copy2(shim.built.shim, app / shim.built.shim.name)
    os.symlink(libpython, app / Path(libpython).name)
    doc = tmp_path / "doc.json"
    from embedcfg import codec

    doc.write_bytes(codec.canonical(EmbedConfig(
        lib=f"$ORIGIN/{Path(libpython).name}",
        options={"run_command": "import sys; print(sys.version_info[:2])"})))
    import subprocess

    proc = subprocess.run([str(app / shim.built.launcher.name), str(doc)], capture_output=True,
                          text=True, env=clean_env(), timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(shim.minor)


def test_relocated_libpython_runs_with_home(shims: Any, tmp_path: Path) -> None:
    """A libpython unpacked away from its configured prefix (the 3.14 test
    build's real tree): build finds it under its own prefix, and lib plus home
    (as docs/howto/pick-libpython.rst says) run the application on that tree."""
    from ..pythons import ArchiveError, archive_tree

    shim = shims.get_shim((3, 14))
    try:
        tree = archive_tree()
    except ArchiveError as exc:
        pytest.skip(f"no relocated 3.14 test build: {exc}")
    relocated = _build.probe(str(tree / "bin" / "python3.14"))
    assert relocated.libpython is not None
    assert Path(relocated.libpython).parent == tree / "lib"
    code = "import os, sys; print(sys.prefix, os.__file__)"
    proc = shim.launch(EmbedConfig(lib=relocated.libpython,
                                   options={"home": str(tree), "run_command": code}),
                       directory=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(tree), str(tree / "lib" / "python3.14" / "os.py")]


@pytest.mark.parametrize("text, expected", [
    (b'{"version":1,"options":{"utf8_mode":5}}', "during setting utf8_mode"),
    (b'{"version":1,"options":{"no_such_option":1}}', "unknown option 'no_such_option'"),
    (b'{"version":1,"options":{"verbose":-5}}', "during setting verbose"),
    (b'{"version":1,"options":{"check_hash_pycs_mode":"sometimes"}}',
     "during setting check_hash_pycs_mode"),
    (b'{"version":1,"options":{"pycache_prefix":"relative/dir"}}', "relative path"),
    (b'{"version":1,"options":{"int_max_str_digits":5}}', "int_max_str_digits"),
    (b'{"version":2}', "format version 1"),
    (b'{"version":1,"options":{"verbose":1,"verbose":2}}', "invalid document"),
    (b'{"version":1,"embedded":true}', "embedded = true"),
    (b'[1, 2', "invalid document"),
    (b'\xff', "invalid document"),
])
def test_bad_documents(shim: Shim, tmp_path: Path, text: bytes, expected: str) -> None:
    """Documents the shim refuses: exit 78 and one line that names the problem."""
    doc = tmp_path / "doc.json"
    doc.write_bytes(text)
    err = _one_line_error(shim.launch_file(doc))
    assert expected in err


def test_missing_document(shim: Shim, tmp_path: Path) -> None:
    """A document that cannot be read is a configuration error too."""
    assert "cannot read" in _one_line_error(shim.launch_file(tmp_path / "missing.json"))


def _documented_refusals() -> Dict[str, "re.Pattern[str]"]:
    """The refusals docs/howto/pick-libpython.rst lists, as patterns: PATH,
    DOC, REASON and ... stand for anything, versions for any version."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "howto" /
            "pick-libpython.rst").read_text(encoding="utf-8")
    section = text.split("What the launcher refuses\n", 1)[1]
    found = {}
    for message in re.findall(r"^``(.+)``$", section, re.M):
        p = re.escape(message)
        for token in ("PATH", "DOC", "REASON", re.escape("...")):
            p = p.replace(token, ".+")
        p = re.sub(r"\d+\\\.\d+(?:\\\.\d+)?", r"\\d+\\.\\d+(?:\\.\\d+)?", p)
        p = re.sub(r"'[^']*'", "'.+'", p)
        found[message] = re.compile(f"embedcfg: error: {p}\n")
    return found


def test_refusals_are_the_ones_the_how_to_lists(shim: Shim, shims: Any,
                                                pythons: Dict[Tuple[int, int], str],
                                                tmp_path: Path) -> None:
    """Each refusal the 'pick the libpython' how-to lists is what the launcher
    prints for it (all but a statically linked build interpreter, which the
    machine does not have)."""
    import subprocess

    notlib = tmp_path / "libnot.so"
    src = tmp_path / "not.c"
    src.write_text("int not_python(void) { return 0; }\n", encoding="utf-8")
    subprocess.run(["cc", "-shared", "-fPIC", str(src), "-o", str(notlib)], check=True)
    run = {"run_command": "print('ran')"}
    cases = [EmbedConfig(lib="lib/x.so"), EmbedConfig(lib=str(tmp_path / "missing.so")),
             EmbedConfig(lib=str(notlib)), EmbedConfig(requires_python=">=4.0", options=run),
             EmbedConfig(embedded=True),
             EmbedConfig(options={"module_search_paths": [str(tmp_path)], **run})]
    others = [m for m in sorted(pythons) if m != shim.minor]
    if others:
        other = _build.probe(pythons[others[-1]]).libpython
        assert other is not None
        cases.append(EmbedConfig(lib=other, options=run))
    errors = [_one_line_error(shim.launch(cfg, directory=tmp_path)) for cfg in cases]
    bad_spec = tmp_path / "spec.json"
    bad_spec.write_text('{"version": 1, "requires_python": "~~3"}', encoding="utf-8")
    errors.append(_one_line_error(shim.launch_file(bad_spec)))
    documented = _documented_refusals()
    matched = {m for m, p in documented.items() for e in errors if p.fullmatch(e)}
    for error in errors:
        assert any(p.fullmatch(error) for p in documented.values()), error
    untriggered = {"lib: the CPython this launcher was built for has no shared libpython;"
                   " set lib to one"}
    if not others:
        untriggered |= {m for m in documented if "this launcher is built for" in m}
    assert len(documented) == 9
    assert set(documented) - matched == untriggered


def test_config_dir_option(shim: Shim, tmp_path: Path) -> None:
    """--config-dir DIR makes $CONFIG_DIR mean DIR instead of the document's
    directory; the document can live elsewhere (embedcfg run uses this)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text("print('ran from', __file__)\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    doc = elsewhere / "doc.json"
    doc.write_bytes(codec.canonical(EmbedConfig(options={"run_filename": "$CONFIG_DIR/main.py"})))
    env = clean_env()
    proc = subprocess.run([str(shim.built.launcher), "--config-dir", str(app), str(doc), "x"],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"ran from {app / 'main.py'}\n"
    # without it, $CONFIG_DIR is the document's directory, which has no main.py
    proc = shim.launch_file(doc)
    assert proc.returncode != 0 and str(elsewhere / "main.py") in proc.stderr
    # a relative directory, or none, is a usage error (EX_USAGE, 64)
    for args in (["--config-dir", "app", str(doc)], ["--config-dir", str(app)]):
        proc = subprocess.run([str(shim.built.launcher), *args], capture_output=True,
                              text=True, env=env, stdin=subprocess.DEVNULL, timeout=60,
                              check=False)
        assert proc.returncode == 64 and "--config-dir" in proc.stderr, proc.stderr


def test_run_writes_nothing_into_config_dir(shim: Shim, tmp_path: Path) -> None:
    """embedcfg.run() expands $CONFIG_DIR to config_dir without writing the
    document there (it may be a read-only image)."""
    (tmp_path / "main.py").write_text("import sys; sys.exit(7)\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    cfg = EmbedConfig(options={"run_filename": "$CONFIG_DIR/main.py"})
    proc = launch(cfg, python=shim.python, config_dir=tmp_path, env=clean_env(),
                  capture_output=True, text=True)
    assert proc.returncode == 7, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_document_larger_than_the_launch_arena(shim: Shim, tmp_path: Path) -> None:
    """The launcher works in a 256 KB region of its own and goes on in malloc
    beyond it: a 400 KB document (4 000 search paths, every string also in
    the handle) still launches with every path in sys.path, in order."""
    base = tmp_path / ("d" * 60)
    paths = [*stdlib_paths(shim.python), *(str(base / f"p{i:05d}") for i in range(4000))]
    cfg = EmbedConfig(options={"module_search_paths": paths, "site_import": False, "run_command":
                               "import sys; print(len(sys.path), sys.path[0], sys.path[-1])"})
    assert len(codec.canonical(cfg)) > 400_000
    proc = shim.launch(cfg, directory=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{len(paths)} {paths[0]} {paths[-1]}\n"


def test_wide_strings_of_every_length_and_alignment(shim: Shim, tmp_path: Path) -> None:
    """PyConfig takes wide strings: the shim widens runs of ASCII 16 bytes at a
    time and decodes the rest, so every length around those 16 bytes, with
    one- to four-byte characters at every place, must come out intact."""
    base = tmp_path / "w"
    chars = ["é", "€", "😀"]
    paths = [str(base / ("a" * k + chars[k % 3] + "b" * (40 - k) + chars[(k + 1) % 3]))
             for k in range(40)]
    paths += [str(base / ("c" * k)) for k in range(1, 40)]
    cfg = EmbedConfig(options={
        "module_search_paths": [*stdlib_paths(shim.python), *paths], "site_import": False,
        "run_command": "import sys; print(ascii(sys.path[-%d:]))" % len(paths)})
    proc = shim.launch(cfg, directory=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ascii(paths) + "\n"


_PRINT_ARGV = "import json, sys; print(json.dumps(sys.argv))"


def _argv(shim: Shim, cfg: EmbedConfig, args: Tuple[str, ...], directory: Path) -> Any:
    proc = launch(cfg, args, python=shim.python, config_dir=directory, env=clean_env(),
                  capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return __import__("json").loads(proc.stdout)


def test_run_argv_starts_with_the_script(shim: Shim, tmp_path: Path) -> None:
    """run_filename: sys.argv is [script, *args], as `python script args` gives."""
    (tmp_path / "main.py").write_text(_PRINT_ARGV + "\n")
    cfg = EmbedConfig(options={"run_filename": "$CONFIG_DIR/main.py"})
    script = os.path.realpath(tmp_path / "main.py")
    assert ([script], [script, "a", "b"]) == (_argv(shim, cfg, (), tmp_path),
                                              _argv(shim, cfg, ("a", "b"), tmp_path))


def test_run_argv_of_a_command(shim: Shim, tmp_path: Path) -> None:
    """run_command: sys.argv is ['-c', *args], as `python -c code args` gives."""
    cfg = EmbedConfig(options={"run_command": _PRINT_ARGV})
    assert (["-c"], ["-c", "a"]) == (_argv(shim, cfg, (), tmp_path),
                                     _argv(shim, cfg, ("a",), tmp_path))


def test_run_argv_of_a_module(shim: Shim, tmp_path: Path) -> None:
    """run_module: sys.argv[0] is the module's file, as `python -m mod args` gives."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(_PRINT_ARGV + "\n")
    cfg = EmbedConfig(options={"run_module": "pkg.mod", "module_search_paths": [
        "$CONFIG_DIR", *stdlib_paths(shim.python)]})
    module = os.path.realpath(tmp_path / "pkg" / "mod.py")
    assert [module, "a"] == _argv(shim, cfg, ("a",), tmp_path)


def test_run_argv_of_the_document_comes_first(shim: Shim, tmp_path: Path) -> None:
    """A document that sets argv keeps it; the arguments follow it."""
    cfg = EmbedConfig(options={"run_command": _PRINT_ARGV, "argv": ["prog"]})
    assert ["prog", "a"] == _argv(shim, cfg, ("a",), tmp_path)


def test_readme_document_starts(pythons: Dict[Tuple[int, int], str], tmp_path: Path) -> None:
    """The README's document example runs as the README says: a directory with
    the launcher, lib/ holding its libpython and standard library, app/myapp."""
    python = pythons.get((3, 11))
    if python is None:
        pytest.skip("the README's document names CPython 3.11, which is not installed")
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [document] = [body for body in re.findall(r"```toml\n(.*?)```", text, re.S)
                  if "run_module" in body]
    built = _build.build(python, stderr=io.StringIO())
    stdlib, dynload = stdlib_paths(python)
    root = tmp_path / "image"
    (root / "lib").mkdir(parents=True)
    shutil.copy(built.launcher, root / built.launcher.name)
    shutil.copy(built.shim, root / built.shim.name)
    assert built.libpython is not None
    os.symlink(built.libpython, root / "lib" / "libpython3.11.so.1.0")
    os.symlink(stdlib, root / "lib" / "python3.11")
    assert os.path.samefile(dynload, root / "lib" / "python3.11" / "lib-dynload")
    (root / "app" / "myapp").mkdir(parents=True)
    (root / "app" / "myapp" / "__main__.py").write_text(
        "import sys\nprint('myapp on', sys.version_info[:2], sys.pycache_prefix)\n",
        encoding="utf-8")
    doc = root / "app.json"
    doc.write_bytes(codec.canonical(codec.structure(codec.parse(document, "toml").raw)))
    proc = subprocess.run([str(root / built.launcher.name), str(doc)], capture_output=True,
                          text=True, env=clean_env(), stdin=subprocess.DEVNULL, timeout=60,
                          check=False)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == f"myapp on (3, 11) {root / '.cache' / 'pycache'}\n"


def test_search_path_without_the_stdlib_is_refused(shim: Shim, tmp_path: Path) -> None:
    """module_search_paths that cannot provide the encodings package: refused
    before init, located, with the fix (CPython would fail during init)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text("print('ran')\n", encoding="utf-8")
    proc = shim.launch(EmbedConfig(options={"module_search_paths": [str(app)],
                                            "run_command": "print('ran')"}),
                       directory=tmp_path)
    err = _one_line_error(proc)
    assert (": options.module_search_paths: no entry provides the standard library's"
            " encodings package") in err
    v = f"python{shim.minor[0]}.{shim.minor[1]}"
    assert re.search(rf"; add the standard library directory, e\.g\. /\S+/{v}\n$", err), err


def test_search_path_with_the_stdlib_runs(shim: Shim, tmp_path: Path) -> None:
    """The same document with the standard library directories (anchored or
    not) in front runs: the check looks below each entry."""
    stdlib = stdlib_paths(shim.python)
    proc = shim.launch(EmbedConfig(options={"module_search_paths": [str(tmp_path), *stdlib],
                                            "run_command": "print('ran')"}),
                       directory=tmp_path)
    assert (0, "ran\n") == (proc.returncode, proc.stdout), proc.stderr


@pytest.mark.parametrize("entry", ["$CONFIG_DIR/stdlib.zip", "$CONFIG_DIR/pyc-only"])
def test_search_path_archive_or_pyc_passes_the_check(shim: Shim, tmp_path: Path,
                                                     entry: str) -> None:
    """An archive entry is accepted without looking inside, a directory with
    only encodings/__init__.pyc is accepted: CPython decides at init (here it
    fails there, which shows the launcher let it through)."""
    (tmp_path / "pyc-only" / "encodings").mkdir(parents=True)
    (tmp_path / "pyc-only" / "encodings" / "__init__.pyc").write_bytes(b"")
    proc = shim.launch(EmbedConfig(options={"module_search_paths": [entry],
                                            "run_command": "print('ran')"}),
                       directory=tmp_path)
    assert "no entry provides" not in proc.stderr
    assert "initializing CPython" in proc.stderr, proc.stderr


def test_search_path_set_false_is_not_checked(shim: Shim, tmp_path: Path) -> None:
    """module_search_paths_set = false: CPython computes the path itself, so
    the listed entries are not what it imports encodings from."""
    proc = shim.launch(EmbedConfig(options={"module_search_paths": [str(tmp_path)],
                                            "module_search_paths_set": False,
                                            "run_command": "print('ran')"}),
                       directory=tmp_path)
    assert "no entry provides" not in proc.stderr


def test_launcher_under_an_application_name(shim: Shim, tmp_path: Path) -> None:
    """A copy named NAME runs NAME.json beside it with every argument the application's;
    a symbolic link of another name runs the same; without NAME.json it exits 78 and says
    what it looked for."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "hello"
    shutil.copy2(shim.built.launcher, program)
    shutil.copy2(shim.built.shim, bin_dir / shim.built.shim.name)
    proc = subprocess.run([str(program), "a"], capture_output=True, text=True,
                          env=clean_env(), check=False)
    assert proc.returncode == 78 and proc.stdout == ""
    assert proc.stderr == (f"embedcfg: error: {program}: no document to run: a program named"
                           f" after its application runs {bin_dir}/hello.json beside it"
                           " (embedcfg bundle) or the one carried at its end (embedcfg bundle"
                           " --onefile, a static launcher), and there is neither; rebuild it"
                           " with embedcfg bundle\n"), proc.stderr
    cfg = EmbedConfig().with_options(
        module_search_paths=stdlib_paths(shim.python),
        run_command="import sys; print('@@', sys.argv[1:], '@@')")
    (bin_dir / "hello.json").write_bytes(codec.canonical(cfg))
    link = tmp_path / "other-name"
    link.symlink_to(program)
    for argv0 in (program, link):
        proc = subprocess.run([str(argv0), "a", "--b", "c.json"], capture_output=True,
                              text=True, env=clean_env(), cwd=str(tmp_path), check=False)
        assert proc.returncode == 0, proc.stderr
        assert "@@ ['a', '--b', 'c.json'] @@" in proc.stdout, proc.stdout
