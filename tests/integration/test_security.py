"""Insecure layouts are refused: by embedcfg.security (validate) and by the C
checks the launcher runs before init (capi_shim/pathsec.c), which must agree.

The C side is exercised through a small driver compiled here with
-std=c99 -Wall -Wextra -Wconversion -Werror and ASan+UBSan. The launcher
tests need the launcher to call embedcfg_pathsec_check_document before it
loads libpython; until it does they are skipped and say so.

Tests run as root (chown to another uid needs it); as root, "writable by
others" is about the mode bits, which is what the checks look at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from embedcfg import EmbedConfig, InittabEntry, Pycache, PycacheMode, codec
from embedcfg import build as _build
from embedcfg.security import CODE_FOREIGN_OWNER, CODE_PYVENV, CODE_WRITABLE, check_paths

from .conftest import Shim, clean_env

ROOT = Path(__file__).resolve().parents[2]
SHIM_SRC = ROOT / "capi_shim"
OTHER_UID = 54321

pytestmark = pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0,
                                reason="needs POSIX and root (chown to another uid)")

DRIVER = r"""
#define _XOPEN_SOURCE 700
#include "pathsec.h"
#include "jsonparse.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int doc_mode(const char *path, const char *origin, const char *config_dir,
                    const char *default_lib)
{
    FILE *f = fopen(path, "rb");
    char buf[65536];
    size_t n;
    embedcfg_json_value *doc = NULL;
    embedcfg_json_error jerr;
    char err[2048];
    int rc;

    if (f == NULL) {
        return 3;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (embedcfg_json_parse(buf, n, sizeof(buf), &doc, &jerr) < 0) {
        printf("PARSE %s\n", jerr.message);
        return 3;
    }
    rc = embedcfg_pathsec_check_document(doc, origin[0] ? origin : NULL,
                                         config_dir[0] ? config_dir : NULL,
                                         default_lib[0] ? default_lib : NULL,
                                         err, sizeof(err));
    embedcfg_json_free(doc);
    if (rc < 0) {
        printf("REFUSED %s\n", err);
        return 1;
    }
    printf("OK\n");
    return 0;
}

static int edge_mode(void)
{
    static const char *docs[] = {
        "null", "[]", "{}", "{\"options\": 1}", "{\"options\": {\"module_search_paths\": 1}}",
        "{\"options\": {\"module_search_paths\": [1, null, \"\", \"rel\", \"$ORIGIN\","
        " \"$CONFIG_DIR/x\", \"$ORIGINAL\", \"/nonexistent/a/b/../c//d/./e\"]}}",
        "{\"pycache\": {\"mode\": \"prefix\", \"prefix\": 5}}",
        "{\"pycache\": {\"mode\": 5, \"prefix\": \"/tmp\"}}",
        "{\"pycache\": [], \"lib\": 1, \"inittab\": [1, {\"library\": 2}, {\"library\": \"x\"}]}",
        "{\"lib\": \"$ORIGIN/../lib/libpython.so\", \"options\": {\"executable\": \"rel\","
        " \"program_name\": \"$CONFIG_DIR\"}}",
    };
    embedcfg_pathsec_item items[6];
    char *longpath;
    char err[64];
    char tiny[1];
    size_t i;

    longpath = (char *)malloc(200001);
    if (longpath == NULL) {
        return 2;
    }
    for (i = 0; i < 200000; i += 2) {
        longpath[i] = '/';
        longpath[i + 1] = 'a';
    }
    longpath[200000] = '\0';
    items[0].what = NULL; items[0].path = NULL; items[0].kind = 0;
    items[1].what = "x"; items[1].path = ""; items[1].kind = 1;
    items[2].what = "x"; items[2].path = "relative/path"; items[2].kind = 1;
    items[3].what = "x"; items[3].path = longpath; items[3].kind = 1;
    items[4].what = "x"; items[4].path = "////"; items[4].kind = 7;
    items[5].what = "x"; items[5].path = "/proc/self/root/../.."; items[5].kind = 0;
    for (i = 0; i < 6; i++) {
        embedcfg_pathsec_check(&items[i], 1, NULL, err, sizeof(err));
        embedcfg_pathsec_check(&items[i], 1, "/", NULL, 0);
        embedcfg_pathsec_check(&items[i], 1, "relative", tiny, sizeof(tiny));
        embedcfg_pathsec_check(&items[i], 1, longpath, tiny, 0);
    }
    embedcfg_pathsec_check(NULL, 3, NULL, err, sizeof(err));
    embedcfg_pathsec_check(NULL, 0, "", err, sizeof(err));
    embedcfg_pathsec_check_document(NULL, NULL, NULL, NULL, NULL, 0);
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        embedcfg_json_value *doc = NULL;
        embedcfg_json_error jerr;

        if (embedcfg_json_parse(docs[i], strlen(docs[i]), 65536, &doc, &jerr) < 0) {
            printf("PARSE %lu %s\n", (unsigned long)i, jerr.message);
            free(longpath);
            return 3;
        }
        embedcfg_pathsec_check_document(doc, NULL, NULL, NULL, err, sizeof(err));
        embedcfg_pathsec_check_document(doc, "/", "/", "/nonexistent/lib.so", tiny, 1);
        embedcfg_pathsec_check_document(doc, longpath, longpath, longpath, NULL, 0);
        embedcfg_json_free(doc);
    }
    free(longpath);
    printf("OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "edge") == 0) {
        return edge_mode();
    }
    if (argc == 6 && strcmp(argv[1], "doc") == 0) {
        return doc_mode(argv[2], argv[3], argv[4], argv[5]);
    }
    fprintf(stderr, "usage: driver edge | doc DOC ORIGIN CONFIG_DIR DEFAULT_LIB\n");
    return 2;
}
"""

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Werror", "-pedantic"]


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pathsec driver, built under ASan+UBSan."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("pathsec")
    (d / "driver.c").write_text(DRIVER)
    out = d / "driver"
    cmd = ["cc", *STRICT, "-g", "-O1", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", f"-I{SHIM_SRC}", str(d / "driver.c"),
           *(str(SHIM_SRC / s) for s in ("pathsec.c", *_build._COMMON_SOURCES)),
           "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("std", ["c99", "c11"])
def test_pathsec_compiles_strictly(tmp_path: Path, std: str) -> None:
    """pathsec.c is clean C99/C11 under -Wall -Wextra -Wconversion -Werror."""
    proc = subprocess.run(["cc", *STRICT[1:], f"-std={std}", f"-I{SHIM_SRC}", "-c",
                           str(SHIM_SRC / "pathsec.c"), "-o", str(tmp_path / "p.o")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_pathsec_header_compiles_as_cxx(tmp_path: Path) -> None:
    """pathsec.h is usable from C++."""
    if shutil.which("c++") is None:
        pytest.skip("no C++ compiler")
    (tmp_path / "t.cc").write_text('#include "pathsec.h"\nint main() { return 0; }\n')
    proc = subprocess.run(["c++", "-Wall", "-Wextra", "-Werror", f"-I{SHIM_SRC}",
                           str(tmp_path / "t.cc"), "-fsyntax-only"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_pathsec_survives_any_input(driver: Path) -> None:
    """NULLs, wrong types, relative, empty and 200 kB paths: no crash, no leak,
    no sanitizer finding."""
    proc = subprocess.run([str(driver), "edge"], capture_output=True, text=True,
                          env=clean_env(ASAN_OPTIONS="detect_leaks=1"), check=False)
    assert (0, "OK\n") == (proc.returncode, proc.stdout), proc.stderr[-3000:]


# Layouts: each builds a tree and returns (document, origin, expected code or None).
Layout = Callable[[Path], Tuple[EmbedConfig, Optional[str], Optional[str]]]


def _base(root: Path) -> Tuple[Path, Path, Path]:
    for d in ("bin", "src", "cache", "lib"):
        (root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(root / d, 0o755)
    os.chmod(root, 0o755)
    return root / "src", root / "cache", root / "bin"


def _cfg(src: Path, prefix: Optional[Path] = None, **kw: object) -> EmbedConfig:
    return EmbedConfig(options={"module_search_paths": [str(src)]},
                       pycache=Pycache(mode=PycacheMode.PREFIX, prefix=str(prefix))
                       if prefix else None, **kw)  # type: ignore[arg-type]


def secure(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    return _cfg(src, cache), str(bin_), None


def world_writable_prefix(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    os.chmod(cache, 0o777)
    return _cfg(src, cache), str(bin_), CODE_WRITABLE


def group_writable_search_path(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    os.chmod(src, 0o775)
    return _cfg(src), str(bin_), CODE_WRITABLE


def sticky_search_path(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    os.chmod(src, 0o1777)
    return _cfg(src), str(bin_), CODE_WRITABLE


def sticky_ancestor(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    os.chmod(root, 0o1777)
    return _cfg(src, cache), str(bin_), None


def missing_prefix_below_sticky(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    os.chmod(root, 0o1777)
    return _cfg(src, root / "later" / "cache"), str(bin_), CODE_WRITABLE


def foreign_lib_dir(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    (root / "lib" / "libpython.so").write_bytes(b"")
    os.chown(root / "lib", OTHER_UID, -1)
    return _cfg(src, lib=str(root / "lib" / "libpython.so")), str(bin_), CODE_FOREIGN_OWNER


def writable_inittab_library(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    so = root / "lib" / "libext.so"
    so.write_bytes(b"")
    os.chmod(so, 0o664)
    return (_cfg(src, inittab=[InittabEntry(name="ext", library="$CONFIG_DIR/lib/libext.so")]),
            str(bin_), CODE_WRITABLE)


def symlink_to_open_dir(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    (root / "open").mkdir()
    os.chmod(root / "open", 0o777)
    os.symlink(root / "open", root / "link")
    return _cfg(root / "link"), str(bin_), CODE_WRITABLE


def pyvenv_beside_launcher(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    (bin_ / "pyvenv.cfg").write_text("home = /usr\n")
    return _cfg(src), str(bin_), CODE_PYVENV


def pyvenv_above_launcher(root: Path) -> Tuple[EmbedConfig, Optional[str], Optional[str]]:
    src, cache, bin_ = _base(root)
    (root / "pyvenv.cfg").write_text("home = /usr\n")
    return _cfg(src), str(bin_), CODE_PYVENV


LAYOUTS: List[Layout] = [secure, world_writable_prefix, group_writable_search_path,
                         sticky_search_path, sticky_ancestor, missing_prefix_below_sticky,
                         foreign_lib_dir, writable_inittab_library, symlink_to_open_dir,
                         pyvenv_beside_launcher, pyvenv_above_launcher]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda f: f.__name__)
def test_python_and_c_agree(driver: Path, tmp_path: Path, layout: Layout) -> None:
    """validate's checks and the launcher's C checks give the same verdict."""
    root = tmp_path / "app"
    cfg, origin, expected = layout(root)
    problems = check_paths(cfg, config_dir=str(root), origin=origin)
    assert ([expected] if expected else []) == [p.code for p in problems][:1]
    doc = tmp_path / "doc.json"
    doc.write_bytes(codec.canonical(cfg))
    proc = subprocess.run([str(driver), "doc", str(doc), origin or "", str(root), ""],
                          capture_output=True, text=True, env=clean_env(), check=False)
    assert proc.returncode == (1 if expected else 0), proc.stdout + proc.stderr
    if expected:
        message = proc.stdout
        # the C message names the same path as the Python one, with mode and fix
        first_path = problems[0].message.split(": ", 1)[1].split(" ", 1)[0]
        assert first_path in message
        assert "fix:" in message
        assert ("mode " in message) and (" (0" in message or " (1" in message)


def test_c_refuses_unexpandable_paths(driver: Path, tmp_path: Path) -> None:
    """A relative path or an unknown anchor cannot be checked, so it is refused."""
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps({"version": 1, "options": {"module_search_paths": ["rel/x"]}}))
    proc = subprocess.run([str(driver), "doc", str(doc), "", "", ""], capture_output=True,
                          text=True, env=clean_env(), check=False)
    assert 1 == proc.returncode and "'rel/x' is a relative path" in proc.stdout
    # ${ORIGIN} is refused as `embedcfg validate` refuses it (EC401), with its fix
    doc.write_text(json.dumps({"version": 1, "lib": "${ORIGIN}/libpython3.so"}))
    proc = subprocess.run([str(driver), "doc", str(doc), "/o", "/c", ""], capture_output=True,
                          text=True, env=clean_env(), check=False)
    assert 1 == proc.returncode and "write $ORIGIN without braces" in proc.stdout, proc.stdout


def test_c_checks_the_default_lib(driver: Path, tmp_path: Path) -> None:
    """Without `lib`, the launcher's default libpython is checked."""
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps({"version": 1}))
    proc = subprocess.run([str(driver), "doc", str(doc), "", "", str(open_dir / "lib.so")],
                          capture_output=True, text=True, env=clean_env(), check=False)
    assert 1 == proc.returncode and "(the default libpython)" in proc.stdout


