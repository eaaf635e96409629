"""pathsec.c's path normalization gives what Python's reading of the rules
gives, on every path, without reading past the string; and the walk up from
a path (parent_len) stops at every ancestor.  The static functions are
reached by including pathsec.c in a driver built with ASan and UBSan."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest

from embedcfg import build as _build
from test_jsonparse import GCC, GCC_PATH, SANITIZE, SANITIZER_ENV, SHIM, WARNINGS, compile_c

pytestmark = pytest.mark.skipif(GCC_PATH is None, reason="gcc not found: the test compiles C")

DRIVER = r"""
#include "pathsec.c"

/* One path per line on stdin; per line:
 * "<dotdot>\t<normalized>\t<parent lengths, up to the root>".
 * Each path is copied into a buffer of exactly its size, so a read past
 * its NUL is an ASan error. */
int main(void)
{
    static char line[70000];

    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t n = strcspn(line, "\n");
        char *path;
        char *out;
        int dotdot;
        size_t len;

        line[n] = '\0';
        path = (char *)malloc(n + 1);
        out = (char *)malloc(n + 2);
        if (path == NULL || out == NULL) {
            return 2;
        }
        memcpy(path, line, n + 1);
        len = normalize_into(out, path, &dotdot);
        if (strlen(out) != len) {
            printf("LENGTH %s: %s is not %lu bytes\n", path, out, (unsigned long)len);
            return 1;
        }
        printf("%d\t%s\t", dotdot, out);
        while ((len = parent_len(out, len)) != 0) {
            printf("%lu ", (unsigned long)len);
        }
        printf("\n");
        free(path);
        free(out);
    }
    return 0;
}
"""

PIECES = ["/", "//", ".", "..", "a", "bc", "lib", "python3.9", "...", ".a", "a.",
          "embedcfg-bench-xyz12345", "x" * 7, "y" * 8, "z" * 9, "site-packages", "é"]


def expected(path: str) -> Tuple[int, str]:
    """The rules as Python reads them: drop empty and "." components, keep
    "..", one leading '/', no trailing '/'."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return int(".." in parts), "/" + "/".join(parts)


def ancestors(path: str) -> List[int]:
    """The byte lengths of a normalized path's ancestors, nearest first:
    "/a/b" gives [2, 1] ("/a", "/")."""
    data = path.encode("utf-8")
    out = []
    while len(data) > 1:
        data = data[:max(data.rfind(b"/"), 1)]
        out.append(len(data))
    return out


def sample_paths() -> List[str]:
    rng = random.Random(741)
    paths = ["/", "//", "/.", "/..", "/a", "/a/", "/a/.", "/a/..", "/a/./b", "/a//b",
             "/a/b/", "/.a", "/..a", "/a.", "/a..", "/a/...", "/" + "a" * 64,
             "/" + "/".join("b" * k for k in range(1, 20)), "/root/.pyenv/versions/3.9.18/lib",
             "/tmp/embedcfg-bench-abcd1234/app17", "/a" * 3000]
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12)))
        paths.append(text if text.startswith("/") else "/" + text)
    return paths


def test_normalization_and_ancestors(tmp_path: Path) -> None:
    """Every path: the normal form Python expects, and every ancestor."""
    source = tmp_path / "normalize.c"
    source.write_text(DRIVER, encoding="utf-8")
    exe = tmp_path / "normalize"
    compile_c([GCC, "-std=c99", *WARNINGS, *SANITIZE, f"-I{SHIM}", str(source),
               *(str(SHIM / s) for s in _build._COMMON_SOURCES), "-o", str(exe)], tmp_path)
    paths = sample_paths()
    result = subprocess.run([str(exe)], input="\n".join(paths) + "\n", capture_output=True,
                            text=True, env=SANITIZER_ENV, timeout=120)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout[-2000:]
    lines = result.stdout.splitlines()
    assert len(lines) == len(paths)
    for path, line in zip(paths, lines):
        dotdot, out, parents = line.split("\t")
        assert (int(dotdot), out) == expected(path), path
        assert [int(n) for n in parents.split()] == ancestors(out), out
