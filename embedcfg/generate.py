"""Regenerate every file that follows from the option table and the document's description.

One command for all of them, run from a checkout::

    python -m embedcfg.generate            # rewrite what is stale
    python -m embedcfg.generate --check    # exit 1 naming each stale file

The files are committed (editors, the forge and the C compiler read them as
they are); the tests run ``--check``, as CPython checks its generated files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

__all__ = ["outputs", "main", "stale"]

ROOT = Path(__file__).resolve().parent.parent


def outputs() -> Dict[str, Callable[[], str]]:
    """Each generated file, relative to the checkout, and what produces its text."""
    from . import _ctable, _pages, schema

    made: Dict[str, Callable[[], str]] = {
        schema.SCHEMA_FILE: schema.render,
        f"capi_shim/{_ctable.HEADER_NAME}": _ctable.generate,
        f"capi_shim/{_ctable.DOCUMENT_HEADER_NAME}": _ctable.generate_document,
    }
    for rel, page in _pages.PAGES.items():
        made[f"docs/{rel}"] = page
    return made


def stale(root: Path = ROOT) -> List[str]:
    """The generated files under ``root`` whose text is not what the code gives."""
    found = []
    for rel, make in outputs().items():
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != make():
            found.append(rel)
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Write the generated files, or with ``--check`` report the stale ones."""
    p = argparse.ArgumentParser(prog="python -m embedcfg.generate",
                                description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--check", action="store_true", help="exit 1 when a file is stale")
    p.add_argument("--root", type=Path, default=ROOT,
                   help="the checkout to write into (default: this one)")
    args = p.parse_args(argv)
    root: Path = args.root
    if not (root / "pyproject.toml").is_file() or not (root / "capi_shim").is_dir():
        sys.stderr.write(f"embedcfg.generate: {root} is not an embedcfg checkout (no"
                         " pyproject.toml and capi_shim/); pass --root CHECKOUT\n")
        return 2
    old = stale(root)
    if args.check:
        for rel in old:
            sys.stderr.write(f"{rel} is stale: run python -m embedcfg.generate\n")
        return 1 if old else 0
    made = outputs()
    for rel in old:
        (root / rel).write_text(made[rel](), encoding="utf-8")
        sys.stdout.write(f"wrote {rel}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
