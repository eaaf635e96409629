"""The pycache policy and precompile, end to end, on every installed CPython.

Each test runs the launcher (built for that CPython by embedcfg.build) in a
fresh process with an explicit environment without PYTHON* variables, and
looks at what the child reports (sys.pycache_prefix, sys.flags, where the
imported module's bytecode came from) and at what was written on disk.

"Imported from the cache" is shown without timing: after precompiling, the
source is rewritten with the same size and modification time (timestamp
pycs) or with any content (unchecked hash-based pycs), so a module that
reports the *old* value was loaded from the bytecode, never compiled.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

from embedcfg import EmbedConfig, HashCheck, Pycache, PycacheMode, cli, codec
from embedcfg.precompile import precompile

from .conftest import Shim, clean_env, stdlib_paths

CHILD = (
    "import json, sys, _imp, appmod, pkg.inner\n"
    "print('@@' + json.dumps({'value': appmod.VALUE, 'inner': pkg.inner.VALUE,"
    " 'cached': appmod.__spec__.cached, 'prefix': sys.pycache_prefix,"
    " '__cached__': appmod.__cached__, 'inner_cached': pkg.inner.__cached__,"
    " 'dont_write_bytecode': sys.flags.dont_write_bytecode,"
    " 'sys_dont_write_bytecode': sys.dont_write_bytecode,"
    " 'check_hash_pycs': _imp.check_hash_based_pycs}) + '@@')\n"
)


def make_app(root: Path, value: str = "source-A") -> Path:
    src = root / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "appmod.py").write_text(f"VALUE = {value!r}\n" + "".join(
        f"def f{i}(x):\n    return x * {i} + len({value!r})\n" for i in range(50)))
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "inner.py").write_text("VALUE = 'inner-A'\n")
    return src


def document(shim: Shim, src: Path, pycache: Optional[Pycache]) -> EmbedConfig:
    return EmbedConfig(options={"module_search_paths": [*stdlib_paths(shim.python), str(src)],
                                "site_import": False, "run_command": CHILD},
                       pycache=pycache)


def child_report(proc: "subprocess.CompletedProcess[str]") -> Dict[str, object]:
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    return json.loads(out[out.index("@@") + 2:out.rindex("@@")])  # type: ignore[no-any-return]


def snapshot(root: Path) -> Dict[str, Tuple[int, int]]:
    """Every file and directory under root, with size and mtime."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def rewrite_keeping_stat(path: Path, old: str, new: str) -> None:
    """Change a source so that a timestamp pyc still matches it."""
    st = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def read_only(root: Path) -> None:
    """chmod a-w on the whole tree (root still could write: writes are detected
    by comparing snapshots)."""
    for p in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(p.lstat().st_mode)
        if not p.is_symlink():
            os.chmod(p, mode & ~0o222)


