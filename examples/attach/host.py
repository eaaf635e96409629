"""A Python program that is already running Python (a plugin host, a
notebook kernel, Julia through juliacall) adopts a document's settings with
embedcfg.attach() and prints, option by option, what was applied.

    python examples/attach/host.py [DOCUMENT]     # default: attach.toml beside this file

Exit status: 0 attached (options fixed at init are reported, not fatal);
1 the document has errors; 78 the shim refused it (for example
``embedded = false``: this process already runs an interpreter).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import embedcfg

EX_CONFIG = 78


def main(argv: "list[str]") -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().with_name("attach.toml")
    cfg = embedcfg.load(path)
    errors = [p for p in embedcfg.validate(cfg) if p.is_error]
    for p in errors:
        print(f"{path}: {p.code} {p.message}", file=sys.stderr)
    if errors:
        return 1
    try:
        # $CONFIG_DIR is the document's directory, as for the launcher.
        report = embedcfg.attach(cfg, config_dir=str(path.resolve().parent))
    except embedcfg.ShimError as e:
        print(f"attach: error: {e}", file=sys.stderr)
        return EX_CONFIG
    print(f"attached to CPython {sys.version.split()[0]}")
    for item in report.items:
        status = "applied" if item.applied else "not applied"
        print(f"{item.option}: {status} ({item.detail})")

    # The running interpreter now follows the document.
    try:
        import greeting  # found on the attached module search path
        print(f"greeting: {greeting.hello()}")
    except ImportError:
        print("greeting: not importable")
    try:
        warnings.warn("an old API", DeprecationWarning)
        print("DeprecationWarning raises: False")
    except DeprecationWarning:
        print("DeprecationWarning raises: True")
    print(f"writes bytecode: {not sys.dont_write_bytecode}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
