"""Pack a document's modules into one indexed bytecode archive.

``embedcfg pack DOCUMENT -o FILE`` compiles every module the document's
interpreter would import from its ``module_search_paths`` (the same roots as
``precompile``; the standard library only with ``--stdlib``) *with the target
interpreter*, since marshalled code is only valid for the CPython minor that
wrote it, and writes them into one file that the C shim's archive importer
(``capi_shim/archive_importer.c``) maps and imports from memory. The format is
in ``docs/reference/archive.rst``; :func:`read_archive` makes the checks of the
C reader (``capi_shim/archive.c``) in its order and with its messages, those it
makes at open and the checksum of every blob, which it checks when it first
reads one.

The output is deterministic: modules and data files are sorted by name, the
child compiles each module from its bytes alone (no timestamps, no paths of
this machine in the code objects: ``co_filename`` is the module's path inside
the archive, made absolute by the importer when it loads it), and the file is
written atomically.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import sys
import zlib
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import attrs

from ._probe import clean_environ
from .document import expand
from .model import EmbedConfig

__all__ = [
    "ArchiveError",
    "ArchiveInfo",
    "DataEntry",
    "FLAG_SOURCES",
    "FLAG_STDLIB",
    "FORMAT",
    "HEADER_SIZE",
    "ModuleEntry",
    "PackError",
    "PackResult",
    "SIGNATURE",
    "build_archive",
    "corrupt_blobs",
    "pack",
    "read_archive",
]

#: The first 8 bytes of every archive.
SIGNATURE = b"ECFGPAK\0"
#: The archive format version this embedcfg writes and reads (2: a CRC-32
#: per blob, and the header's covers only the header, indexes and names).
FORMAT = 2
#: Header flags.
FLAG_SOURCES = 0x1  # --with-source: some modules carry their source
FLAG_STDLIB = 0x2  # --stdlib: the target's standard library is in it
#: Module entry flags.
ENTRY_PACKAGE = 0x1
ENTRY_SOURCE = 0x2

# signature, format, pyc magic, major, minor, reserved, flags, module count,
# data count, file size, module index offset, data index offset, crc32 of the
# header, indexes and names, offset of the first blob (where the names end)
_HEADER = struct.Struct("<8sI4sBBHIIIQQQII")
# name offset, name length, flags; then offset, length and crc32 of the code,
# and of the source
_MODULE = struct.Struct("<QIIQIIQII")
# name offset, name length, reserved; offset, length and crc32 of the data
_DATA = struct.Struct("<QIIQII")
HEADER_SIZE = _HEADER.size
assert HEADER_SIZE == 64 and _MODULE.size == 48 and _DATA.size == 32

#: The largest archive read or written (the C reader's limit too): offsets
#: and sizes are checked against it before any arithmetic.
MAX_SIZE = 1 << 32
#: Module names and data paths longer than this are refused.
MAX_NAME = 4096

#: Directories of the standard library left out with ``--stdlib``: the test
#: suite, as precompile leaves it out.
STDLIB_EXCLUDED_DIRS = ("test", "tests", "idle_test")


class PackError(ValueError):
    """The document cannot be packed as asked (nothing was written)."""


class ArchiveError(ValueError):
    """A file is not a valid archive; the message says what is wrong."""


@attrs.frozen
class ModuleEntry:
    """One module of an archive."""

    name: str
    is_package: bool
    code: bytes
    #: The source bytes (``--with-source``), or None.
    source: Optional[bytes] = None


@attrs.frozen
class DataEntry:
    """One package data file: its path inside the archive (``pkg/data.txt``)."""

    name: str
    data: bytes


@attrs.frozen
class ArchiveInfo:
    """What :func:`read_archive` found in a valid archive."""

    magic: bytes
    version: Tuple[int, int]
    flags: int
    modules: Tuple[ModuleEntry, ...]
    data: Tuple[DataEntry, ...]


def _name_key(name: str) -> bytes:
    return name.encode("utf-8")


def build_archive(magic: bytes, version: Tuple[int, int], modules: Sequence[ModuleEntry],
                  data: Sequence[DataEntry] = (), *, flags: int = 0) -> bytes:
    """The bytes of an archive (sorted by name: the order of the input does not matter)."""
    if len(magic) != 4:
        raise ValueError("the pyc magic number is 4 bytes")
    mods = sorted(modules, key=lambda m: _name_key(m.name))
    files = sorted(data, key=lambda d: _name_key(d.name))
    for names in ([_name_key(m.name) for m in mods], [_name_key(d.name) for d in files]):
        if len(set(names)) != len(names):
            raise ValueError("duplicate name in the archive")
        for n in names:
            if not n or b"\0" in n or len(n) > MAX_NAME:
                raise ValueError(f"invalid name {n!r}")
    if any(m.source is not None for m in mods):
        flags |= FLAG_SOURCES
    module_index = HEADER_SIZE
    data_index = module_index + _MODULE.size * len(mods)
    pos = data_index + _DATA.size * len(files)
    # names first (NUL-terminated), then code, sources and data
    name_table = bytearray()
    name_offsets: List[int] = []
    for name in [m.name for m in mods] + [d.name for d in files]:
        name_offsets.append(pos + len(name_table))
        name_table += _name_key(name) + b"\0"
    blobs_at = pos + len(name_table)
    blobs = bytearray()

    def put(blob: Optional[bytes]) -> Tuple[int, int, int]:
        if blob is None:
            return 0, 0, 0
        off = blobs_at + len(blobs)
        blobs.extend(blob)
        return off, len(blob), _crc(blob)

    index = bytearray()
    for i, m in enumerate(mods):
        eflags = (ENTRY_PACKAGE if m.is_package else 0) | (ENTRY_SOURCE if m.source is not None
                                                            else 0)
        index += _MODULE.pack(name_offsets[i], len(_name_key(m.name)), eflags, *put(m.code),
                              *put(m.source))
    for j, d in enumerate(files):
        index += _DATA.pack(name_offsets[len(mods) + j], len(_name_key(d.name)), 0,
                            *put(d.data))
    size = blobs_at + len(blobs)
    if size >= MAX_SIZE:
        raise ValueError(f"the archive would be {size} bytes: the format's limit is 4 GiB")
    header = _HEADER.pack(SIGNATURE, FORMAT, magic, version[0], version[1], 0, flags, len(mods),
                          len(files), size, module_index, data_index, 0, blobs_at)
    out = bytearray(header + index + name_table)
    struct.pack_into("<I", out, _CRC_AT, _checksum(out))
    return bytes(out + blobs)


#: Where the header's checksum is: it covers everything the reader checks
#: when it opens an archive (the header, with these four bytes as zeros, the
#: indexes and the names, up to the first blob); each blob has its own in its
#: index entry, checked when it is read. Checking all 20 MB of a packed
#: standard library at every start cost 35 ms, more than the archive saves.
_CRC_AT = 56
#: Where the offset of the first blob (the end of the checksummed part) is.
_BLOBS_AT = 60


def _crc(data: Union[bytes, bytearray, memoryview]) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def _checksum(blob: Union[bytes, bytearray]) -> int:
    """The header's checksum of ``blob`` (whose blob offset is in bounds)."""
    (end,) = struct.unpack_from("<I", blob, _BLOBS_AT)
    view = memoryview(blob)
    return zlib.crc32(view[_CRC_AT + 4:end],
                      zlib.crc32(b"\0\0\0\0", zlib.crc32(view[:_CRC_AT]))) & 0xFFFFFFFF