def writable(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        if not p.is_symlink():
            os.chmod(p, stat.S_IMODE(p.lstat().st_mode) | 0o200)


@pytest.fixture
def tag(shim: Shim) -> str:
    return f"cpython-{shim.minor[0]}{shim.minor[1]}"


@pytest.mark.parametrize("mode", [None, "default", "prefix", "readonly", "readonly+prefix",
                                  "off"])
def test_policy_mode_seen_from_the_child(shim: Shim, tag: str, tmp_path: Path,
                                         mode: Optional[str]) -> None:
    """Each mode: what the child sees, and which bytecode files appear where."""
    src = make_app(tmp_path / "app")
    prefix = tmp_path / "cache"
    with_prefix = mode in ("prefix", "readonly+prefix")
    pycache = None if mode is None else Pycache(
        mode=PycacheMode((mode or "").split("+")[0]), prefix=str(prefix) if with_prefix else None)
    run = tmp_path / "run"
    run.mkdir()
    before = snapshot(tmp_path / "app")
    report = child_report(shim.launch(document(shim, src, pycache), directory=run))
    assert "source-A" == report["value"]
    writes = mode in (None, "default", "prefix")
    assert (not writes) == bool(report["dont_write_bytecode"])
    assert (not writes) is report["sys_dont_write_bytecode"]
    assert (str(prefix) if with_prefix else None) == report["prefix"]
    beside = src / "__pycache__" / f"appmod.{tag}.pyc"
    if mode == "prefix":
        assert not beside.exists()
        assert Path(str(prefix) + str(src), f"appmod.{tag}.pyc").is_file()
        assert before == snapshot(tmp_path / "app")
    elif writes:
        assert beside.is_file()
        assert not prefix.exists()
    else:
        assert before == snapshot(tmp_path / "app")
        assert not prefix.exists()


def test_precompile_then_readonly_image(shim: Shim, tag: str, tmp_path: Path) -> None:
    """precompile, copy to a read-only image, run with readonly: nothing is
    written and the modules come from the precompiled bytecode."""
    build = tmp_path / "build"
    src = make_app(build)
    cfg = document(shim, src, Pycache(mode=PycacheMode.READONLY))
    result = precompile(cfg, python=shim.python)
    assert result.ok and 3 == result.compiled, result.failed
    image = tmp_path / "image"
    shutil.copytree(build, image, symlinks=True)  # copy2: modification times kept
    image_src = image / "src"
    rewrite_keeping_stat(image_src / "appmod.py", "source-A", "source-B")
    rewrite_keeping_stat(image_src / "pkg" / "inner.py", "inner-A", "inner-B")
    read_only(image)
    try:
        before = snapshot(image)
        run = tmp_path / "run"
        run.mkdir()
        report = child_report(shim.launch(
            document(shim, image_src, Pycache(mode=PycacheMode.READONLY)), directory=run))
        assert before == snapshot(image)
    finally:
        writable(image)
    assert ("source-A", "inner-A") == (report["value"], report["inner"])
    assert str(image_src / "__pycache__" / f"appmod.{tag}.pyc") == report["cached"]
    assert report["dont_write_bytecode"]


def test_without_precompile_readonly_recompiles(shim: Shim, tmp_path: Path) -> None:
    """The control: with no bytecode, readonly compiles from source every time."""
    src = make_app(tmp_path / "image")
    rewrite_keeping_stat(src / "appmod.py", "source-A", "source-B")
    run = tmp_path / "run"
    run.mkdir()
    report = child_report(shim.launch(document(shim, src, Pycache(mode=PycacheMode.READONLY)),
                                      directory=run))
    assert "source-B" == report["value"]
    assert not (src / "__pycache__").exists()


def test_prefix_with_stdlib_and_unchecked_hash(shim: Shim, tag: str, tmp_path: Path) -> None:
    """mode prefix, precompiled with --stdlib and --unchecked-hash: the run finds
    every module it imports in the prefix tree, so it writes nothing; edited
    sources are not even looked at."""
    src = make_app(tmp_path / "app")
    prefix = tmp_path / "cache"
    cfg = document(shim, src, Pycache(mode=PycacheMode.PREFIX, prefix=str(prefix)))
    result = precompile(cfg, python=shim.python, include_stdlib=True, unchecked_hash=True)
    assert result.ok, result.failed[:5]
    assert result.compiled > 300  # the standard library, without its test suite
    (src / "appmod.py").write_text("VALUE = 'edited, longer than before'\n")
    read_only(tmp_path)
    try:
        before = snapshot(tmp_path)
        run = tmp_path.parent / (tmp_path.name + "-run")
        run.mkdir(exist_ok=True)
        report = child_report(shim.launch(cfg, directory=run))
        assert before == snapshot(tmp_path)
    finally:
        writable(tmp_path)
    assert "source-A" == report["value"]
    assert str(prefix) + str(src / f"appmod.{tag}.pyc") == report["cached"]


def test_check_always_validates_unchecked_pycs(shim: Shim, tmp_path: Path) -> None:
    """pycache.check = always: even unchecked hash-based pycs are checked
    against the source (check_hash_pycs_mode, PEP 552)."""
    src = make_app(tmp_path / "app")
    cfg = document(shim, src, Pycache(mode=PycacheMode.READONLY, check=HashCheck.ALWAYS))
    assert precompile(cfg, python=shim.python, unchecked_hash=True).ok
    (src / "appmod.py").write_text("VALUE = 'edited'\n")
    run = tmp_path / "run"
    run.mkdir()
    report = child_report(shim.launch(cfg, directory=run))
    assert ("edited", "always") == (report["value"], report["check_hash_pycs"])


def test_precompile_uses_the_target_interpreter(shim: Shim, tag: str, tmp_path: Path) -> None:
    """The pyc names carry the target's cache tag, not the test runner's."""
    src = make_app(tmp_path / "app")
    assert precompile(document(shim, src, None), python=shim.python).ok
    assert [f"appmod.{tag}.pyc"] == sorted(
        p.name for p in (src / "__pycache__").iterdir() if p.name.startswith("appmod"))
    assert shim.version == precompile(document(shim, src, None), python=shim.python).version


def test_environment_does_not_leak_into_precompile(shim: Shim, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHONPYCACHEPREFIX and PYTHONDONTWRITEBYTECODE of the caller are ignored."""
    src = make_app(tmp_path / "app")
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PYTHONOPTIMIZE", "2")
    assert precompile(document(shim, src, None), python=shim.python).ok
    assert (src / "__pycache__").is_dir()
    assert not (tmp_path / "elsewhere").exists()
    assert not any("opt-" in p.name for p in (src / "__pycache__").iterdir())


def test_readonly_reads_a_precompiled_prefix_tree(shim: Shim, tag: str, tmp_path: Path) -> None:
    """readonly plus a raw pycache_prefix option: precompile fills the prefix
    tree, the run reads it and writes nothing."""
    src = make_app(tmp_path / "app")
    prefix = tmp_path / "cache"
    base = document(shim, src, Pycache(mode=PycacheMode.READONLY))
    cfg = base.with_options(pycache_prefix=str(prefix))
    assert precompile(cfg, python=shim.python).ok
    rewrite_keeping_stat(src / "appmod.py", "source-A", "source-B")
    before = snapshot(tmp_path)
    run = tmp_path.parent / (tmp_path.name + "-run")
    run.mkdir(exist_ok=True)
    report = child_report(shim.launch(cfg, directory=run))
    assert before == snapshot(tmp_path)
    assert ("source-A", str(prefix)) == (report["value"], report["prefix"])
    assert str(prefix) + str(src / f"appmod.{tag}.pyc") == report["cached"]


def compile_variant(shim: Shim, text: str, source: Path, cfile: Path, work: Path) -> None:
    """Write to ``cfile`` the target's unchecked hash-based pyc of ``text``,
    named as if compiled from ``source``: valid for the import system whatever
    ``source`` holds, so whoever imports it gets ``text``'s values."""
    variant = work / f"variant-{len(list(work.glob('variant-*')))}.py"
    variant.write_text(text)
    code = ("import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2],"
            " dfile=sys.argv[3], doraise=True,"
            " invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)")
    subprocess.run([shim.python, "-I", "-S", "-c", code, str(variant), str(cfile), str(source)],
                   env=clean_env(), check=True)


def test_readonly_prefix_on_another_mount(shim: Shim, tag: str, tmp_path: Path) -> None:
    """mode readonly with a prefix: sources and bytecode in two read-only
    trees; precompile fills the prefix, the child reads its bytecode from
    there (and only there) and nothing is written anywhere."""
    src = make_app(tmp_path / "image")
    prefix = tmp_path / "bytecode" / "pyc"  # another mount in production
    cfg = document(shim, src, Pycache(mode=PycacheMode.READONLY, prefix=str(prefix)))
    result = precompile(cfg, python=shim.python)
    assert result.ok and 3 == result.compiled, result.failed
    assert str(prefix) == result.plan.prefix
    assert [] == list(src.rglob("__pycache__"))  # nothing beside the sources
    in_prefix = Path(str(prefix) + str(src))
    assert sorted([in_prefix / f"appmod.{tag}.pyc", in_prefix / "pkg" / f"__init__.{tag}.pyc",
                   in_prefix / "pkg" / f"inner.{tag}.pyc"]) == sorted(prefix.rglob("*.pyc"))
    # Where the bytecode can come from, each with its own value:
    # - appmod: the prefix holds a pyc of another source ("from-prefix"),
    #   __pycache__ beside it a decoy ("from-beside"), the source says
    #   "source-A": only a read of the prefix's pyc gives "from-prefix";
    # - pkg.inner: precompile's own timestamp pyc, the source then edited
    #   with the same size and mtime: only the pyc gives "inner-A".
    work = tmp_path / "work"
    work.mkdir()
    compile_variant(shim, "VALUE = 'from-prefix'\n", src / "appmod.py",
                    in_prefix / f"appmod.{tag}.pyc", work)
    (src / "__pycache__").mkdir()
    compile_variant(shim, "VALUE = 'from-beside'\n", src / "appmod.py",
                    src / "__pycache__" / f"appmod.{tag}.pyc", work)
    rewrite_keeping_stat(src / "pkg" / "inner.py", "inner-A", "inner-B")
    read_only(tmp_path / "image")
    read_only(tmp_path / "bytecode")
    try:
        before = snapshot(tmp_path)
        run = tmp_path.parent / (tmp_path.name + "-run")
        run.mkdir(exist_ok=True)
        report = child_report(shim.launch(cfg, directory=run))
        assert before == snapshot(tmp_path)
        assert ["doc.json"] == sorted(p.name for p in run.iterdir())
    finally:
        writable(tmp_path / "image")
        writable(tmp_path / "bytecode")
    assert ("from-prefix", "inner-A") == (report["value"], report["inner"])
    assert str(prefix) == report["prefix"]
    assert report["sys_dont_write_bytecode"] is True
    assert str(in_prefix / f"appmod.{tag}.pyc") == report["__cached__"] == report["cached"]
    assert str(in_prefix / "pkg" / f"inner.{tag}.pyc") == report["inner_cached"]


def test_readonly_prefix_without_its_pycs_compiles_in_memory(shim: Shim, tag: str,
                                                             tmp_path: Path) -> None:
    """The control: with the prefix tree empty, a readonly run compiles from
    source (the edited value shows), reads no __pycache__ beside the sources
    and still writes nothing."""
    src = make_app(tmp_path / "image")
    prefix = tmp_path / "bytecode"
    prefix.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (src / "__pycache__").mkdir()
    compile_variant(shim, "VALUE = 'from-beside'\n", src / "appmod.py",
                    src / "__pycache__" / f"appmod.{tag}.pyc", work)
    rewrite_keeping_stat(src / "appmod.py", "source-A", "source-B")
    read_only(tmp_path)
    try:
        before = snapshot(tmp_path)
        run = tmp_path.parent / (tmp_path.name + "-run")
        run.mkdir(exist_ok=True)
        report = child_report(shim.launch(document(
            shim, src, Pycache(mode=PycacheMode.READONLY, prefix=str(prefix))), directory=run))
        assert before == snapshot(tmp_path)
    finally:
        writable(tmp_path)
    assert "source-B" == report["value"]
    assert str(prefix) + str(src / f"appmod.{tag}.pyc") == report["__cached__"]


def test_readonly_prefix_writable_by_others_is_refused(shim: Shim, tmp_path: Path) -> None:
    """A readonly prefix is where bytecode is loaded from: writable by its
    group, validate --target refuses it (EC410) and so does the launcher,
    before any code of the application runs."""
    root = tmp_path / "app"
    src = make_app(root)
    prefix = root / "pyc"
    prefix.mkdir()
    for d in (tmp_path, root, src, src / "pkg"):
        os.chmod(d, 0o755)
    os.chmod(prefix, 0o775)
    marker = tmp_path / "RAN"
    cfg = document(shim, src, Pycache(mode=PycacheMode.READONLY, prefix=str(prefix)))
    cfg = cfg.with_options(run_command=f"open({str(marker)!r}, 'w').write('ran')")
    doc = root / "doc.json"
    doc.write_bytes(codec.canonical(cfg))
    out, err = io.StringIO(), io.StringIO()
    assert 1 == cli.run(["validate", "--format", "json", "--target", shim.python, str(doc)],
                        out, err), err.getvalue()
    found = [(p["code"], p["pointer"]) for p in json.loads(out.getvalue())["problems"]]
    assert [("EC410", "/pycache/prefix")] == found
    proc = shim.launch_file(doc)
    assert 78 == proc.returncode, proc.stderr
    assert proc.stderr.startswith("embedcfg: error: ") and str(prefix) in proc.stderr
    assert "writable" in proc.stderr and 1 == proc.stderr.count("\n")
    assert not marker.exists()
    os.chmod(prefix, 0o755)  # the same document with a private prefix runs
    assert 0 == shim.launch_file(doc).returncode
    assert marker.exists()