# --- the launcher -----------------------------------------------------------

def _launcher_checks_paths(shim: Shim) -> bool:
    return b"embedcfg_pathsec_check" in shim.built.launcher.read_bytes()


def _private_launcher(shim: Shim, bin_dir: Path) -> Path:
    """A copy of the launcher and its shim library in a directory of our own
    ($ORIGIN is the launcher's directory)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for f in (shim.built.launcher, shim.built.shim):
        shutil.copy2(f, bin_dir / f.name)
    return bin_dir / shim.built.launcher.name


def _run(launcher: Path, cfg: EmbedConfig, directory: Path,
         **env: str) -> "subprocess.CompletedProcess[str]":
    doc = directory / "doc.json"
    doc.write_bytes(codec.canonical(cfg))
    return subprocess.run([str(launcher), str(doc)], capture_output=True, text=True,
                          env=clean_env(**env), stdin=subprocess.DEVNULL, timeout=60,
                          check=False)


def _stdlib(shim: Shim) -> List[str]:
    code = ("import json, os, sysconfig; print(json.dumps([sysconfig.get_path('stdlib'),"
            " os.path.join(sysconfig.get_path('platstdlib'), 'lib-dynload')]))")
    return json.loads(subprocess.run([shim.python, "-I", "-S", "-c", code], capture_output=True,
                                     text=True, env=clean_env(), check=True).stdout)


def _layout(shim: Shim, root: Path, kind: str) -> Tuple[Path, EmbedConfig, Path]:
    marker = root / "RAN"
    bin_dir = root / "app" / "bin"
    launcher = _private_launcher(shim, bin_dir)
    src = root / "app" / "src"
    src.mkdir(parents=True)
    (src / "payload.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    for d in (root, root / "app", bin_dir, src):
        os.chmod(d, 0o755)
    opts: Dict[str, object] = {"module_search_paths": [*_stdlib(shim), str(src)],
                               "run_module": "payload"}
    cfg = EmbedConfig(options=opts)
    if kind == "world-writable prefix":
        cache = root / "cache"
        cache.mkdir()
        os.chmod(cache, 0o777)
        cfg = EmbedConfig(options=opts, pycache=Pycache(mode=PycacheMode.PREFIX,
                                                        prefix=str(cache)))
    elif kind == "foreign-owned lib dir":
        lib_dir = root / "lib"
        lib_dir.mkdir()
        assert shim.built.libpython is not None
        os.symlink(shim.built.libpython, lib_dir / Path(shim.built.libpython).name)
        os.chown(lib_dir, OTHER_UID, -1)
        cfg = EmbedConfig(options=opts, lib=str(lib_dir / Path(shim.built.libpython).name))
    elif kind == "planted pyvenv.cfg":
        # pyvenv.cfg one directory above the launcher, and a .pth in the
        # site-packages it points sys.prefix to: runs code at start-up
        v = f"python{shim.minor[0]}.{shim.minor[1]}"
        site = root / "app" / "lib" / v / "site-packages"
        site.mkdir(parents=True)
        (root / "app" / "pyvenv.cfg").write_text(
            f"home = {Path(shim.python).parent}\ninclude-system-site-packages = false\n")
        (site / "evil.pth").write_text(f"import os; open({str(marker)!r}, 'w').write('pth')\n")
        opts = dict(opts, program_name=str(launcher), run_command="pass")
        del opts["run_module"]
        cfg = EmbedConfig(options=opts)
    return launcher, cfg, marker


KINDS = ["world-writable prefix", "foreign-owned lib dir", "planted pyvenv.cfg"]


@pytest.mark.parametrize("kind", KINDS)
def test_launcher_refuses_before_any_code_runs(shim: Shim, tmp_path: Path, kind: str) -> None:
    """Each insecure layout: exit 78, one error line naming the path, and the
    application's code (or the planted .pth) never ran."""
    launcher, cfg, marker = _layout(shim, tmp_path, kind)
    root_check = check_paths(cfg, config_dir=str(tmp_path), origin=str(launcher.parent))
    assert root_check, "embedcfg.security accepts the layout"
    if not _launcher_checks_paths(shim):
        pytest.skip("the launcher does not call embedcfg_pathsec_check_document yet"
                    " (integration pending); embedcfg.security refuses the layout")
    proc = _run(launcher, cfg, tmp_path)
    assert 78 == proc.returncode, proc.stdout + proc.stderr
    assert proc.stderr.startswith("embedcfg: error: ")
    assert 1 == len(proc.stderr.splitlines())
    assert not marker.exists()


