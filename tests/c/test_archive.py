"""The bytecode archive reader (capi_shim/archive.c) under ASan and UBSan.

Every case is checked twice: by the C reader, from a heap block of exactly
its size, and by embedcfg.pack. They must agree on every input: the same
verdict at open, the same message, and then the same blobs (code, source,
data) that do not match their own checksum, read through the C accessors and
found by corrupt_blobs (read_archive reports the first). The C side must
never read out of bounds, leak or hit undefined behaviour. Inputs are real
archives, all their truncations, bit flips (raw, and with the header's
checksum repaired so that the index checks are reached), and
Hypothesis-generated headers and indexes.
"""

from __future__ import annotations

import marshal
import random
import re
import struct
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedcfg.pack import (FORMAT, HEADER_SIZE, ArchiveError, DataEntry, ModuleEntry, _checksum,
                           build_archive, corrupt_blobs, read_archive)

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


MODULE = struct.Struct("<QIIQIIQII")  # the format's entries, read independently here
DATA = struct.Struct("<QIIQII")


def escaped(message: str) -> str:
    """``message`` as the driver prints it (control bytes and backslashes as \\xNN)."""
    return "".join(f"\\x{b:02x}" if b < 0x20 or b in (0x5C, 0x7F) else chr(b)
                   for b in message.encode()).encode("latin-1").decode()


def expected(blob: bytes) -> str:
    """What the driver must print for ``blob`` but the byte sum: the verdict at open, then a
    tab and "corrupt: MESSAGE" for each blob that does not match its checksum."""
    try:
        info = read_archive(blob, what="the archive")
    except ArchiveError as e:
        try:
            bad = corrupt_blobs(blob, what="the archive")
        except ArchiveError:
            return f"error: {escaped(str(e))}"  # refused at open
        assert bad and bad[0] == str(e)  # read_archive reports the first bad blob
        counts = struct.unpack_from("<II", blob, 24)
        return f"ok {counts[0]} {counts[1]}" + "".join(f"\tcorrupt: {escaped(m)}"
                                                      for m in bad)
    return f"ok {len(info.modules)} {len(info.data)}"


def drop_sum(line: str) -> str:
    """The driver's line without the byte sum of an "ok" verdict."""
    if not line.startswith("ok "):
        return line
    head, tab, rest = line.partition("\t")
    return head.rsplit(" ", 1)[0] + tab + rest


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


def check_agree(driver: Path, tmp_path: Path, cases: List[bytes]) -> List[str]:
    """C and Python agree on every case; the verdicts (without byte sums)."""
    got = [drop_sum(line) for line in run_cases(driver, tmp_path, cases)]
    for blob, line in zip(cases, got):
        assert line == expected(blob), blob[:80]
    return got


def repair(blob: bytearray) -> bytes:
    """``blob`` with its size and header checksum fields made true again."""
    if len(blob) >= HEADER_SIZE:
        struct.pack_into("<Q", blob, 32, len(blob))
        struct.pack_into("<I", blob, 56, _checksum(blob))
    return bytes(blob)


def blob_spans(blob: bytes) -> List[Tuple[int, int, str]]:
    """(offset, length, what) of every blob of a valid archive, from its index."""
    n_mod, n_data = struct.unpack_from("<II", blob, 24)
    spans = []
    for i in range(n_mod):
        e = MODULE.unpack_from(blob, HEADER_SIZE + i * MODULE.size)
        name = blob[e[0]:e[0] + e[1]].decode()
        spans.append((e[3], e[4], f"the code of module {name}"))
        if e[2] & 2:
            spans.append((e[6], e[7], f"the source of module {name}"))
    for j in range(n_data):
        e = DATA.unpack_from(blob, HEADER_SIZE + n_mod * MODULE.size + j * DATA.size)
        spans.append((e[3], e[4], f"the data file {blob[e[0]:e[0] + e[1]].decode()}"))
    return spans


def blobs_at(blob: bytes) -> int:
    """Where the blobs start: the end of what the header's checksum covers."""
    return int(struct.unpack_from("<I", blob, 60)[0])


def corrupt(what: str) -> str:
    return f"corrupt: the archive is corrupt: {what} does not match its checksum: rebuild it" \
        " with embedcfg pack"


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


