"""The launcher's arena (embedcfg__alloc / __realloc / __free in
arena.c): random sequences of allocations, reallocations and frees,
on a small region so that they overflow into malloc, checked against a
shadow copy of every block's bytes, built with ASan and UBSan (which also
check that every block that went to malloc is freed, and that nothing
is written past a block that malloc gave)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from test_jsonparse import GCC, GCC_PATH, SANITIZE, SANITIZER_ENV, SHIM, WARNINGS, compile_c

pytestmark = pytest.mark.skipif(GCC_PATH is None, reason="gcc not found: the test compiles C")

DRIVER = r"""
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

static uint64_t state = 741;

static size_t next(size_t bound)
{
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (size_t)((state >> 33) % bound);
}

static int check(unsigned char *p, size_t n, unsigned char fill)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != fill) {
            return 0;
        }
    }
    return 1;
}

/* One run: `region_size` bytes of region (0: no region, all malloc). */
static int run(size_t region_size, int steps)
{
    static uint64_t region[4096];
    embedcfg__arena arena;
    embedcfg__arena *a = &arena;
    unsigned char *block[SLOTS];
    size_t size[SLOTS];
    unsigned char fill[SLOTS];
    int in_region = 0;
    int step;
    int k;

    if (region_size == 0) {
        a = NULL;
    }
    else {
        embedcfg__arena_init(&arena, region, region_size);
    }
    memset(block, 0, sizeof(block));
    for (step = 0; step < steps; step++) {
        size_t i = next(SLOTS);
        size_t n = next(4) == 0 ? next(3000) : next(200);
        int op = (int)next(3);

        if (block[i] != NULL && !check(block[i], size[i], fill[i])) {
            printf("step %d: block %lu lost its bytes\n", step, (unsigned long)i);
            return 1;
        }
        if (op == 0 || block[i] == NULL) {
            embedcfg__free(a, block[i]);
            block[i] = (unsigned char *)embedcfg__alloc(a, n);
        }
        else if (op == 1) {
            unsigned char *grown = (unsigned char *)embedcfg__realloc(a, block[i], n);

            if (grown == NULL && n != 0) {
                printf("step %d: realloc failed\n", step);
                return 1;
            }
            if (grown != NULL && !check(grown, n < size[i] ? n : size[i], fill[i])) {
                printf("step %d: realloc lost bytes\n", step);
                return 1;
            }
            block[i] = grown;
        }
        else {
            embedcfg__free(a, block[i]);
            block[i] = NULL;
            continue;
        }
        if (block[i] == NULL) {
            if (n != 0) {
                printf("step %d: alloc failed\n", step);
                return 1;
            }
            continue;
        }
        if (((uintptr_t)block[i] & 7) != 0) {
            printf("step %d: misaligned block\n", step);
            return 1;
        }
        if (a != NULL && (uintptr_t)block[i] >= (uintptr_t)region
            && (uintptr_t)block[i] < (uintptr_t)region + region_size) {
            in_region++;
            if ((uintptr_t)block[i] + n > (uintptr_t)region + region_size) {
                printf("step %d: block runs past the region\n", step);
                return 1;
            }
        }
        size[i] = n;
        fill[i] = (unsigned char)(step & 0xFF);
        memset(block[i], fill[i], n);
        /* writing a block must never change another one */
        for (k = 0; k < SLOTS; k++) {
            if (block[k] != NULL && (size_t)k != i && !check(block[k], size[k], fill[k])) {
                printf("step %d: writing block %lu changed block %d\n", step,
                       (unsigned long)i, k);
                return 1;
            }
        }
    }
    for (k = 0; k < SLOTS; k++) {
        embedcfg__free(a, block[k]);
    }
    printf("region %lu: %d blocks in the region\n", (unsigned long)region_size, in_region);
    return 0;
}

int main(void)
{
    static uint64_t region[64];
    embedcfg__arena a;
    void *p;
    void *q;

    /* the latest block is freed (its room reused) and grown in place */
    embedcfg__arena_init(&a, region, sizeof(region));
    p = embedcfg__alloc(&a, 40);
    q = embedcfg__realloc(&a, p, 200);
    if (q != p) {
        printf("the latest block did not grow in place\n");
        return 1;
    }
    embedcfg__free(&a, q);
    if (embedcfg__alloc(&a, 8) != p) {
        printf("the latest block's room was not reused\n");
        return 1;
    }
    /* too big for what is left: malloc, freed through the arena */
    p = embedcfg__alloc(&a, sizeof(region));
    if ((uintptr_t)p >= (uintptr_t)region && (uintptr_t)p < (uintptr_t)region + sizeof(region)) {
        printf("a block larger than the room left came from the region\n");
        return 1;
    }
    embedcfg__free(&a, p);
    return run(0, 3000) || run(512, 3000) || run(8192, 3000) || run(32768, 3000);
}
"""


def test_arena_blocks_keep_their_bytes(tmp_path: Path) -> None:
    """Random operations on 64 blocks: every block keeps its bytes, stays
    inside the region or comes from malloc, and nothing leaks."""
    source = tmp_path / "arena.c"
    source.write_text(DRIVER, encoding="utf-8")
    exe = tmp_path / "arena"
    compile_c([GCC, "-std=c99", *WARNINGS, *SANITIZE, f"-I{SHIM}", str(source),
               str(SHIM / "arena.c"), "-o", str(exe)], tmp_path)
    result = subprocess.run([str(exe)], capture_output=True, text=True, env=SANITIZER_ENV,
                            timeout=120)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout[-2000:]
    counts = [int(line.split(": ")[1].split()[0]) for line in result.stdout.splitlines()]
    # no region: all malloc; with a region: both sources were used
    assert counts[0] == 0 and all(c > 0 for c in counts[1:]), result.stdout
