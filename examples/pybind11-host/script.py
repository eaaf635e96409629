"""A script the pybind11 host runs: it uses the host's embedded module and
says what the document set. ``--exit N`` exits with status N."""

import sys

import host

print(f"hello from {host.name()}: CPython {sys.version.split()[0]}")
print(f"argv: {sys.argv[1:]}")
print(f"host.add(2, 3) = {host.add(2, 3)}")
print(f"site imported: {'site' in sys.modules}")
print(f"utf-8 mode: {bool(sys.flags.utf8_mode)}")
print(f"warnoptions: {sys.warnoptions}")
print(f"writes bytecode: {not sys.dont_write_bytecode}")
if sys.argv[1:2] == ["--exit"]:
    sys.exit(int(sys.argv[2]))
