"""python -m inventory: print the stock report, then where each of the
application's modules came from.

A module of a read-only image should come from the bytecode precompiled at
build time: its __cached__ .pyc exists and matches the source, and the
import system never compiled it. The second point is watched directly:
SourceFileLoader.source_to_code is what the import system calls when it has
no usable .pyc, and it is wrapped here before the rest of the application is
imported. (The package's __init__ and this module are imported before the
wrapper exists; the .pyc check covers them.)
"""

import importlib.machinery
import importlib.util
import os
import sys

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
compiled = []
_source_to_code = importlib.machinery.SourceFileLoader.source_to_code


def _watched(self, data, path, *args, **kwargs):
    if os.path.dirname(os.path.abspath(path)) == PACKAGE_DIR:
        compiled.append(os.path.basename(path))
    return _source_to_code(self, data, path, *args, **kwargs)


importlib.machinery.SourceFileLoader.source_to_code = _watched

from . import report  # noqa: E402  (imports pricing, which imports models)


def pyc_status(module):
    """How the module's .pyc (its __cached__) stands against its source."""
    source, cached = module.__file__, getattr(module, "__cached__", None)
    try:
        with open(cached, "rb") as f:
            head = f.read(16)
    except (OSError, TypeError):
        return "no pyc"
    if head[:4] != importlib.util.MAGIC_NUMBER:
        return "pyc of another CPython"
    flags = int.from_bytes(head[4:8], "little")
    if flags == 0:
        st = os.stat(source)
        fresh = (int.from_bytes(head[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
                 and int.from_bytes(head[12:16], "little") == st.st_size & 0xFFFFFFFF)
        kind = "timestamp"
    else:
        with open(source, "rb") as f:
            fresh = importlib.util.source_hash(f.read()) == head[8:16]
        kind = "checked hash" if flags & 2 else "unchecked hash"
    return "%s pyc %s" % (kind, "matching the source" if fresh else "STALE")


def main():
    for line in report.lines():
        print(line)
    print("writes bytecode:", not sys.dont_write_bytecode)
    root = os.path.dirname(PACKAGE_DIR)
    # By the name it was imported as (this module runs as __main__).
    ours = {m.__spec__.name: m for m in list(sys.modules.values())
            if getattr(m, "__spec__", None) and m.__spec__.name.split(".")[0] == __package__}
    for name, module in sorted(ours.items()):
        cached = getattr(module, "__cached__", None)
        where = os.path.relpath(cached, root) if cached else "-"
        print("%s: %s, %s" % (name, where, pyc_status(module)))
    print("compiled from source:", ", ".join(compiled) or "none")


main()