def test_layout_is_covered(driver: Path, tmp_path: Path) -> None:
    """The blobs follow the checksummed part back to back, to the end of the file: no byte
    of an archive is outside both the header's checksum and a blob's."""
    blob = sample()
    spans = sorted(blob_spans(blob))
    assert len(spans) == 4 + 2 + 2  # four codes, two sources, two data files
    pos = blobs_at(blob)
    assert HEADER_SIZE + 4 * MODULE.size + 2 * DATA.size < pos
    for off, length, _ in spans:
        assert off == pos
        pos += length
    assert pos == len(blob)


def test_every_bit_flip_is_caught(driver: Path, tmp_path: Path) -> None:
    """Any single flipped bit is caught: before the first blob when the archive is opened (the
    header's checksum), inside a blob when that blob is read, and only that one (C and Python
    agree on which)."""
    blob = sample()
    owner = {}
    for off, length, what in blob_spans(blob):
        owner.update({pos: what for pos in range(off, off + length)})
    cases = []
    for bit in range(len(blob) * 8):
        flipped = bytearray(blob)
        flipped[bit // 8] ^= 1 << (bit % 8)
        cases.append(bytes(flipped))
    got = check_agree(driver, tmp_path, cases)
    for bit, line in enumerate(got):
        pos = bit // 8
        if pos < blobs_at(blob):
            assert line.startswith("error: the archive "), (pos, line)
        else:
            assert line == f"ok 4 2\t{corrupt(owner[pos])}", (pos, line)
    reasons = {re.sub(r"\d+", "N", line) for line in got if line.startswith("error")}
    assert reasons == {
        "error: the archive is not an embedcfg archive (bad signature)",
        "error: the archive has archive format N; this embedcfg reads format N: rebuild it"
        " with embedcfg pack",
        "error: the archive is truncated: the header says N bytes, the file has N",
        "error: the archive is oversized: the header says N bytes, the file has N",
        "error: the archive is corrupt: its index is out of bounds",  # the blob offset
        "error: the archive is corrupt: its checksum does not match",
    }


def test_blob_flip_is_caught_on_read_only(driver: Path, tmp_path: Path) -> None:
    """A flipped byte in one module's code: the archive opens, the other blobs read, that one
    is refused with its name and the fix; read_archive (validate --target) refuses the file."""
    blob = sample()
    off, length, what = next(s for s in blob_spans(blob) if s[2].endswith("pkg.mod"))
    flipped = bytearray(blob)
    flipped[off + length // 2] ^= 0x10
    assert check_agree(driver, tmp_path, [bytes(flipped)]) == [
        f"ok 4 2\t{corrupt('the code of module pkg.mod')}"]
    with pytest.raises(ArchiveError, match="^x.pack is corrupt: the code of module pkg.mod does"
                       " not match its checksum: rebuild it with embedcfg pack$"):
        read_archive(bytes(flipped), what="x.pack")
    # every blob bad at once: each one is reported, in index order
    for off, length, _ in blob_spans(blob):
        if length:
            flipped[off] ^= 1
    assert corrupt_blobs(bytes(flipped)) == [
        f"the archive is corrupt: {w} does not match its checksum: rebuild it with embedcfg pack"
        for _, n, w in blob_spans(blob) if n]
    check_agree(driver, tmp_path, [bytes(flipped)])


def test_checksums_of_every_length_and_alignment(driver: Path, tmp_path: Path) -> None:
    """The C reader's CRC-32 (eight bytes at a time, then the rest) is zlib's for blobs of
    every length up to 40 bytes at shifting offsets, and for 256 KiB of random bytes; a flip
    in the middle of the large one, or in the last byte of any, is caught."""
    rng = random.Random(99)
    files = [DataEntry(f"p/{n:02d}", bytes(rng.randrange(256) for _ in range(n)))
             for n in range(41)]
    files.append(DataEntry("p/large", rng.getrandbits(8 * 2**18).to_bytes(2**18, "little")))
    blob = build_archive(b"\xa7\r\r\n", (3, 11), [ModuleEntry("p", True, b"c")], files)
    cases = [blob]
    for off, length, _ in blob_spans(blob):
        for pos in {off + length // 2, off + length - 1} if length else ():
            flipped = bytearray(blob)
            flipped[pos] ^= 0x80
            cases.append(bytes(flipped))
    got = check_agree(driver, tmp_path, cases)
    assert got[0] == "ok 1 42"
    assert all(line.count("\tcorrupt: ") == 1 for line in got[1:])


def test_format_1_is_refused_with_the_fix(driver: Path, tmp_path: Path) -> None:
    """An archive of format 1 (one checksum of the whole file) says to rebuild it."""
    old = bytearray(sample())
    struct.pack_into("<I", old, 8, 1)
    assert check_agree(driver, tmp_path, [bytes(old)]) == [
        "error: the archive has archive format 1; this embedcfg reads format 2: rebuild it with"
        " embedcfg pack"]


def test_index_and_names_must_be_checksummed(driver: Path, tmp_path: Path) -> None:
    """The header's blob offset cannot leave names or index entries outside the checksummed
    part, nor point outside the file."""
    blob = sample()
    end = blobs_at(blob)
    index_end = HEADER_SIZE + 4 * MODULE.size + 2 * DATA.size
    cases = []
    for at in (0, HEADER_SIZE - 1, HEADER_SIZE, index_end - 1, index_end, end - 1,
               len(blob) + 1, 2**32 - 1):
        moved = bytearray(blob)
        struct.pack_into("<I", moved, 60, at)
        cases.append(repair(moved))
    got = check_agree(driver, tmp_path, cases)
    out_of_bounds = "error: the archive is corrupt: its index is out of bounds"
    assert got == [out_of_bounds] * 4 + [
        "error: the archive is corrupt: entry 0's name is out of bounds",  # all names out
        "error: the archive is corrupt: entry 5's name is out of bounds",  # the last one
        out_of_bounds, out_of_bounds]


def test_repaired_mutations_reach_the_index_checks(driver: Path, tmp_path: Path) -> None:
    """Flipped bytes in the header and index with a repaired checksum: C and Python agree."""
    blob = sample()
    rng = random.Random(1234)
    end = blobs_at(blob)
    cases = []
    for _ in range(3000):
        mutated = bytearray(blob)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(8, end)
            if pos in range(32, 40) or pos in range(56, 60):
                continue
            mutated[pos] = rng.choice([0, 0xFF, rng.randrange(256), mutated[pos] ^ 0x80])
        cases.append(repair(mutated))
    got = check_agree(driver, tmp_path, cases)
    verdicts = {line.split("\t")[0].split(":")[-1].strip() for line in got}
    assert len(verdicts) > 5  # the mutations reach many different checks
    # and some, moving blob references, reach the read checks
    assert any("\tcorrupt: " in line for line in got)


def small(limit: int) -> st.SearchStrategy[int]:
    """Integers up to ``limit``, mostly small enough to land inside a short file."""
    return st.one_of(st.integers(0, 400), st.integers(0, limit))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(small(2**64 - 1), small(2**32 - 1), st.integers(0, 3),
                          small(2**64 - 1), small(2**32 - 1), st.integers(0, 2**32 - 1),
                          small(2**64 - 1), small(2**32 - 1), st.integers(0, 2**32 - 1)),
                max_size=6),
       st.binary(max_size=200), st.integers(0, 8), st.integers(0, 8), small(2**32 - 1))
def test_generated_indexes(driver: Path, tmp_path: Path, entries: list, tail: bytes,
                           n_mod_extra: int, n_data: int, blob_gap: int) -> None:
    """Hypothesis-generated index entries with true size and header checksum never crash the
    reader, at open or when their blobs are read (with checksums that mostly do not match)."""
    count = len(entries)
    index = b"".join(MODULE.pack(*e) for e in entries)
    end = min(HEADER_SIZE + len(index) + blob_gap, 2**32 - 1)
    header = struct.pack("<8sI4sBBHIIIQQQII", b"ECFGPAK\0", FORMAT, b"\xa7\r\r\n", 3, 11, 0, 0,
                         count + n_mod_extra, n_data, 0, HEADER_SIZE,
                         HEADER_SIZE + MODULE.size * (count + n_mod_extra), 0, end)
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