def test_planted_pyvenv_cfg_is_a_real_threat(shim: Shim, tmp_path: Path) -> None:
    """Why the pyvenv.cfg check exists: with an isolated configuration and
    site_import on, a pyvenv.cfg above the executable redirects sys.prefix and
    a .pth in its site-packages runs code. Shown with the checks turned off
    (EMBEDCFG_ALLOW_INSECURE_PATHS=1, for development trees only)."""
    launcher, cfg, marker = _layout(shim, tmp_path, "planted pyvenv.cfg")
    proc = _run(launcher, cfg, tmp_path, EMBEDCFG_ALLOW_INSECURE_PATHS="1")
    assert 0 == proc.returncode, proc.stderr
    assert "pth" == marker.read_text()


def test_secure_layout_runs(shim: Shim, tmp_path: Path) -> None:
    """The same application in a secure layout runs (the checks are not in the way)."""
    launcher, cfg, marker = _layout(shim, tmp_path, "secure")
    proc = _run(launcher, cfg, tmp_path)
    assert 0 == proc.returncode, proc.stderr
    assert "ran" == marker.read_text()
    assert [] == check_paths(cfg, config_dir=str(tmp_path), origin=str(launcher.parent))


def _venv_on_path(shim: Shim, root: Path, marker: Path) -> Path:
    """A directory for PATH holding a 'python3' whose pyvenv.cfg sends
    sys.prefix to a site-packages with a .pth that writes ``marker``: what
    an attacker who controls PATH (or a user's activated venv) looks like."""
    v = f"python{shim.minor[0]}.{shim.minor[1]}"
    venv = root / "venv"
    bin_ = venv / "bin"
    bin_.mkdir(parents=True)
    os.symlink(shim.python, bin_ / "python3")
    (venv / "pyvenv.cfg").write_text(
        f"home = {Path(shim.python).parent}\ninclude-system-site-packages = false\n")
    site = venv / "lib" / v / "site-packages"
    site.mkdir(parents=True)
    (site / "evil.pth").write_text(f"import os; open({str(marker)!r}, 'w').write('pth')\n")
    return bin_


