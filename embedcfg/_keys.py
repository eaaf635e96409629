"""How a field of the model describes its key in the document.

The model (:mod:`embedcfg.model`) declares every key once, as an attrs field;
its ``metadata`` (made by :func:`key`) adds what the field's type cannot say.
:mod:`embedcfg.document` reads the whole description off the model. This
module is a leaf, so the model can use it without importing the reader.
"""

from __future__ import annotations

import enum
from typing import Dict, Optional

import attrs

from .options import PathUse

__all__ = ["META", "PATH_NOTE", "Anchoring", "KeyInfo", "PathRule", "key"]

#: What the schema and the docs say of every path value.
PATH_NOTE = ("Absolute, or anchored at $ORIGIN (the launcher's directory) or $CONFIG_DIR"
             " (this document's directory).")


class Anchoring(enum.Enum):
    """Which spellings a path value may take."""

    #: Absolute, or anchored at $ORIGIN / $CONFIG_DIR.
    ANCHORED = "anchored"
    #: The same, or a library name without '/', which dlopen searches in the
    #: system directories only.
    LIBRARY = "library"


@attrs.frozen
class PathRule:
    """A key whose value is a path: how it may be written, what is loaded."""

    anchoring: Anchoring = Anchoring.ANCHORED
    #: What the interpreter loads from it; the security checks (Python's and
    #: the launcher's) refuse it when other users can change that.
    use: Optional[PathUse] = None


@attrs.frozen
class KeyInfo:
    """What the description says of one model field (its ``metadata``)."""

    doc: str
    required: bool = False
    non_empty: bool = False
    path: Optional[PathRule] = None


#: The metadata key under which a field keeps its KeyInfo.
META = "embedcfg"


def key(doc: str, *, required: bool = False, non_empty: bool = False,
        path: Optional[PathRule] = None) -> Dict[str, KeyInfo]:
    """The ``metadata`` of a model field: its key's description."""
    return {META: KeyInfo(doc, required=required, non_empty=non_empty, path=path)}
