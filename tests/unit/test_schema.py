"""The generated JSON Schema and its evaluator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedcfg import codec, schema
from embedcfg.options import OPTIONS
from tests.strategies import configs


def test_committed_schema_is_fresh(root: Path) -> None:
    """schema/embedcfg-1.schema.json is exactly what build_schema() generates."""
    committed = (root / schema.SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == schema.render(), "run: python -m embedcfg.generate"


def test_schema_is_valid_2020_12() -> None:
    """The schema passes the 2020-12 metaschema."""
    jsonschema.Draft202012Validator.check_schema(schema.build_schema())


def _descriptions(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for name, sub in props.items():
                yield f"{path}/{name}", "description" in sub
                yield from _descriptions(sub, f"{path}/{name}")
        if isinstance(node.get("items"), dict):
            yield from _descriptions(node["items"], f"{path}[]")


def test_every_property_has_a_description() -> None:
    """Editors show descriptions: every property has one."""
    missing = [p for p, has in _descriptions(schema.build_schema()) if not has]
    assert missing == []


def test_schema_has_an_id_and_every_option() -> None:
    """$id is set and every option of the table is a property."""
    s = schema.build_schema()
    assert s["$id"] == schema.SCHEMA_ID
    assert list(s["properties"]["options"]["properties"]) == list(OPTIONS)


# The evaluator and jsonschema must agree.

_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.sampled_from([-1, 0, 640, 2**32])
    | st.text(max_size=5) | st.sampled_from(["default", "prefix", "isolated", "never"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6,
)


@st.composite
def near_documents(draw: st.DrawFn) -> Any:
    """Documents close to valid ones: a valid document with some values replaced."""
    raw = codec.unstructure(draw(configs))
    for _ in range(draw(st.integers(0, 3))):
        section = draw(st.sampled_from(["options", "top", "inittab", "pycache"]))
        value = draw(_values)
        if section == "options" and isinstance(raw.setdefault("options", {}), dict):
            raw["options"][draw(st.sampled_from(sorted(OPTIONS)))] = value
        elif section == "top":
            raw[draw(st.sampled_from(["version", "profile", "lib", "embedded", "inittab",
                                      "pycache", "options", "extra"]))] = value
        elif (section == "inittab" and isinstance(raw.get("inittab"), list) and raw["inittab"]
              and isinstance(raw["inittab"][0], dict)):
            raw["inittab"][0][draw(st.sampled_from(["name", "init", "library", "x"]))] = value
        elif section == "pycache":
            pc = raw.get("pycache")
            if isinstance(pc, dict):
                pc[draw(st.sampled_from(["mode", "prefix", "check", "y"]))] = value
    if draw(st.booleans()):
        raw.pop("version", None)
    return raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_documents())
def test_evaluator_agrees_with_jsonschema(raw: Any) -> None:
    """Same verdict, and the same failing locations, as the reference implementation."""
    ours = list(schema.iter_problems(raw))
    ref = list(schema.iter_reference_problems(raw))
    assert bool(ours) == bool(ref), (ours, ref)


def test_float_integers_are_refused_unlike_jsonschema() -> None:
    """1.0 is an integer to JSON Schema but not to embedcfg: the C API takes int64."""
    raw = {"version": 1, "options": {"verbose": 1.0}}
    assert [p.code for p in schema.iter_problems(raw)] == ["EC100"]


@pytest.mark.parametrize(("raw", "message"), [
    ({"version": 1, "options": {"utf8_mode": 1}}, "option 'utf8_mode' must be true or false,"
     " found an integer (1); write true"),
    ({"version": 1, "options": {"verbose": "3"}}, "option 'verbose' must be an integer, found"
     " a string (\"3\"); write 3 without quotes"),
    ({"version": 1, "options": {"verbose": True}}, "option 'verbose' must be an integer, found"
     " a boolean (true); write 1"),
    ({"version": 1, "options": {"cpu_count": 0}}, "option 'cpu_count' must be -1 or >= 1,"
     " found 0"),
    ({"version": 1, "options": {"hash_seed": 2**32}}, "option 'hash_seed' must be"
     " 0..4294967295, found 4294967296"),
    ({"version": 1, "options": {"argv": "x"}}, "option 'argv' must be an array, found a string"
     " (\"x\"); write [\"x\"]"),
    ({"version": 1, "options": {"alocator": "malloc"}}, "unknown option 'alocator'; did you"
     " mean 'allocator'?"),
    ({"version": 1, "profiles": "python"}, "unknown key 'profiles' at the top level; did you"
     " mean 'profile'?"),
    ({"version": 2}, "version must be 1, found 2"),
    ({}, "the document needs the key 'version' (add version = 1)"),
    ({"version": 1, "pycache": {"mode": "prefixed"}}, "pycache.mode must be one of \"default\","
     " \"prefix\", \"readonly\", \"off\", found \"prefixed\"; did you mean 'prefix'?"),
    ({"version": 1, "inittab": [{"init": "PyInit_x"}]}, "inittab[0] needs the key 'name'"),
    ({"version": 1, "lib": ""}, "lib must not be empty"),
    ({"version": 1, "static_modules": "auto"}, "static_modules must be one of \"inittab\","
     " \"indexed\", found \"auto\""),
    ({"version": 1, "options": {"static_modules": "indexed"}}, "unknown option"
     " 'static_modules': 'static_modules' is a top-level key; move it above [options] (in"
     " JSON, out of \"options\")"),
])
def test_messages(raw: Any, message: str) -> None:
    """Messages say what was expected, what was found, and how to fix it."""
    assert [p.message for p in schema.iter_problems(raw)] == [message]


def test_all_problems_are_collected() -> None:
    """The evaluator never stops at the first problem."""
    raw = {"version": 1, "options": {"utf8_mode": 5, "verbose": -1, "nope": 1},
           "inittab": [{"name": 1}, {"name": "a", "x": 1}]}
    assert [(p.code, p.pointer) for p in schema.iter_problems(raw)] == [
        ("EC100", "/options/utf8_mode"), ("EC103", "/options/verbose"),
        ("EC102", "/options/nope"), ("EC100", "/inittab/0/name"), ("EC101", "/inittab/1/x")]


def test_schema_json_is_plain_data() -> None:
    """The rendered schema is JSON that loads back to the generated dict."""
    assert json.loads(schema.render()) == schema.build_schema()