def _blob_message(what: str, kind: str, name: str) -> str:
    return (f"{what} is corrupt: {kind} {name} does not match its checksum: rebuild it with"
            " embedcfg pack")


def read_archive(blob: bytes, *, what: str = "the archive") -> ArchiveInfo:
    """Check ``blob`` as the C reader does and return its contents.

    Everything the C reader checks when it opens an archive is checked in
    the same order, then the checksum of every blob, which the C reader only
    checks when it reads one: so a bit flipped anywhere in the file is
    reported. Raises :class:`ArchiveError` with a one-line reason (that the
    reader in ``capi_shim/archive.c`` gives in the same words).
    """
    info, blobs = _open(blob, what)
    bad = _corrupt(blobs)
    if bad:
        raise ArchiveError(bad[0])
    return info


def corrupt_blobs(blob: bytes, *, what: str = "the archive") -> List[str]:
    """The message of every blob of ``blob`` that does not match its checksum,
    in index order (modules, code before source, then data files), after
    the checks of :func:`read_archive` that the C reader makes at open (an
    :class:`ArchiveError` when one fails)."""
    return _corrupt(_open(blob, what)[1])


# A blob as the reader found it: the message if it is corrupt, its bytes and
# the checksum its index entry gives.
_Blob = Tuple[str, bytes, int]


def _corrupt(blobs: Sequence[_Blob]) -> List[str]:
    return [message for message, data, crc in blobs if _crc(data) != crc]


