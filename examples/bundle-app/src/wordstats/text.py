"""Words of a text: normalized (NFKC, case-folded) and counted."""

import pkgutil
import re
import unicodedata  # a C extension module of the standard library (lib-dynload)
from collections import Counter
from typing import TYPE_CHECKING, List, Tuple

if TYPE_CHECKING:  # for the type checker only: not needed in the bundle
    from collections.abc import Iterable

WORD = re.compile(r"\w+")


def stopwords() -> "frozenset[str]":
    """The words left out, from the package's data file (inside the bundle's archive)."""
    data = pkgutil.get_data("wordstats", "data/stopwords.txt")
    assert data is not None
    return frozenset(data.decode("utf-8").split())


def words(text: str) -> List[str]:
    """The words of ``text``, normalized."""
    return WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def count(items: "Iterable[str]", skip: "frozenset[str]") -> Tuple["Counter[str]", int]:
    """How often each word occurs, without ``skip``; and how many were skipped."""
    kept = Counter()  # type: Counter[str]
    skipped = 0
    for w in items:
        if w in skip:
            skipped += 1
        else:
            kept[w] += 1
    return kept, skipped
