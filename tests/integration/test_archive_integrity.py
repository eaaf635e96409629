"""A damaged blob of an archive, through the launcher, on every installed CPython.

The header's checksum only covers the header, indexes and names, so a bit
flipped inside a module's code, its source or a data file passes the checks
at open: the application starts, and the damage is found when that blob is
first read. The importer must then raise the documented, located error
(ImportError for code and source, OSError for data), never hand damaged bytes
to marshal; and ``embedcfg validate --target`` must still refuse the file
(EC701), since it checks every blob before shipping.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from embedcfg import cli
from embedcfg.model import EmbedConfig
from embedcfg.pack import HEADER_SIZE, _DATA, _MODULE, pack

from .conftest import Shim
from .test_archive import run_doc, write_app

# The application: imports a package and its damaged module, then calls
# every loader method that reads a blob, and reports what each raised.
MAIN = '''\
import json
import pkg

out = {}
try:
    import pkg.mod
    out["import"] = "ok"
except ImportError as e:
    out["import"] = [type(e).__name__, str(e), e.name, e.path]
loader = pkg.__loader__
calls = {"get_code": lambda: loader.get_code("pkg.mod"),
         "get_source": lambda: loader.get_source("pkg.mod"),
         "get_data": lambda: loader.get_data(pkg.__path__[0] + "/res/hello.txt"),
         "intact": lambda: loader.get_code("pkg")}
for name, call in calls.items():
    for attempt in (1, 2):  # the check is made at every read, not only the first
        try:
            call()
            result = "ok"
        except Exception as e:
            result = [type(e).__name__, str(e)]
        out.setdefault(name, result)
        assert out[name] == result
print("@@" + json.dumps(out) + "@@")
'''

UNCAUGHT = "import pkg.mod\nprint('not reached')\n"


def packed_with(shim: Shim, root: Path, main: str) -> Tuple[Path, Path]:
    """The application of test_archive with ``main`` as app_main, packed with its sources."""
    src = write_app(root)
    (src / "app_main.py").write_text(main)
    cfg = EmbedConfig().with_options(module_search_paths=[str(src)])
    result = pack(cfg, str(root / "app.pack"), python=shim.python, with_source=True)
    assert result.ok and result.modules == 3 and result.data == 1, result.summary()
    return src, root / "app.pack"


def blob_span(blob: bytes, kind: str, name: str) -> Tuple[int, int]:
    """(offset, length) of the ``kind`` blob ("code", "source", "data") of ``name``."""
    n_mod, n_data = struct.unpack_from("<II", blob, 24)
    for i in range(n_mod):
        e = _MODULE.unpack_from(blob, HEADER_SIZE + i * _MODULE.size)
        if blob[e[0]:e[0] + e[1]] == name.encode():
            return (e[3], e[4]) if kind == "code" else (e[6], e[7])
    for j in range(n_data):
        e = _DATA.unpack_from(blob, HEADER_SIZE + n_mod * _MODULE.size + j * _DATA.size)
        if blob[e[0]:e[0] + e[1]] == name.encode():
            return e[3], e[4]
    raise AssertionError(f"{name} is not in the archive")


def flip(archive: Path, kind: str, name: str) -> None:
    """Flip one bit in the middle of a blob of ``archive``."""
    blob = bytearray(archive.read_bytes())
    off, length = blob_span(bytes(blob), kind, name)
    assert length > 2
    blob[off + length // 2] ^= 0x08
    archive.write_bytes(bytes(blob))


def message(archive: Path, what: str) -> str:
    return (f"{archive} is corrupt: {what} does not match its checksum: rebuild it with"
            " embedcfg pack")


def report(proc: Any) -> Dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.split("@@")[1]))


@pytest.mark.parametrize("damage", ["code", "source", "data"])
def test_damaged_blob_fails_where_it_is_read(shim: Shim, tmp_path: Path, damage: str) -> None:
    """The archive opens and the application runs; only the loader calls that read the
    damaged blob fail, each with the archive path, the blob's name and the fix."""
    src, archive = packed_with(shim, tmp_path, MAIN)
    name = "pkg/res/hello.txt" if damage == "data" else "pkg.mod"
    flip(archive, damage, name)
    got = report(run_doc(shim, tmp_path, src))
    code_error = ["ImportError", message(archive, "the code of module pkg.mod")]
    want: Dict[str, Any] = {"import": "ok", "get_code": "ok", "get_source": "ok",
                            "get_data": "ok", "intact": "ok"}
    if damage == "code":
        want.update(get_code=code_error, **{"import": code_error + ["pkg.mod", str(archive)]})
    elif damage == "source":
        want.update(get_source=["ImportError",
                                message(archive, "the source of module pkg.mod")])
    else:
        want.update(get_data=["OSError", message(archive, "the data file pkg/res/hello.txt")])
    assert got == want


def test_damaged_module_stops_the_application(shim: Shim, tmp_path: Path) -> None:
    """An uncaught import of a damaged module ends the launched application with the located
    ImportError as the last line of its traceback."""
    src, archive = packed_with(shim, tmp_path, UNCAUGHT)
    flip(archive, "code", "pkg.mod")
    proc = run_doc(shim, tmp_path, src)
    assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
    assert proc.stderr.splitlines()[-1] == "ImportError: " + message(
        archive, "the code of module pkg.mod"), proc.stderr


def test_validate_target_finds_a_damaged_blob(shim: Shim, tmp_path: Path) -> None:
    """validate --target reads every blob: the flip the launcher only finds on import is an
    EC701 before shipping."""
    src, archive = packed_with(shim, tmp_path, UNCAUGHT)
    flip(archive, "source", "pkg.mod")
    run_doc(shim, tmp_path, src)  # writes tmp_path/doc.json
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["validate", "--format", "json", "--target", shim.python,
                    str(tmp_path / "doc.json")], out, err)
    problems = json.loads(out.getvalue())["problems"]
    assert (code, err.getvalue()) == (1, "")
    assert [(p["code"], p["pointer"], p["message"]) for p in problems] == [
        ("EC701", "/archives/0/path",
         f"archives[0].path: {message(archive, 'the source of module pkg.mod')}")]
