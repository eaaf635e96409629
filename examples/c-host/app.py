"""The application c-host runs: say what the document set, then exit with
the status given by ``--exit N``."""

import sys

print(f"hello from c-host: CPython {sys.version.split()[0]}")
print(f"argv: {sys.argv[1:]}")
print(f"site imported: {'site' in sys.modules}")
print(f"utf-8 mode: {bool(sys.flags.utf8_mode)}")
print(f"writes bytecode: {not sys.dont_write_bytecode}")
if sys.argv[1:2] == ["--exit"]:
    sys.exit(int(sys.argv[2]))
