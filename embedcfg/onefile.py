"""One-file applications: the static launcher with a payload appended.

``embedcfg bundle --onefile`` writes one executable: the static launcher
(``embedcfg build --link static``) as linked, followed by the payload::

    [the static launcher, as linked]
    [sections, each at an 8-byte aligned offset, in table order:
       the document (JSON), the bytecode archives, the extension modules]
    [the section table: 40-byte entries, then their names]
    [the trailer: 48 bytes, the last of the file]

The launcher, started under another name than ``embedcfg-launch*``, reads
the trailer of its own executable (``/proc/self/exe``); a file with one runs
the document inside. The format is ``docs/reference/archive.rst``, "One-file
applications"; :func:`read_onefile` checks a file in the order of
``capi_shim/onefile.c``, with the same messages, and then every section's
checksum, which the launcher only checks when it uses a section.
"""

from __future__ import annotations

import struct
import zlib
from typing import List, Optional, Sequence, Tuple, Union

import attrs

from .codec import write_atomic

__all__ = ["ARCHIVE", "DOCUMENT", "EXTENSION", "FORMAT", "OneFileError", "OneFileInfo",
           "Section", "build_payload", "read_onefile", "write_onefile"]

FORMAT = 1
SIGNATURE = b"ECFGONE\0"
DOCUMENT, ARCHIVE, EXTENSION = 1, 2, 3
AFTER_PATH = 0x1
TRAILER_SIZE = 48
ENTRY_SIZE = 40
MAX_NAME = 4096
MAX_SIZE = 1 << 32

# signature, format, sections, file size, table offset, table size,
# CRC-32 of the table, CRC-32 of the trailer's first 44 bytes
_TRAILER = struct.Struct("<8sIIQQQII")
# kind, flags, offset, size, CRC-32, name offset, name length, path length
_ENTRY = struct.Struct("<IIQQIIII")
_FIX = "rebuild it with embedcfg bundle --onefile"
_KINDS = {DOCUMENT: "the document", ARCHIVE: "the archive", EXTENSION: "the extension module"}


class OneFileError(ValueError):
    """A file is not a readable one-file application (the message says why)."""


@attrs.frozen
class Section:
    """One section of a payload."""

    kind: int
    #: An extension module's dotted name; otherwise the file it was made from.
    name: str
    data: bytes
    flags: int = 0
    #: An extension module's path below the executable ("pkg/_x.cpython-312-...so").
    path: str = ""


@attrs.frozen
class OneFileInfo:
    """What :func:`read_onefile` found."""

    #: Where the first section starts: the launcher and its padding are before it.
    payload_start: int
    sections: Tuple[Section, ...]
    #: The table's checksum, which names the payload (the extraction directory).
    id: int
    #: (offset, size) of each section in the file, in table order.
    spans: Tuple[Tuple[int, int], ...] = ()

    @property
    def document(self) -> bytes:
        return next(s.data for s in self.sections if s.kind == DOCUMENT)

    def of_kind(self, kind: int) -> List[Section]:
        return [s for s in self.sections if s.kind == kind]


def _order(sections: Sequence[Section]) -> List[Section]:
    """Table order: the document, the archives (as given), the extension
    modules sorted by the UTF-8 bytes of their names (the C reader's binary
    search)."""
    docs = [s for s in sections if s.kind == DOCUMENT]
    if len(docs) != 1:
        raise ValueError(f"a payload has exactly one document, not {len(docs)}")
    archives = [s for s in sections if s.kind == ARCHIVE]
    extensions = sorted((s for s in sections if s.kind == EXTENSION),
                        key=lambda s: s.name.encode())
    names = [s.name for s in extensions]
    if len(set(names)) != len(names):
        raise ValueError("two extension modules have the same name")
    if len(docs) + len(archives) + len(extensions) != len(sections):
        raise ValueError("a section of an unknown kind")
    return docs + archives + extensions


def build_payload(launcher_size: int, sections: Sequence[Section]) -> bytes:
    """The bytes to append to a launcher of ``launcher_size`` bytes."""
    ordered = _order(sections)
    out = bytearray()
    offsets = []
    for s in ordered:
        out += b"\0" * (-(launcher_size + len(out)) % 8)
        offsets.append(launcher_size + len(out))
        out += s.data
    names = bytearray()
    entries = bytearray()
    base = len(ordered) * ENTRY_SIZE
    for s, off in zip(ordered, offsets):
        name = s.name.encode()
        path = s.path.encode() if s.kind == EXTENSION else b""
        if not name or len(name) > MAX_NAME or len(path) > MAX_NAME or (
                s.kind == EXTENSION and not path):
            raise ValueError(f"section {s.name!r}: a name of 1 to {MAX_NAME} bytes"
                             " (and an extension module's path) is needed")
        entries += _ENTRY.pack(s.kind, s.flags, off, len(s.data), zlib.crc32(s.data),
                               base + len(names), len(name), len(path))
        names += name + b"\0" + (path + b"\0" if path else b"")
    table = bytes(entries + names)
    table_off = launcher_size + len(out)
    size = table_off + len(table) + TRAILER_SIZE
    if size >= MAX_SIZE:
        raise ValueError(f"the one-file application would be {size} bytes; the format's"
                         " limit is 4 GiB")
    head = _TRAILER.pack(SIGNATURE, FORMAT, len(ordered), size, table_off, len(table),
                         zlib.crc32(table), 0)[:44]
    return bytes(out) + table + head + struct.pack("<I", zlib.crc32(head))


