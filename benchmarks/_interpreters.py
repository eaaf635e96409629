"""``--python`` for the benchmarks: a path, or a CPython minor such as ``3.14``.

A minor is looked up as the tests find interpreters (:mod:`tests.pythons`):
pyenv's builds, and the 3.14 test-data build beside the checkout.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def resolve(spec: str) -> str:
    """The interpreter ``spec`` names; SystemExit with the reason when a minor is absent."""
    match = re.fullmatch(r"(\d+)\.(\d+)", spec)
    if match is None:
        return spec
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.pythons import installed_pythons, missing_reason

    minor = (int(match.group(1)), int(match.group(2)))
    found = installed_pythons().get(minor)
    if found is None:
        raise SystemExit(missing_reason(minor))
    return str(found)