def test_path_cannot_choose_the_interpreter(shim: Shim, tmp_path: Path) -> None:
    """A document without program_name or executable: CPython would search
    PATH for python3 and honour the pyvenv.cfg it finds there, even isolated.
    The shim makes the launcher its own program_name instead, so nothing on
    PATH is read: no .pth runs, sys.prefix stays the interpreter's and
    sys.executable is the launcher."""
    marker = tmp_path / "RAN"
    bin_ = _venv_on_path(shim, tmp_path, marker)
    show = ("import json, sys; print(json.dumps([sys.executable, sys.prefix,"
            " sys.base_prefix]))")
    cfg = EmbedConfig(options={"run_command": show, "site_import": True})
    doc = tmp_path / "doc.json"
    doc.write_bytes(codec.canonical(cfg))
    proc = subprocess.run([str(shim.built.launcher), str(doc)], capture_output=True, text=True,
                          env=clean_env(PATH=f"{bin_}:{os.environ.get('PATH', '')}"),
                          stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert 0 == proc.returncode, proc.stderr
    assert not marker.exists(), "a .pth from the pyvenv.cfg found on PATH ran"
    executable, prefix, base_prefix = json.loads(proc.stdout)
    assert os.path.realpath(shim.built.launcher) == executable
    assert not prefix.startswith(str(tmp_path)) and prefix == base_prefix

    # The same document naming a program found on PATH shows the threat.
    named = EmbedConfig(options={"run_command": show, "site_import": True,
                                 "program_name": "python3"})
    doc.write_bytes(codec.canonical(named))
    proc = subprocess.run([str(shim.built.launcher), str(doc)], capture_output=True, text=True,
                          env=clean_env(PATH=f"{bin_}:{os.environ.get('PATH', '')}"),
                          stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert 0 == proc.returncode, proc.stderr
    assert "pth" == marker.read_text(), "CPython no longer honours pyvenv.cfg on PATH?"
