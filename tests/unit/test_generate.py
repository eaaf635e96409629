"""python -m embedcfg.generate: one command for every generated file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from embedcfg import document, generate, schema
from embedcfg.model import Pycache, PycacheMode
from embedcfg.options import FIRST_VERSION, LAST_VERSION

ROOT = Path(__file__).resolve().parent.parent.parent


def test_committed_files_are_fresh() -> None:
    """--check passes on the checkout: nothing generated is stale."""
    proc = subprocess.run([sys.executable, "-m", "embedcfg.generate", "--check"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stderr) == (0, "")


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    for rel in generate.outputs():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, root / rel)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_check_names_each_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stale file makes --check exit 1 and name it; writing makes it fresh."""
    root = _copy(tmp_path)
    (root / "capi_shim" / "embedcfg_document.h").write_text("/* old */\n", encoding="utf-8")
    assert generate.main(["--check", "--root", str(root)]) == 1
    assert "capi_shim/embedcfg_document.h is stale" in capsys.readouterr().err
    assert generate.main(["--root", str(root)]) == 0
    assert generate.main(["--check", "--root", str(root)]) == 0


def test_refuses_a_directory_that_is_no_checkout(tmp_path: Path) -> None:
    """Writing elsewhere than a checkout is a usage error, and writes nothing."""
    assert generate.main(["--root", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []


_DUMP = r"""
#include <stdio.h>
#include <stddef.h>
#include "embedcfg_pathsec_kinds.h"
#include "embedcfg_document.h"

typedef struct {
    const char *mode; int write_bytecode; int uses_prefix; int needs_prefix;
} mode_row;
typedef struct { const char *where; int library; int kind; } path_row;

static void list(const char *name, const char *const *items)
{
    size_t i;

    printf("\"%s\": [", name);
    for (i = 0; items[i] != NULL; i++) {
        printf("%s\"%s\"", i ? ", " : "", items[i]);
    }
    printf("],\n");
}

int main(void)
{
    static const char *const doc[] = {EMBEDCFG_KEYS_DOCUMENT};
    static const char *const inittab[] = {EMBEDCFG_KEYS_INITTAB};
    static const char *const pycache[] = {EMBEDCFG_KEYS_PYCACHE};
    static const char *const modes[] = {EMBEDCFG_VALUES_PYCACHE_MODE};
    static const mode_row table[] = {EMBEDCFG_PYCACHE_MODES};
    static const path_row paths[] = {EMBEDCFG_DOCUMENT_PATHS};
    size_t i;

    printf("{");
    list("document", doc);
    list("inittab", inittab);
    list("pycache", pycache);
    list("modes", modes);
    printf("\"table\": [");
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        printf("%s[\"%s\", %d, %d, %d]", i ? ", " : "", table[i].mode,
               table[i].write_bytecode, table[i].uses_prefix, table[i].needs_prefix);
    }
    printf("],\n\"paths\": [");
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        printf("%s[\"%s\", %d, %d]", i ? ", " : "", paths[i].where, paths[i].library,
               paths[i].kind);
    }
    printf("],\n\"limits\": [%lu, %d, %d, %d]}\n", (unsigned long)EMBEDCFG_MAX_DOCUMENT_SIZE,
           EMBEDCFG_MAX_DEPTH, EMBEDCFG_FIRST_MINOR, EMBEDCFG_LAST_MINOR);
    printf("--\n%s\n", EMBEDCFG_VALUES_PYCACHE_MODE_TEXT);
    printf("%s\n", EMBEDCFG_PYCACHE_PREFIX_MODES_TEXT);
    return 0;
}
"""


@pytest.fixture(scope="module")
def c_view(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    """What a C99 program compiled with the generated header sees."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on this machine")
    d = tmp_path_factory.mktemp("dochdr")
    # The kinds are pathsec.h's; a stand-in keeps this program free of the shim.
    (d / "embedcfg_pathsec_kinds.h").write_text(
        "#define EMBEDCFG_PATHSEC_FILE 0\n#define EMBEDCFG_PATHSEC_CONTENTS 1\n",
        encoding="utf-8")
    (d / "dump.c").write_text(_DUMP, encoding="utf-8")
    exe = d / "dump"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{d}",
                    f"-I{ROOT / 'capi_shim'}", str(d / "dump.c"), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    data, text = out.split("\n--\n")
    view = json.loads(data)
    view["mode_text"], view["prefix_modes_text"] = text.rstrip("\n").split("\n")
    return view  # type: ignore[no-any-return]


def test_c_key_lists_are_the_schema_keys(c_view: dict) -> None:  # type: ignore[type-arg]
    """The C key lists are exactly the keys the schema admits, in document order."""
    s = schema.build_schema()["properties"]
    assert c_view["document"] == list(schema.build_schema()["properties"])
    assert c_view["inittab"] == list(s["inittab"]["items"]["properties"])
    assert c_view["pycache"] == list(s["pycache"]["properties"])
    assert c_view["modes"] == s["pycache"]["properties"]["mode"]["enum"]
    assert c_view["mode_text"] == '"default", "prefix", "readonly" or "off"'


def test_c_pycache_table_is_the_policy_function(c_view: dict) -> None:  # type: ignore[type-arg]
    """Each mode's row says what document.pycache_options sets, and whether
    the mode needs a prefix."""
    expected = []
    for mode in PycacheMode:
        opts = document.pycache_options(Pycache(mode=mode, prefix="/p"))
        expected.append([mode.value, int(bool(opts["write_bytecode"])),
                         int("pycache_prefix" in opts),
                         int(document.PREFIX_MODES.get(mode, False))])
    assert c_view["table"] == expected
    # read caches (under the prefix when given one), never write; no prefix needed
    assert expected[2] == ["readonly", 0, 1, 0]
    assert expected[1] == ["prefix", 1, 1, 1]
    assert c_view["prefix_modes_text"] == '"prefix" or "readonly"'


def test_c_paths_are_the_loaded_paths(c_view: dict) -> None:  # type: ignore[type-arg]
    """The launcher checks the values Python's security checks look at, and no others."""
    assert c_view["paths"] == [
        ["lib", 1, 0],
        ["options/module_search_paths/*", 0, 1],
        ["options/pycache_prefix", 0, 1],
        ["inittab/*/library", 1, 0],
        ["pycache/prefix", 0, 1],
        ["archives/*/path", 0, 0],
    ]


def test_c_limits_are_the_readers(c_view: dict) -> None:  # type: ignore[type-arg]
    """The parser's limits and the supported range are the Python side's."""
    assert c_view["limits"] == [document.MAX_BYTES, document.MAX_DEPTH,
                                FIRST_VERSION[1], LAST_VERSION[1]]
