"""requires_python means the same in Python (validate) and in C (the launcher).

The specifier is matched twice, by ``embedcfg.checks`` and by the shim's
``embedcfg_version_matches`` (the launcher has no Python to ask); this
compares the two on generated specifiers and versions, through the real
shim library loaded with ctypes (no interpreter is initialized by it).
"""

from __future__ import annotations

import ctypes
import io
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedcfg import build, shim
from embedcfg.checks import _satisfies, parse_requires_python


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """The shim library built for this interpreter."""
    built = build.build(cache=tmp_path_factory.mktemp("cache"), stderr=io.StringIO())
    return shim.load_library(built.shim)


def _python(spec: str, version: "tuple[int, int, int]") -> Optional[bool]:
    try:
        return _satisfies(version, parse_requires_python(spec))
    except ValueError:
        return None


def _c(lib: ctypes.CDLL, spec: str, version: "tuple[int, int, int]") -> Optional[bool]:
    err = ctypes.create_string_buffer(256)
    rc = lib.embedcfg_version_matches(spec.encode("utf-8"), *version, err, len(err))
    return None if rc < 0 else bool(rc)


_part = st.sampled_from(["3", "3.8", "3.11", "3.11.2", "3.*", "3.12.*", "4", "3.x", "",
                         "3.9.0", "2.7", "3.10.*.1"])
_op = st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~=", "=", "==="])
_item = st.builds(lambda sp1, op, v, sp2: f"{sp1}{op}{v}{sp2}", st.sampled_from(["", " "]),
                  _op, _part, st.sampled_from(["", " "]))
_spec = st.lists(_item, min_size=1, max_size=3).map(",".join)
_version = st.tuples(st.just(3), st.integers(7, 15), st.integers(0, 12))


@settings(max_examples=400, deadline=None)
@given(spec=_spec, version=_version)
def test_c_and_python_agree(lib: ctypes.CDLL, spec: str, version: "tuple[int, int, int]") -> None:
    """Both accept the same specifiers, and match the same versions."""
    assert _c(lib, spec, version) == _python(spec, version), spec


@pytest.mark.parametrize("spec, version, expected", [
    (">=3.8,<3.14", (3, 11, 2), True),
    ("==3.11.*", (3, 12, 0), False),
    ("~=3.10", (3, 13, 0), True),
    ("~=3.10.2", (3, 11, 0), False),
    ("!=3.9.*", (3, 9, 7), False),
    ("python3.11", (3, 11, 0), None),
])
def test_known_cases(lib: ctypes.CDLL, spec: str, version: "tuple[int, int, int]",
                     expected: Optional[bool]) -> None:
    """A few fixed cases, so the property cannot pass with both sides wrong alike."""
    assert (_python(spec, version), _c(lib, spec, version)) == (expected, expected)
