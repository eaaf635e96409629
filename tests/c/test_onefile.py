"""The one-file payload reader (capi_shim/onefile.c) under ASan and UBSan.

Every case is a file, opened by the C reader (which reads the trailer with
pread and maps the file) and by :func:`embedcfg.onefile.read_onefile`. They
must agree: no payload, or the same message at open, or the same sections
(kind, flags, size, name, path) with the same verdict on each section's
checksum, and every extension module found by name. The C side must never
read out of bounds, leak or hit undefined behaviour. Inputs: a real payload
behind a stand-in launcher, every truncation of its end, every bit flipped
in the trailer and the table (raw, and with the checksums repaired so that
the table checks are reached), flips inside sections, and Hypothesis-made
section lists.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path
from typing import List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedcfg.onefile import (ARCHIVE, DOCUMENT, ENTRY_SIZE, EXTENSION, TRAILER_SIZE,
                              OneFileError, Section, build_payload, read_onefile)

from tests.c.test_jsonparse import GCC, SANITIZE, SANITIZER_ENV, SHIM, UTF8_C, WARNINGS, compile_c

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(not Path(GCC).exists() and GCC == "gcc",
                                reason="gcc not found")

LAUNCHER = b"\x7fELF" + bytes(range(256)) * 3 + b"end"  # 775 bytes: padded to 776


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onefile")
    exe = out / "onefile_driver_asan"
    compile_c([GCC, "-std=c99", *WARNINGS, *SANITIZE, f"-I{SHIM}", str(SHIM / "onefile.c"),
               str(SHIM / "archive.c"), str(UTF8_C), str(HERE / "onefile_driver.c"), "-o",
               str(exe)], out)
    return exe


def sample() -> bytes:
    sections = [
        Section(kind=DOCUMENT, name="app.json", data=b'{"version": 1}'),
        Section(kind=ARCHIVE, name="app.pack", data=b"ECFGPAK\0" + bytes(100)),
        Section(kind=ARCHIVE, name="extra.pack", data=b"x" * 9, flags=1),
        Section(kind=EXTENSION, name="zlib", data=b"\x7fELF zlib", path="zlib.cpython-312.so"),
        Section(kind=EXTENSION, name="_json", data=b"\x7fELF json" * 3,
                path="_json.cpython-312.so"),
        Section(kind=EXTENSION, name="pkg._x\u00e9", data=b"", path="pkg/_x\u00e9.abi3.so"),
    ]
    return LAUNCHER + build_payload(len(LAUNCHER), sections)


def expected(blob: bytes, path: str) -> str:
    """What the driver must print for ``blob`` in the file ``path``, from the
    Python reader."""
    try:
        if read_onefile(blob, path=path) is None:
            return "none"
    except OneFileError as e:
        message = str(e)
        if "is corrupt:" not in message or "the document" in message:
            return "error: " + escaped(message)
        # a section that is not the document fails its checksum: the
        # launcher opens the payload and finds out when it uses the section
    sections = _sections(blob)
    parts = [f"ok {len(sections)}"]
    for kind, flags, data, name, vpath, ok in sections:
        verdict = " ok" if ok else (" corrupt: " + escaped(
            f"the file is corrupt: {KINDS[kind]} {name} does not match its checksum:"
            " rebuild it with embedcfg bundle --onefile"))
        parts.append(f"{kind} {flags} {len(data)} {escaped(name)} {escaped(vpath)}{verdict}")
    return "\t".join(parts)


KINDS = {DOCUMENT: "the document", ARCHIVE: "the archive", EXTENSION: "the extension module"}


def _sections(blob: bytes) -> List[tuple]:  # type: ignore[type-arg]
    """(kind, flags, data, name, path, checksum matches) of each section of a
    payload whose structure read_onefile accepted."""
    trailer = blob[-TRAILER_SIZE:]
    n = struct.unpack_from("<I", trailer, 12)[0]
    table_off, table_size = struct.unpack_from("<QQ", trailer, 24)
    table = blob[table_off:table_off + table_size]
    out = []
    for i in range(n):
        kind, flags, off, size, crc, name_off, name_len, path_len = struct.unpack_from(
            "<IIQQIIII", table, i * ENTRY_SIZE)
        name = table[name_off:name_off + name_len].decode()
        path = (table[name_off + name_len + 1:name_off + name_len + 1 + path_len].decode()
                if kind == EXTENSION else "")
        data = blob[off:off + size]
        out.append((kind, flags, data, name, path, zlib.crc32(data) == crc))
    return out


def escaped(message: str) -> str:
    return "".join(f"\\x{b:02x}" if b < 0x20 or b in (0x5C, 0x7F) else chr(b)
                   for b in message.encode()).encode("latin-1").decode("utf-8")


def agree(driver: Path, tmp_path: Path, blobs: List[bytes]) -> None:
    files = []
    for i, blob in enumerate(blobs):
        f = tmp_path / f"case{i}"
        f.write_bytes(blob)
        files.append(f)
    proc = subprocess.run([str(driver), *map(str, files)], capture_output=True,
                          env=SANITIZER_ENV, timeout=600)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()[-3000:]
    lines = proc.stdout.decode().split("\n")[:-1]  # not splitlines: names may hold U+0085
    assert len(lines) == len(blobs)
    for f, blob, line in zip(files, blobs, lines):
        want = expected(blob, str(f))
        assert line == want, (f.name, line, want)


def test_a_payload_reads_the_same(driver: Path, tmp_path: Path) -> None:
    blob = sample()
    agree(driver, tmp_path, [blob, LAUNCHER, b"", b"ECFGONE\0"])
    info = read_onefile(blob)
    assert info is not None and info.payload_start == 776  # 8-aligned after the launcher
    assert [s.name for s in info.sections] == ["app.json", "app.pack", "extra.pack",
                                               "_json", "pkg._x\u00e9", "zlib"]


def test_every_truncation(driver: Path, tmp_path: Path) -> None:
    blob = sample()
    agree(driver, tmp_path, [blob[:n] for n in range(len(blob) - 400, len(blob))])


def test_every_bit_flip_of_trailer_and_table(driver: Path, tmp_path: Path) -> None:
    blob = sample()
    start = struct.unpack_from("<Q", blob, len(blob) - TRAILER_SIZE + 24)[0]
    cases = []
    for at in range(start, len(blob)):
        for bit in range(8):
            b = bytearray(blob)
            b[at] ^= 1 << bit
            cases.append(bytes(b))
    agree(driver, tmp_path, cases)


def _repaired(blob: bytearray) -> bytes:
    """``blob`` with the table's and the trailer's checksums made to match."""
    t = len(blob) - TRAILER_SIZE
    table_off, table_size = struct.unpack_from("<QQ", blob, t + 24)
    if table_off + table_size <= t:
        struct.pack_into("<I", blob, t + 40, zlib.crc32(bytes(blob[table_off:table_off
                                                                    + table_size])))
    struct.pack_into("<I", blob, t + 44, zlib.crc32(bytes(blob[t:t + 44])))
    return bytes(blob)


def test_repaired_flips_reach_the_table_checks(driver: Path, tmp_path: Path) -> None:
    """With the checksums repaired, a flip in the table or the trailer meets
    the bounds, kind, order and name checks; a flip in a section meets the
    section's own checksum (the document's at open)."""
    blob = sample()
    start = struct.unpack_from("<Q", blob, len(blob) - TRAILER_SIZE + 24)[0]
    cases = []
    for at in list(range(start, len(blob) - 8)) + list(range(len(LAUNCHER), start, 3)):
        for bit in (0, 3, 7):
            b = bytearray(blob)
            b[at] ^= 1 << bit
            cases.append(_repaired(b))
    agree(driver, tmp_path, cases)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from([ARCHIVE, EXTENSION]),
                          st.text(st.characters(blacklist_categories=["Cs"],
                                                blacklist_characters="\0"), min_size=1,
                                  max_size=12),
                          st.binary(max_size=40)), max_size=6, unique_by=lambda t: t[1]),
       st.integers(0, 15))
def test_generated_payloads(driver: Path, tmp_path: Path, parts: list, pad: int) -> None:
    launcher = LAUNCHER[:len(LAUNCHER) - pad]
    sections = [Section(kind=DOCUMENT, name="d.json", data=b"{}")]
    for kind, name, data in parts:
        sections.append(Section(kind=kind, name=name, data=data,
                                path=(name + ".so") if kind == EXTENSION else ""))
    blob = launcher + build_payload(len(launcher), sections)
    assert read_onefile(blob) is not None
    agree(driver, tmp_path, [blob])


def test_missing_file(driver: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(driver), str(tmp_path / "nope")], capture_output=True,
                          env=SANITIZER_ENV, timeout=60)
    assert proc.stdout.decode() == (f"error: {tmp_path / 'nope'}: cannot read it: No such file"
                                    " or directory\n")
    with pytest.raises(OneFileError, match="cannot read it: No such file or directory"):
        read_onefile(str(tmp_path / "nope"))