def _open(blob: bytes, what: str) -> Tuple[ArchiveInfo, List[_Blob]]:
    """The checks of the C reader's embedcfg_archive_from_memory, in its
    order: the contents, and the blobs whose checksums are still to check."""
    if len(blob) < HEADER_SIZE:
        raise ArchiveError(f"{what} is truncated: {len(blob)} bytes, shorter than the"
                           f" {HEADER_SIZE}-byte header")
    (sig, fmt, magic, major, minor, _r0, flags, n_mod, n_data, size, mod_off, data_off, crc,
     blobs_at) = _HEADER.unpack_from(blob, 0)
    if sig != SIGNATURE:
        raise ArchiveError(f"{what} is not an embedcfg archive (bad signature)")
    if fmt != FORMAT:
        raise ArchiveError(f"{what} has archive format {fmt}; this embedcfg reads format"
                           f" {FORMAT}: rebuild it with embedcfg pack")
    if size != len(blob):
        kind = "truncated" if size > len(blob) else "oversized"
        raise ArchiveError(f"{what} is {kind}: the header says {size} bytes, the file has"
                           f" {len(blob)}")
    if blobs_at < HEADER_SIZE or blobs_at > size:
        raise ArchiveError(f"{what} is corrupt: its index is out of bounds")
    if _checksum(blob) != crc:
        raise ArchiveError(f"{what} is corrupt: its checksum does not match")
    # the indexes and the names are in the checksummed part, before the blobs
    if (mod_off != HEADER_SIZE or n_mod > (blobs_at - mod_off) // _MODULE.size
            or data_off != mod_off + n_mod * _MODULE.size
            or n_data > (blobs_at - data_off) // _DATA.size):
        raise ArchiveError(f"{what} is corrupt: its index is out of bounds")

    def span(off: int, length: int, label: str, limit: int = size) -> bytes:
        if off > limit or length > limit - off:
            raise ArchiveError(f"{what} is corrupt: {label} is out of bounds")
        return blob[off:off + length]

    def name_at(off: int, length: int, i: int) -> str:
        raw = span(off, length + 1, f"entry {i}'s name", blobs_at)
        if length == 0 or length > MAX_NAME or raw[-1] != 0 or b"\0" in raw[:-1]:
            raise ArchiveError(f"{what} is corrupt: entry {i} has an invalid name")
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise ArchiveError(f"{what} is corrupt: entry {i} has an invalid name") from None

    blobs: List[_Blob] = []
    modules: List[ModuleEntry] = []
    previous = b""
    for i in range(n_mod):
        (noff, nlen, eflags, coff, clen, ccrc, soff, slen,
         scrc) = _MODULE.unpack_from(blob, mod_off + i * _MODULE.size)
        name = name_at(noff, nlen, i)
        if i and not previous < _name_key(name):
            raise ArchiveError(f"{what} is corrupt: its index is not sorted")
        previous = _name_key(name)
        if eflags & ~(ENTRY_PACKAGE | ENTRY_SOURCE):
            raise ArchiveError(f"{what} is corrupt: entry {i} has unknown flags")
        code = span(coff, clen, f"entry {i}'s code")
        blobs.append((_blob_message(what, "the code of module", name), code, ccrc))
        source = None
        if eflags & ENTRY_SOURCE:
            source = span(soff, slen, f"entry {i}'s source")
            blobs.append((_blob_message(what, "the source of module", name), source, scrc))
        modules.append(ModuleEntry(name, bool(eflags & ENTRY_PACKAGE), code, source))
    files: List[DataEntry] = []
    previous = b""
    for j in range(n_data):
        noff, nlen, _r, doff, dlen, dcrc = _DATA.unpack_from(blob, data_off + j * _DATA.size)
        name = name_at(noff, nlen, n_mod + j)
        if j and not previous < _name_key(name):
            raise ArchiveError(f"{what} is corrupt: its data index is not sorted")
        previous = _name_key(name)
        data = span(doff, dlen, f"data entry {j}")
        blobs.append((_blob_message(what, "the data file", name), data, dcrc))
        files.append(DataEntry(name, data))
    info = ArchiveInfo(magic=magic, version=(major, minor), flags=flags, modules=tuple(modules),
                       data=tuple(files))
    return info, blobs


def read_archive_file(path: str, *, what: Optional[str] = None) -> ArchiveInfo:
    """:func:`read_archive` of a file (an :class:`ArchiveError` when it cannot be read)."""
    label = what or path
    try:
        with open(path, "rb") as f:
            blob = f.read(MAX_SIZE)
    except OSError as e:
        raise ArchiveError(f"{label}: cannot read it: {e.strerror}") from None
    return read_archive(blob, what=label)


# The driver runs in the target interpreter (-I -S -B): it compiles every
# module from its bytes and prints one JSON line per module and data file;
# the parent writes the archive.
_DRIVER = r'''
import base64, json, marshal, os, sys, sysconfig

job = json.loads(sys.stdin.read())
stdlib = sysconfig.get_path("stdlib")
excluded = set(job["stdlib_excluded"])
magic = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER


def emit(**event):
    sys.stdout.write(json.dumps(event, sort_keys=True) + "\n")


def in_stdlib(path):
    return path == stdlib or path.startswith(stdlib.rstrip("/") + "/")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def pack_dir(top, prefix, relative):
    # One directory: its modules, its regular packages (with __init__.py) and,
    # inside a package, its data files.
    names = sorted(os.listdir(top))
    for name in names:
        path = os.path.join(top, name)
        if os.path.isdir(path):
            if (not name.isidentifier() or (name in excluded and in_stdlib(path))
                    or not os.path.isfile(os.path.join(path, "__init__.py"))):
                if prefix and name != "__pycache__" and not name.startswith("."):
                    data_dir(path, relative + name + "/")
                continue
            yield (prefix + name, os.path.join(path, "__init__.py"), True,
                   relative + name + "/__init__.py")
            for item in pack_dir(path, prefix + name + ".", relative + name + "/"):
                yield item
        elif name.endswith(".py") and name[:-3].isidentifier():
            if name != "__init__.py":
                yield (prefix + name[:-3], path, False, relative + name)
        elif prefix and not name.endswith((".pyc", ".pyo")) and not name.startswith("."):
            data_file(path, relative + name)


def data_dir(top, relative):
    for name in sorted(os.listdir(top)):
        path = os.path.join(top, name)
        if os.path.isdir(path):
            if name != "__pycache__" and not name.startswith("."):
                data_dir(path, relative + name + "/")
        elif not name.endswith((".pyc", ".pyo")) and not name.startswith("."):
            data_file(path, relative + name)


data_seen = set()


def data_file(path, relative):
    if not job["data"] or relative in data_seen or not os.path.isfile(path):
        return
    data_seen.add(relative)
    with open(path, "rb") as f:
        emit(event="data", name=relative, data=b64(f.read()))


roots = []
for root in job["roots"]:
    if in_stdlib(root) and not job["stdlib"]:
        emit(event="skipped", path=root, reason="in the standard library of %s: add --stdlib"
             " to pack it" % sys.executable)
    else:
        roots.append(root)
if job["stdlib"] and stdlib not in roots:
    roots.append(stdlib)
emit(event="start", version=list(sys.version_info[:3]), magic=magic.hex(), stdlib=stdlib)
owner = {}
failed = 0
for root in roots:
    for name, path, is_package, relative in pack_dir(root, "", ""):
        # a top-level name an earlier search path entry has is shadowed, with
        # everything under it, as on sys.path
        if owner.setdefault(name.split(".")[0], root) != root:
            continue
        with open(path, "rb") as f:
            source = f.read()
        try:
            code = compile(source, relative, "exec", dont_inherit=True,
                           optimize=job["optimization"])
        except (SyntaxError, ValueError) as e:
            failed += 1
            where = " (line %d)" % e.lineno if getattr(e, "lineno", None) else ""
            emit(event="failed", source=path, message="%s: %s%s" % (
                type(e).__name__, getattr(e, "msg", None) or e, where))
            continue
        emit(event="module", name=name, package=is_package, code=b64(marshal.dumps(code)),
             source=b64(source) if job["with_source"] else None)
emit(event="end", failed=failed)
'''


@attrs.frozen
class PackResult:
    """The outcome of :func:`pack`."""

    python: str
    version: Tuple[int, int, int]
    output: str
    modules: int
    data: int
    size: int
    #: Search path entries that were not packed, with the reason.
    skipped: Tuple[Tuple[str, str], ...]
    #: Modules that did not compile (then nothing was written).
    failed: Tuple[Tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        """True when every module compiled (and the archive was written)."""
        return not self.failed

    def summary(self) -> str:
        """The one summary line."""
        version = ".".join(map(str, self.version))
        if self.failed:
            return (f"pack failed: {len(self.failed)} modules did not compile for CPython"
                    f" {version}; nothing was written")
        return (f"packed {self.modules} modules and {self.data} data files for CPython {version}"
                f" into {self.output} ({self.size} bytes)")


def search_roots(cfg: EmbedConfig, config_dir: Optional[str], origin: Optional[str], *,
                 unexpanded: Optional[Callable[[int, str], str]] = None,
                 ) -> Tuple[List[str], List[Tuple[str, str]]]:
    """The document's module search path expanded (the directories that exist) and the
    entries left out, with why. An entry that cannot be expanded raises PackError with
    ``unexpanded(index, value)``, by default pack's own message."""
    roots: List[str] = []
    skipped: List[Tuple[str, str]] = []
    if config_dir is not None:
        config_dir = os.path.realpath(config_dir)  # as the shim expands $CONFIG_DIR
    paths = cfg.options.get("module_search_paths")
    for i, value in enumerate(paths if isinstance(paths, tuple) else ()):
        path = expand(value, origin=origin, config_dir=config_dir)
        if path is None:
            if unexpanded is not None:
                raise PackError(unexpanded(i, value))
            hint = (": pass --origin DIR (where the launcher will be installed)"
                    if value.startswith("$ORIGIN") else "")
            raise PackError(f"options.module_search_paths[{i}]: {value!r} cannot be"
                            f" expanded{hint}")
        if os.path.isdir(path):
            roots.append(path)
        else:
            skipped.append((path, "not a directory"))
    return roots, skipped


def pack(cfg: EmbedConfig, output: str, *, python: Optional[str] = None,
         config_dir: Optional[str] = None, origin: Optional[str] = None,
         include_stdlib: bool = False, with_source: bool = False,
         with_data: bool = True) -> PackResult:
    """Pack the modules of ``cfg``, compiled by ``python``, into ``output``.

    Raises :class:`PackError` when there is nothing to pack or the target
    cannot be run; modules that fail to compile are in the result, and then
    nothing was written.
    """
    import subprocess
    import tempfile

    from .codec import write_atomic

    exe = python or sys.executable
    roots, skipped = search_roots(cfg, config_dir, origin)
    level = cfg.options.get("optimization_level", 0)
    job = {"roots": roots, "stdlib": include_stdlib, "with_source": with_source,
           "data": with_data, "stdlib_excluded": list(STDLIB_EXCLUDED_DIRS),
           "optimization": level if isinstance(level, int) else 0}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as job_file, \
            tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err_file:
        job_file.write(json.dumps(job))
        job_file.seek(0)
        try:
            proc = subprocess.run([exe, "-I", "-S", "-B", "-c", _DRIVER], stdin=job_file,
                                  stdout=subprocess.PIPE, stderr=err_file,
                                  env=clean_environ(os.environ),
                                  check=False)
        except OSError as e:
            raise PackError(f"cannot run {exe!r}: {e.strerror}") from e
        events: List[Dict[str, Any]] = []
        for line in proc.stdout.splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                raise PackError(f"{exe} answered {line.strip()[:200]!r}, not a record: is it"
                                " CPython 3.8 or newer?") from None
        if proc.returncode != 0 or not events or events[-1]["event"] != "end":
            err_file.seek(0)
            last = (err_file.read().strip().splitlines() or ["no output"])[-1]
            raise PackError(f"{exe} stopped (status {proc.returncode}) before it finished:"
                            f" {last}")
    # the child reports a skipped search path entry before it starts packing
    start = next(e for e in events if e["event"] == "start")
    version = (start["version"][0], start["version"][1], start["version"][2])
    modules = [ModuleEntry(e["name"], e["package"], base64.b64decode(e["code"]),
                           None if e["source"] is None else base64.b64decode(e["source"]))
               for e in events if e["event"] == "module"]
    data = [DataEntry(e["name"], base64.b64decode(e["data"]))
            for e in events if e["event"] == "data"]
    skipped += [(e["path"], e["reason"]) for e in events if e["event"] == "skipped"]
    failed = tuple((e["source"], e["message"]) for e in events if e["event"] == "failed")
    size = 0
    if not failed:
        if not modules:
            raise PackError("nothing to pack: no module on the document's"
                            " module_search_paths" + ("" if include_stdlib else
                                                      " (add --stdlib for the standard"
                                                      " library)"))
        blob = build_archive(bytes.fromhex(start["magic"]), (version[0], version[1]), modules,
                             data, flags=FLAG_STDLIB if include_stdlib else 0)
        write_atomic(output, blob)
        size = len(blob)
    return PackResult(python=exe, version=version, output=output, modules=len(modules),
                      data=len(data), size=size, skipped=tuple(skipped), failed=failed)


def peek_flags(path: str) -> Optional[int]:
    """The header flags of the archive at ``path`` (its first 64 bytes: no
    other check), or None when it is not a readable archive of this format;
    the launcher reads the same (``embedcfg_archive_peek_flags``)."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER_SIZE)
    except OSError:
        return None
    if len(head) != HEADER_SIZE:
        return None
    sig, fmt = head[:8], int.from_bytes(head[8:12], "little")
    if sig != SIGNATURE or fmt != FORMAT:
        return None
    return int.from_bytes(head[20:24], "little")
