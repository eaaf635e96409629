"""The bytecode archive reader (capi_shim/archive.c) under ASan and UBSan.

Every case is checked twice: by the C reader, from a heap block of exactly
its size, and by embedcfg.pack.read_archive. They must agree on every input
(the same verdict, the same message), and the C side must never read out of
bounds, leak or hit undefined behaviour. Inputs are real archives, all their
truncations, bit flips (raw, and with the checksum repaired so that the
index checks are reached), and Hypothesis-generated headers and indexes.
"""

from __future__ import annotations

import marshal
import random
import struct
import subprocess
from pathlib import Path
from typing import List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedcfg.pack import (HEADER_SIZE, _checksum, ArchiveError, DataEntry, ModuleEntry, build_archive,
                           read_archive)

from tests.c.test_jsonparse import GCC, SANITIZE, SANITIZER_ENV, SHIM, UTF8_C, WARNINGS, compile_c

HERE = Path(__file__).resolve().parent
ARCHIVE_C = SHIM / "archive.c"
DRIVER_C = HERE / "archive_driver.c"

pytestmark = pytest.mark.skipif(not Path(GCC).exists() and GCC == "gcc",
                                reason="gcc not found")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """archive_driver, built once with ASan and UBSan."""
    out = tmp_path_factory.mktemp("archive")
    exe = out / "archive_driver_asan"
    compile_c([GCC, "-std=c99", *WARNINGS, *SANITIZE, f"-I{SHIM}", str(ARCHIVE_C), str(UTF8_C),
               str(DRIVER_C), "-o", str(exe)], out)
    return exe


def sample() -> bytes:
    """A small real archive: packages, a module with source, data files."""
    def code(text: str) -> bytes:
        return marshal.dumps(compile(text, "x.py", "exec"))

    return build_archive(
        b"\xa7\r\r\n", (3, 11),
        [ModuleEntry("app", False, code("import pkg\n"), b"import pkg\n"),
         ModuleEntry("pkg", True, code("")), ModuleEntry("pkg.mod", False, code("X = 1\n")),
         ModuleEntry("pkg.sub", True, code("Y = 2\n"), b"Y = 2\n")],
        [DataEntry("pkg/data.txt", b"hello\n"), DataEntry("pkg/sub/empty.bin", b"")])


def expected(blob: bytes) -> str:
    """What the driver must print for ``blob``: read_archive's verdict."""
    try:
        info = read_archive(blob, what="the archive")
    except ArchiveError as e:
        return f"error: {e}"
    return f"ok {len(info.modules)} {len(info.data)}"


def run_cases(driver: Path, tmp_path: Path, cases: List[bytes]) -> List[str]:
    batch = tmp_path / "cases.bin"
    batch.write_bytes(b"".join(struct.pack("<I", len(c)) + c for c in cases))
    result = subprocess.run([str(driver), str(batch)], capture_output=True, env=SANITIZER_ENV,
                            timeout=300)
    assert result.stderr == b"", result.stderr.decode(errors="replace")[-3000:]
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(cases)
    return lines


def check_agree(driver: Path, tmp_path: Path, cases: List[bytes]) -> None:
    got = run_cases(driver, tmp_path, cases)
    for blob, line in zip(cases, got):
        want = expected(blob)
        assert (line if want.startswith("error") else line.rsplit(" ", 1)[0]) == want, blob[:80]


def repair(blob: bytearray) -> bytes:
    """``blob`` with its size and checksum fields made true again."""
    if len(blob) >= HEADER_SIZE:
        struct.pack_into("<Q", blob, 32, len(blob))
        struct.pack_into("<I", blob, 56, _checksum(blob))
    return bytes(blob)


def test_valid_archive_is_read(driver: Path, tmp_path: Path) -> None:
    """A packed archive is accepted, and every entry is found by binary search."""
    assert run_cases(driver, tmp_path, [sample()])[0].startswith("ok 4 2 ")


def test_every_truncation_is_refused(driver: Path, tmp_path: Path) -> None:
    """Each prefix of an archive is refused, with the same message as in Python."""
    blob = sample()
    cases = [blob[:n] for n in range(len(blob))]
    check_agree(driver, tmp_path, cases)
    assert all(expected(c).startswith("error: the archive is truncated") for c in cases)


def test_oversized_is_refused(driver: Path, tmp_path: Path) -> None:
    """Bytes after the declared end are refused."""
    cases = [sample() + b"\0", sample() + sample()]
    check_agree(driver, tmp_path, cases)
    assert all("oversized" in expected(c) for c in cases)


def test_every_bit_flip_is_refused(driver: Path, tmp_path: Path) -> None:
    """Any single flipped bit is refused (the checksum covers all after the header)."""
    blob = sample()
    cases = []
    for bit in range(len(blob) * 8):
        flipped = bytearray(blob)
        flipped[bit // 8] ^= 1 << (bit % 8)
        cases.append(bytes(flipped))
    check_agree(driver, tmp_path, cases)
    assert [i for i, c in enumerate(cases) if expected(c).startswith("ok")] == []


def test_repaired_mutations_reach_the_index_checks(driver: Path, tmp_path: Path) -> None:
    """Flipped bytes in the header and index with a repaired checksum: C and Python agree."""
    blob = sample()
    rng = random.Random(1234)
    index_end = HEADER_SIZE + 40 * 4 + 32 * 2 + 64
    cases = []
    for _ in range(3000):
        mutated = bytearray(blob)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(8, index_end)
            if pos in range(32, 40) or pos in range(56, 60):
                continue
            mutated[pos] = rng.choice([0, 0xFF, rng.randrange(256), mutated[pos] ^ 0x80])
        cases.append(repair(mutated))
    check_agree(driver, tmp_path, cases)
    verdicts = {expected(c).split(":")[-1].strip() for c in cases}
    assert len(verdicts) > 5  # the mutations reach many different checks


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1),
                          st.integers(0, 3), st.integers(0, 2**64 - 1),
                          st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
                          st.integers(0, 2**64 - 1)), max_size=6),
       st.binary(max_size=200), st.integers(0, 8), st.integers(0, 8))
def test_generated_indexes(driver: Path, tmp_path: Path, entries: list, tail: bytes,
                           n_mod_extra: int, n_data: int) -> None:
    """Hypothesis-generated index entries with true size and checksum never crash the reader."""
    count = len(entries)
    index = b"".join(struct.pack("<QIIQIIQ", *e) for e in entries)
    header = struct.pack("<8sI4sBBHIIIQQQII", b"ECFGPAK\0", 1, b"\xa7\r\r\n", 3, 11, 0, 0,
                         count + n_mod_extra, n_data, 0, HEADER_SIZE,
                         HEADER_SIZE + 40 * (count + n_mod_extra), 0, 0)
    check_agree(driver, tmp_path, [repair(bytearray(header + index + tail))])


def test_open_missing_and_real_file(driver: Path, tmp_path: Path) -> None:
    """embedcfg_archive_open maps a real file and says why it cannot read a missing one."""
    path = tmp_path / "a.pack"
    path.write_bytes(sample())
    ok = subprocess.run([str(driver), str(path), "open"], capture_output=True,
                        env=SANITIZER_ENV, timeout=60)
    assert (ok.returncode, ok.stderr) == (0, b"")
    assert ok.stdout.decode().startswith("ok 4 2 ")
    missing = subprocess.run([str(driver), str(tmp_path / "nope.pack"), "open"],
                             capture_output=True, env=SANITIZER_ENV, timeout=60)
    assert missing.stdout.decode() == ("error: the archive: cannot read it: No such file or"
                                       " directory\n")
