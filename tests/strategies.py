"""Hypothesis strategies for documents."""

from __future__ import annotations

from typing import Any, Dict

from hypothesis import strategies as st

from embedcfg.model import (
    EmbedConfig,
    HashCheck,
    InittabEntry,
    Profile,
    Pycache,
    PycacheMode,
    StaticModules,
)
from embedcfg.options import OPTIONS, Kind, Option

# Text that survives every format: no NUL, no surrogates (both are rejected).
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=20)
identifier = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


def option_value(opt: Option) -> st.SearchStrategy[Any]:
    """Valid values of one option."""
    kind = opt.value_kind
    if kind is Kind.BOOL:
        return st.booleans()
    if kind is Kind.STR:
        return st.sampled_from(list(opt.choices)) if opt.choices is not None else text
    if kind is Kind.STR_LIST:
        return st.lists(text, max_size=4).map(tuple)
    assert opt.minimum is not None and opt.maximum is not None
    ints = st.integers(opt.minimum, opt.maximum)
    return st.one_of(ints, st.sampled_from(opt.also)) if opt.also else ints


@st.composite
def options(draw: st.DrawFn) -> Dict[str, Any]:
    """A valid [options] table."""
    names = draw(st.lists(st.sampled_from(sorted(OPTIONS)), unique=True, max_size=12))
    return {n: draw(option_value(OPTIONS[n])) for n in names}


inittab_entries = st.builds(
    InittabEntry,
    name=st.lists(identifier, min_size=1, max_size=3).map(".".join),
    init=st.none() | identifier,
    library=st.none() | text.filter(bool),
)

pycaches = st.builds(
    Pycache,
    mode=st.none() | st.sampled_from(PycacheMode),
    prefix=st.none() | text.filter(bool),
    check=st.none() | st.sampled_from(HashCheck),
)

configs = st.builds(
    EmbedConfig,
    profile=st.sampled_from(Profile),
    lib=st.none() | text.filter(bool),
    requires_python=st.none() | text.filter(bool),
    embedded=st.booleans(),
    options=options(),
    inittab=st.lists(inittab_entries, max_size=3).map(tuple),
    static_modules=st.none() | st.sampled_from(StaticModules),
    pycache=st.none() | pycaches,
)