def write_onefile(output: str, launcher: str, sections: Sequence[Section]) -> int:
    """Write ``launcher`` with the payload of ``sections`` to ``output``, a
    program (mode 0777 less the umask), atomically
    (:func:`embedcfg.codec.write_atomic`). Returns the size written."""
    with open(launcher, "rb") as f:
        head = f.read()
    if head[-TRAILER_SIZE:][:8] == SIGNATURE:
        raise ValueError(f"{launcher} carries a payload already: give the static launcher")
    payload = build_payload(len(head), sections)
    write_atomic(output, head + payload, mode=0o777)
    return len(head) + len(payload)


def _damaged(path: str, detail: str) -> OneFileError:
    return OneFileError(f"{path}: the one-file payload is damaged ({detail}): {_FIX}")


def _string(table: bytes, n_sections: int, off: int, length: int) -> Optional[str]:
    if length > MAX_NAME or off < n_sections * ENTRY_SIZE or off + length + 1 > len(table):
        return None
    raw = table[off:off + length]
    if table[off + length] != 0 or b"\0" in raw:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return None


def read_onefile(source: Union[str, bytes], *, path: Optional[str] = None) -> Optional[OneFileInfo]:
    """Check a one-file application (a file name, or its bytes with ``path``
    naming it) as the launcher does, then every section's checksum. None when
    the file has no trailer (an ordinary executable); :class:`OneFileError`
    when it cannot be read or is damaged."""
    if isinstance(source, str):
        path = path or source
        try:
            with open(source, "rb") as f:
                blob = f.read()
        except OSError as e:
            raise OneFileError(f"{path}: cannot read it: {e.strerror}") from None
    else:
        blob = source
        path = path or "the one-file application"
    if len(blob) < TRAILER_SIZE or blob[-TRAILER_SIZE:][:8] != SIGNATURE:
        return None
    t = blob[-TRAILER_SIZE:]
    sig, version, n, size, table_off, table_size, table_crc, crc = _TRAILER.unpack(t)
    if zlib.crc32(t[:44]) != crc:
        raise _damaged(path, "the trailer's checksum does not match")
    if version != FORMAT:
        raise OneFileError(f"{path} has one-file format {version}; this launcher reads format"
                           f" {FORMAT}: {_FIX}")
    if (size != len(blob) or len(blob) >= MAX_SIZE
            or table_off + table_size != len(blob) - TRAILER_SIZE):
        raise _damaged(path, f"{len(blob)} bytes, the trailer says {size}")
    table = blob[table_off:table_off + table_size]
    if zlib.crc32(table) != table_crc:
        raise _damaged(path, "the section table's checksum does not match")
    if n * ENTRY_SIZE > table_size:
        raise _damaged(path, f"{n} sections do not fit in a table of {table_size} bytes")
    sections: List[Section] = []
    spans: List[Tuple[int, int]] = []
    crcs: List[int] = []
    end = 0
    previous_kind = 0
    previous_name: Optional[bytes] = None
    for i in range(n):
        kind, flags, off, length, scrc, name_off, name_len, path_len = _ENTRY.unpack_from(
            table, i * ENTRY_SIZE)
        if not DOCUMENT <= kind <= EXTENSION or kind < previous_kind:
            raise _damaged(path, f"section {i} has kind {kind}, out of order or unknown")
        if off < end or off % 8 or off > table_off or length > table_off - off:
            raise _damaged(path, f"section {i} ({length} bytes at offset {off}) is outside"
                                 " the payload")
        end = off + length
        name = _string(table, n, name_off, name_len)
        vpath = (_string(table, n, name_off + name_len + 1, path_len)
                 if kind == EXTENSION and path_len else None)
        if (name is None or not name or (kind == EXTENSION and vpath is None)
                or (kind != EXTENSION and path_len)):
            raise _damaged(path, f"section {i} has a bad name")
        if kind == EXTENSION:
            key = name.encode()
            if previous_kind == EXTENSION and previous_name is not None and previous_name >= key:
                raise _damaged(path, f"extension module {name} is out of order")
            previous_name = key
        previous_kind = kind
        sections.append(Section(kind=kind, name=name, data=blob[off:off + length],
                                flags=flags, path=vpath or ""))
        spans.append((off, length))
        crcs.append(scrc)
    documents = sum(1 for s in sections if s.kind == DOCUMENT)
    if documents != 1:
        raise _damaged(path, f"{documents} documents instead of one")
    # the document first (the launcher checks it at open), then the others
    for s, crc_ in sorted(zip(sections, crcs), key=lambda sc: sc[0].kind != DOCUMENT):
        if zlib.crc32(s.data) != crc_:
            raise OneFileError(f"{path} is corrupt: {_KINDS[s.kind]} {s.name} does not match"
                               f" its checksum: {_FIX}")
    return OneFileInfo(payload_start=spans[0][0], sections=tuple(sections), id=table_crc,
                       spans=tuple(spans))
