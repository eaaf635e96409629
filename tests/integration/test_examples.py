"""The examples with a program (examples/c-host, examples/pybind11-host,
examples/attach, examples/readonly-image, examples/bundle-app,
examples/static-app): each is built and run by its documented command, with a
real compiler and real interpreters, in fresh processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from .conftest import Shim, clean_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _example(script: Path, shim: Shim, cache: Path, out: Path, *args: str,
             timeout: float = 300) -> "subprocess.CompletedProcess[str]":
    """Run an example's build.py for ``shim``'s interpreter, sharing the
    session's shim cache (so the shim is built once per session)."""
    return subprocess.run([sys.executable, str(script), "--python", shim.python, "--out",
                           str(out), *args], capture_output=True, text=True,
                          env=clean_env(EMBEDCFG_CACHE_DIR=str(cache)), timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


def _c_host_lines(shim: Shim, args: List[str]) -> List[str]:
    return [f"hello from c-host: CPython {'.'.join(map(str, shim.version))}",
            f"argv: {args!r}", "site imported: False", "utf-8 mode: True",
            "writes bytecode: False"]


def test_c_host_builds_and_runs(shim: Shim, shim_cache: Path, tmp_path: Path) -> None:
    """examples/c-host: `build.py --run -- ARGS` compiles host.c and runs app.json."""
    proc = _example(EXAMPLES / "c-host" / "build.py", shim, shim_cache, tmp_path, "--run",
                    "--", "one", "two")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == _c_host_lines(shim, ["one", "two"])


def test_c_host_readme_step_by_step(shim_cache: Path, tmp_path: Path) -> None:
    """The README's step-by-step commands (cc with `embedcfg build --cflags
    --ldflags`), run as written from the repository root by a shell, with
    the build directory moved to tmp and this venv's embedcfg."""
    readme = (EXAMPLES / "c-host" / "README.md").read_text(encoding="utf-8")
    block = readme.split("step by step", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert "cc -std=c99" in block and "--cflags --ldflags" in block, block
    embedcfg = Path(sys.executable).parent / "embedcfg"
    in_tree = (EXAMPLES / "c-host" / "build").exists()
    script = (block.replace("examples/c-host/build", str(tmp_path / "build"))
              .replace(".venv/bin/embedcfg", str(embedcfg)))
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=clean_env(EMBEDCFG_CACHE_DIR=str(shim_cache)), timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    version = subprocess.run([sys.executable, "-c", "import platform;"
                              " print(platform.python_version())"], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert proc.stdout.splitlines() == [
        f"hello from c-host: CPython {version}", "argv: ['one', 'two']",
        "site imported: False", "utf-8 mode: True", "writes bytecode: False"]
    assert (EXAMPLES / "c-host" / "build").exists() == in_tree  # nothing written there


@pytest.fixture
def c_host(shims: Any, shim_cache: Path, pythons: Dict[Tuple[int, int], str],
           tmp_path: Path) -> Path:
    """c-host built for the newest installed CPython."""
    if not pythons:
        pytest.skip("no CPython is installed through pyenv")
    newest = shims.get_shim(max(pythons))
    proc = _example(EXAMPLES / "c-host" / "build.py", newest, shim_cache, tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "c-host"


@pytest.mark.parametrize(("document", "message"), [
    ('{"version": 1, "options": {"utf8_mode": 5}}',
     "during setting utf8_mode: expected boolean, got integer"),
    ('{"version": 1, "requires_python": ">=3.99"}', "does not satisfy requires_python '>=3.99'"),
    ('{"version": 1,', "invalid document at line 1"),
])
def test_c_host_refuses_a_bad_document_with_78(c_host: Path, tmp_path: Path, document: str,
                                               message: str) -> None:
    """A refused document: exit 78 (EMBEDCFG_EXIT_CONFIG) and one 'c-host: error:' line."""
    doc = tmp_path / "doc.json"
    doc.write_text(document, encoding="utf-8")
    proc = subprocess.run([str(c_host), str(doc)], capture_output=True, text=True,
                          env=clean_env(), timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (78, "")
    (line,) = proc.stderr.splitlines()
    assert line.startswith("c-host: error: ") and message in line, line


def test_c_host_exit_codes(c_host: Path, tmp_path: Path) -> None:
    """The application's status passes through; CPython's own exit during init
    (parse_argv: --help 0, a bad option 2) is returned, not reported as an error."""
    app = [str(c_host), str(EXAMPLES / "c-host" / "app.json")]
    proc = subprocess.run([*app, "--exit", "3"], capture_output=True, text=True,
                          env=clean_env(), timeout=60, check=False)
    assert proc.returncode == 3, proc.stderr
    doc = tmp_path / "argv.json"
    doc.write_text('{"version": 1, "profile": "python", "options": {"parse_argv": true,'
                   ' "site_import": false, "run_command": "pass"}}', encoding="utf-8")
    for arg, code in (("--help", 0), ("--no-such-option", 2)):
        proc = subprocess.run([str(c_host), str(doc), arg], capture_output=True, text=True,
                              env=clean_env(), timeout=60, check=False)
        assert proc.returncode == code, proc.stderr
        assert "c-host: error" not in proc.stderr


def _oldest_and_newest(pythons: Dict[Tuple[int, int], str],
                       since: Tuple[int, int]) -> List[Tuple[int, int]]:
    found = sorted(m for m in pythons if m >= since)
    return sorted({found[0], found[-1]}) if found else []


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_pybind11_host_builds_and_runs(which: str, shims: Any, shim_cache: Path,
                                       pythons: Dict[Tuple[int, int], str],
                                       tmp_path: Path) -> None:
    """examples/pybind11-host: g++ compiles host.cpp against pybind11 and the
    shim; py::scoped_interpreter starts from the PyConfig embedcfg filled.
    (pybind11 3.1 supports CPython 3.9+; g++ is slow, so the oldest and the
    newest installed minor only.)"""
    pytest.importorskip("pybind11")
    chosen = _oldest_and_newest(pythons, (3, 9))
    if not chosen:
        pytest.skip(f"no CPython 3.9+ is installed (pyenv versions: {sorted(pythons)})")
    minor = chosen[0] if which == "oldest" else chosen[-1]
    shim = shims.get_shim(minor)
    proc = _example(EXAMPLES / "pybind11-host" / "build.py", shim, shim_cache, tmp_path,
                    "--run", "--", "one", "two")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"hello from pybind11-host: CPython {'.'.join(map(str, shim.version))}",
        "argv: ['one', 'two']", "host.add(2, 3) = 5", "site imported: False",
        "utf-8 mode: True", "warnoptions: ['error::DeprecationWarning']",
        "writes bytecode: False"]
    host = [str(tmp_path / "pybind11-host")]
    script = str(EXAMPLES / "pybind11-host" / "script.py")
    proc = subprocess.run([*host, str(tmp_path / "app.json"), script, "--exit", "3"],
                          capture_output=True, text=True, env=clean_env(), timeout=60,
                          check=False)
    assert proc.returncode == 3, proc.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "options": {"utf8_mode": 5}}', encoding="utf-8")
    proc = subprocess.run([*host, str(bad), script], capture_output=True, text=True,
                          env=clean_env(), timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (78, "")
    assert proc.stderr.startswith("pybind11-host: error: ") and "utf8_mode" in proc.stderr


ATTACH_OUTPUT = ["module_search_paths: applied (1 entry added to sys.path)",
                 "warnoptions: applied (warning filters added)",
                 "write_bytecode: applied (sys.dont_write_bytecode set to True)",
                 "greeting: hello from a plugin", "DeprecationWarning raises: True",
                 "writes bytecode: False"]


@pytest.fixture(scope="module")
def sdk_pythons(pythons: Dict[Tuple[int, int], str],
                tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    """Interpreters with embedcfg installed: this one, and on request a venv of
    the oldest (3.9, the SDK's minimum) or newest installed CPython."""
    made: Dict[Tuple[int, int], str] = {}

    def get(which: str) -> str:
        if which == "this":
            return sys.executable
        chosen = _oldest_and_newest(pythons, (3, 9))
        if not chosen:
            pytest.skip(f"no CPython 3.9+ is installed (pyenv versions: {sorted(pythons)})")
        minor = chosen[0] if which == "oldest" else chosen[-1]
        if minor not in made:
            venv = tmp_path_factory.mktemp(f"sdk{minor[0]}{minor[1]}")
            subprocess.run([pythons[minor], "-m", "venv", str(venv)], check=True,
                           env=clean_env())
            proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                                   str(ROOT)], capture_output=True, text=True,
                                  env=clean_env(), timeout=600, check=False)
            assert proc.returncode == 0, proc.stderr
            made[minor] = str(venv / "bin" / "python")
        return made[minor]

    return get


@pytest.mark.parametrize("which", ["this", "oldest", "newest"])
def test_attach_host_prints_the_report(which: str, sdk_pythons: Callable[[str], str],
                                       shim_cache: Path,
                                       tmp_path: Path) -> None:
    """examples/attach: a running Python program attaches attach.toml, prints the
    report, and its interpreter then follows the document."""
    python = sdk_pythons(which)
    proc = subprocess.run([python, str(EXAMPLES / "attach" / "host.py")], capture_output=True,
                          text=True, env=clean_env(EMBEDCFG_CACHE_DIR=str(shim_cache)),
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    first, *rest = proc.stdout.splitlines()
    assert first.startswith("attached to CPython 3.")
    assert rest == ATTACH_OUTPUT
    assert not (EXAMPLES / "attach" / "plugins" / "__pycache__").exists()


def test_attach_host_reports_what_is_fixed_at_init(sdk_pythons: Callable[[str], str],
                                                   shim_cache: Path,
                                                   tmp_path: Path) -> None:
    """Options fixed at init are reported as not applied (exit 0); a document
    with embedded = false is refused with exit 78."""
    python = sdk_pythons("this")
    env = clean_env(EMBEDCFG_CACHE_DIR=str(shim_cache))
    doc = tmp_path / "fixed.toml"
    doc.write_text("version = 1\nembedded = true\n[options]\nutf8_mode = true\n",
                   encoding="utf-8")
    host = [python, str(EXAMPLES / "attach" / "host.py")]
    proc = subprocess.run([*host, str(doc)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == ("utf8_mode: not applied (fixed at init: it cannot"
                                           " be changed in a running interpreter)")
    doc.write_text("version = 1\n", encoding="utf-8")
    proc = subprocess.run([*host, str(doc)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert (proc.returncode, proc.stdout) == (78, "")
    assert proc.stderr.startswith("attach: error: an interpreter is already running")


READONLY_IMAGE = EXAMPLES / "readonly-image"
INVENTORY = ["inventory", "inventory.__main__", "inventory.models", "inventory.pricing",
             "inventory.report"]


def _readonly_image_lines(minor: Tuple[int, int], precompiled: bool) -> List[str]:
    """What the image's application prints (build.py adds its two lines)."""
    tag = f"cpython-{minor[0]}{minor[1]}"
    status = "unchecked hash pyc matching the source" if precompiled else "no pyc"
    files = ["__init__", "__main__", "models", "pricing", "report"]
    return ["inventory 1.0", "  3 x widget at  2.50 =  7.50", "  1 x gadget at 10.00 = 10.00",
            "  4 x gizmo  at  0.75 =  3.00", "total 20.50 (with 20% VAT: 24.60)",
            "writes bytecode: False",
            *(f"{name}: inventory/__pycache__/{f}.{tag}.pyc, {status}"
              for name, f in zip(INVENTORY, files)),
            "compiled from source: " + ("none" if precompiled
                                        else "report.py, pricing.py, models.py")]


def _tree(root: Path) -> Dict[str, Tuple[int, int, int]]:
    return {str(p.relative_to(root)): (p.lstat().st_mode, p.lstat().st_size,
                                       p.lstat().st_mtime_ns)
            for p in [root, *root.rglob("*")]}


def _make_writable(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        p.chmod(p.lstat().st_mode | 0o200)


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_readonly_image_runs_from_precompiled_bytecode(which: str, shims: Any,
                                                       shim_cache: Path,
                                                       pythons: Dict[Tuple[int, int], str],
                                                       tmp_path: Path) -> None:
    """examples/readonly-image: `build.py --run` lays out the image, precompiles
    it, makes it read-only and runs it twice through the launcher: every module
    of the application comes from its precompiled .pyc, none is compiled, and
    nothing in the image changes. Without precompile the same run compiles the
    application from source (so the output tells the two apart)."""
    chosen = _oldest_and_newest(pythons, (3, 8))
    if not chosen:
        pytest.skip(f"no CPython 3.8+ is installed (pyenv versions: {sorted(pythons)})")
    shim = shims.get_shim(chosen[0] if which == "oldest" else chosen[-1])
    image = tmp_path / "image"
    try:
        proc = _example(READONLY_IMAGE / "build.py", shim, shim_cache, tmp_path, "--run")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == [*_readonly_image_lines(shim.minor, True),
                                            "second run: same output",
                                            "changed in the image: nothing"]
        assert "precompiled 5 modules (5 compiled, 0 up to date)" in proc.stderr
        # The image as built: read-only, and its pycs are the unchecked
        # hash-based ones precompile wrote (PEP 552 flags = 1).
        pycs = sorted((image / "src" / "inventory" / "__pycache__").iterdir())
        assert [p.name.split(".")[0] for p in pycs] == [
            "__init__", "__main__", "models", "pricing", "report"]
        assert all(p.read_bytes()[4:8] == b"\x01\x00\x00\x00" for p in pycs)
        assert not any(p.lstat().st_mode & 0o222 for p in [image, *image.rglob("*")])
        # The launcher on the image's document, as the README's step by step runs it.
        before = _tree(image)
        run = shim.launch_file(image / "app.json")
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines() == _readonly_image_lines(shim.minor, True)
        assert _tree(image) == before

        proc = _example(READONLY_IMAGE / "build.py", shim, shim_cache, tmp_path, "--run",
                        "--no-precompile")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == [*_readonly_image_lines(shim.minor, False),
                                            "second run: same output",
                                            "changed in the image: nothing"]
        assert not (image / "src" / "inventory" / "__pycache__").exists()
    finally:
        if image.exists():
            _make_writable(image)


def _readme_block(readme: str, marker: str, lang: str) -> str:
    return readme.split(marker, 1)[1].split(f"```{lang}\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_bundle_app_builds_and_runs_anywhere(which: str, shims: Any, shim_cache: Path,
                                            pythons: Dict[Tuple[int, int], str],
                                            tmp_path: Path) -> None:
    """examples/bundle-app: the README's command bundles wordstats and runs it
    with the README's output; a copy of the bundle elsewhere, with the build
    tree deleted, prints the same. (Oldest and newest installed minor: every
    minor is bundled by tests/integration/test_bundle.py.)"""
    import shlex
    import shutil

    chosen = _oldest_and_newest(pythons, (3, 8))
    if not chosen:
        pytest.skip("no CPython is installed through pyenv")
    shim = shims.get_shim(chosen[0] if which == "oldest" else chosen[-1])
    readme = (EXAMPLES / "bundle-app" / "README.md").read_text(encoding="utf-8")
    command = _readme_block(readme, "From the repository root", "sh").strip()
    args = shlex.split(command.split(" -- ", 1)[1])
    expected = _readme_block(readme, "Expected output", "text").splitlines()
    proc = _example(EXAMPLES / "bundle-app" / "build.py", shim, shim_cache, tmp_path / "build",
                    "--run", "--", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == expected
    assert "bundled wordstats for CPython" in proc.stderr
    moved = tmp_path / "elsewhere" / "wordstats"
    shutil.copytree(tmp_path / "build" / "wordstats", moved, symlinks=True)
    shutil.rmtree(tmp_path / "build")
    again = subprocess.run([str(moved / "bin" / "wordstats"), *args], capture_output=True,
                           text=True, env=clean_env(PATH="/nonexistent"), cwd=tmp_path,
                           stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert (again.returncode, again.stdout.splitlines(), again.stderr) == (0, expected, "")


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_bundle_app_as_one_file(which: str, shims: Any, shim_cache: Path,
                                pythons: Dict[Tuple[int, int], str], tmp_path: Path) -> None:
    """examples/bundle-app's "As one file": `build.py --onefile --run` prints
    the README's lines, the last one saying that every module came from the
    executable; a copy under another name, with the build tree deleted, prints
    the same."""
    import shlex
    import shutil

    chosen = _oldest_and_newest(pythons, (3, 8))
    if not chosen:
        pytest.skip("no CPython is installed through pyenv")
    shim = shims.get_shim(chosen[0] if which == "oldest" else chosen[-1])
    readme = (EXAMPLES / "bundle-app" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## As one file", 1)[1]
    command = _readme_block(section, "one executable instead", "sh").strip().splitlines()[0]
    args = shlex.split(command.split(" -- ", 1)[1])
    expected = _readme_block(readme, "Expected output", "text").splitlines()[:-1]
    expected += _readme_block(section, "It prints the same lines", "text").splitlines()
    proc = _example(EXAMPLES / "bundle-app" / "build.py", shim, shim_cache, tmp_path / "build",
                    "--onefile", "--run", "--", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == expected
    assert "into one file" in proc.stderr
    moved = tmp_path / "elsewhere" / "ws"
    moved.parent.mkdir()
    shutil.copy2(tmp_path / "build" / "onefile" / "wordstats", moved)
    shutil.rmtree(tmp_path / "build")
    again = subprocess.run([str(moved), *args], capture_output=True, text=True,
                           env=clean_env(PATH="/nonexistent"), cwd=tmp_path,
                           stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert (again.returncode, again.stdout.splitlines(), again.stderr) == (0, expected, "")


_STATIC_APP_LINES = ["Hello, static world! (greeting 1) - multi-phase",
                     "counter: 1 2 - single-phase",
                     "shapes.circle.area(2) = 12.566 - PI = 3.141592653589793",
                     "modules: <module 'greet' (built-in)> shapes.circle []",
                     "in sys.builtin_module_names: False"]


@pytest.mark.parametrize("link", ["dynamic", "static"])
def test_static_app_builds_and_runs(link: str, shim: Shim, shim_cache: Path,
                                    tmp_path: Path) -> None:
    """examples/static-app: `build.py --link LINK --run` bakes the inittab,
    links the modules, the shim and the shared or the static libpython, and
    runs the application; linked statically, the executable needs no
    libpython, and a lib-dynload module (_json) imports in it."""
    proc = _example(EXAMPLES / "static-app" / "build.py", shim, shim_cache, tmp_path,
                    "--link", link, "--run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:5] == _STATIC_APP_LINES, proc.stdout
    needed = subprocess.run(["readelf", "-d", str(tmp_path / "static-app")],
                            capture_output=True, text=True, check=True).stdout
    assert ("libpython" in needed) == (link == "dynamic"), needed
    document = json.loads((tmp_path / "app.json").read_text(encoding="utf-8"))
    document["options"]["run_command"] = "import _json, json; print(_json.__file__, json.dumps([1]))"
    doc = tmp_path / "json.json"
    doc.write_text(json.dumps(document), encoding="utf-8")
    ran = subprocess.run([str(tmp_path / "static-app"), str(doc)], capture_output=True,
                         text=True, env=clean_env(), timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split()[0].endswith(".so") and ran.stdout.split()[1] == "[1]", ran.stdout
