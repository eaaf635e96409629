"""Reading and writing documents."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings

import embedcfg
from embedcfg import codec
from embedcfg.model import (
    EmbedConfig,
    InittabEntry,
    Profile,
    Pycache,
    PycacheMode,
    StaticModules,
)
from tests.strategies import configs


@settings(max_examples=150, deadline=None)
@given(configs)
def test_round_trip_json(cfg: EmbedConfig) -> None:
    """model -> JSON -> model is the identity."""
    assert cfg == embedcfg.loads(embedcfg.dumps(cfg, "json"), "json")


@settings(max_examples=150, deadline=None)
@given(configs)
def test_round_trip_toml(cfg: EmbedConfig) -> None:
    """model -> TOML -> model is the identity."""
    assert cfg == embedcfg.loads(embedcfg.dumps(cfg, "toml"), "toml")


@settings(max_examples=100, deadline=None)
@given(configs)
def test_canonical_is_stable_json(cfg: EmbedConfig) -> None:
    """The canonical form is sorted compact UTF-8 JSON that loads back to the model."""
    data = codec.canonical(cfg)
    raw = json.loads(data.decode("utf-8"))
    assert data == json.dumps(raw, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")
    assert cfg == embedcfg.loads(data, "json")


def test_defaults_are_left_out_but_version_and_profile_stay():
    """A default document says only what a reader needs to see."""
    assert codec.unstructure(EmbedConfig()) == {"version": 1, "profile": "isolated"}


def test_schema_key_is_accepted_and_dropped():
    """JSON documents may name their schema for editors."""
    cfg = embedcfg.loads('{"$schema": "x.json", "version": 1}', "json")
    assert cfg == EmbedConfig()


def test_dump_writes_atomically(tmp_path: Path) -> None:
    """dump() replaces the file in one step and leaves no temporary behind."""
    target = tmp_path / "app.toml"
    target.write_text("old")
    cfg = EmbedConfig(options={"site_import": False}, inittab=[InittabEntry("app._fast")],
                      pycache=Pycache(mode=PycacheMode.OFF))
    embedcfg.dump(cfg, target)
    assert embedcfg.load(target) == cfg
    assert sorted(os.listdir(tmp_path)) == ["app.toml"]


def test_dump_failure_leaves_old_file(tmp_path: Path) -> None:
    """A write that fails midway keeps the previous content."""
    target = tmp_path / "app.json"
    target.write_text("old")

    class Boom(Exception):
        pass

    def opener(**kw: object) -> object:
        fd, name = __import__("tempfile").mkstemp(**kw)
        os.close(fd)
        raise Boom()

    with pytest.raises(Boom):
        codec.write_atomic(target, b"new", opener=opener)  # type: ignore[arg-type]
    assert target.read_text() == "old"


@pytest.mark.parametrize(("fmt", "data", "code", "line", "col"), [
    ("json", b'{"version": 1, "version": 1}', "EC006", 1, 16),
    ("json", b'{"version": NaN}', "EC007", 1, 2),
    ("json", b'{"version": Infinity}', "EC007", 1, 2),
    ("json", b'{"version": 1e999}', "EC007", 1, 2),
    ("json", b'{"lib": "a\\u0000b"}', "EC008", 1, 2),
    ("json", b'{"lib": "a\x00b"}', "EC008", 1, 11),
    ("json", b'{"lib": "\\udc00"}', "EC009", 1, 2),
    ("json", b'{"lib": "\xff"}', "EC004", 1, 10),
    ("json", b"[" * 100000, "EC010", 1, 65),
    ("json", b'{"version": ' + b"9" * 5000 + b"}", "EC011", 1, 13),
    ("json", b'{"version": 1,}', "EC005", 1, 15),
    ("toml", b"version = 1\nversion = 2\n", "EC006", 2, 1),
    ("toml", b"version = 1\n[options]\n[options]\n", "EC006", 3, 1),
    ("toml", b'lib = "\\uD800"\n', "EC009", 1, 14),
    ("toml", b"version = nan\n", "EC007", 1, 1),
    ("toml", b"x = " + b"[" * 100000, "EC010", 1, 69),
    ("toml", b"version = " + b"9" * 5000, "EC011", 1, 11),
    ("toml", b"version = = 1", "EC005", 1, 11),
    ("toml", b'lib = "a\\u0000b"\n', "EC008", 1, 1),
])
def test_strict_reading(fmt: str, data: bytes, code: str, line: int, col: int) -> None:
    """What the stdlib parsers accept or crash on becomes one located problem."""
    parsed = codec.parse(data, fmt, file="doc")
    assert [(p.code, p.line, p.col) for p in parsed.problems] == [(code, line, col)]
    assert all(p.file == "doc" for p in parsed.problems)


def test_too_large(tmp_path: Path) -> None:
    """Files over 1 MiB are refused before parsing."""
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (codec.MAX_BYTES + 1))
    assert [p.code for p in codec.read(big).problems] == ["EC003"]


def test_bom_is_tolerated_in_toml_only():
    """A BOM is an editor's habit in TOML; JSON forbids it, and so does the C shim."""
    assert embedcfg.loads(b"\xef\xbb\xbfversion = 1\n", "toml") == EmbedConfig()
    parsed = codec.parse(b'\xef\xbb\xbf{"version": 1}', "json")
    assert [(p.code, p.line) for p in parsed.problems] == [("EC012", 1)]


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing file is a LoadError carrying an EC001 problem."""
    with pytest.raises(embedcfg.LoadError) as info:
        embedcfg.load(tmp_path / "missing.toml")
    assert info.value.problem.code == "EC001"


def test_unknown_extension(tmp_path: Path) -> None:
    """The format comes from the extension; an unknown one is EC002."""
    with pytest.raises(embedcfg.LoadError) as info:
        embedcfg.load(tmp_path / "doc.yaml")
    assert info.value.problem.code == "EC002"


def test_loads_raises_with_every_problem():
    """ConfigInvalid carries every schema problem, located."""
    with pytest.raises(embedcfg.ConfigInvalid) as info:
        embedcfg.loads("version = 1\nprofile = 'x'\n[options]\nutf8_mode = 2\n", "toml",
                       file="a.toml")
    assert [(p.code, p.line) for p in info.value.problems] == [("EC104", 2), ("EC100", 4)]
    assert str(info.value).startswith("a.toml:2:1: EC104")


def test_profile_enum_structures():
    """Enum values become enum members in the model."""
    assert embedcfg.loads('version = 1\nprofile = "python"\n').profile is Profile.PYTHON


def test_static_modules_in_every_form():
    """static_modules is a plain string in JSON, TOML and the canonical form, and an
    enum member in the model; absent stays absent (automatic)."""
    cfg = EmbedConfig(inittab=[InittabEntry("app._x")], static_modules=StaticModules.INDEXED)
    assert json.loads(codec.canonical(cfg))["static_modules"] == "indexed"
    assert 'static_modules = "indexed"' in embedcfg.dumps(cfg, "toml")
    assert embedcfg.loads(embedcfg.dumps(cfg, "toml")) == cfg
    assert embedcfg.loads(codec.canonical(cfg), "json") == cfg
    loaded = embedcfg.loads('version = 1\nstatic_modules = "inittab"\n')
    assert loaded.static_modules is StaticModules.INITTAB
    assert "static_modules" not in codec.unstructure(EmbedConfig(inittab=[InittabEntry("a")]))


def test_unstructure_gives_plain_json_types():
    """Tuples in the model (inittab, list options) become lists: the raw
    document is what a JSON or TOML file holds, and the schema checks it."""
    cfg = EmbedConfig(inittab=[InittabEntry("a"), InittabEntry("b.c", init="init_c")],
                      options={"warnoptions": ["error"]}, pycache=Pycache(mode=PycacheMode.OFF))
    assert codec.unstructure(cfg) == {
        "version": 1, "profile": "isolated", "options": {"warnoptions": ["error"]},
        "inittab": [{"name": "a"}, {"name": "b.c", "init": "init_c"}],
        "pycache": {"mode": "off"}}
    assert embedcfg.validate(cfg) == []


def test_schema_ref_of_toml_is_a_leading_comment_only() -> None:
    """#:schema counts before the first key; later it is an ordinary comment."""
    first = codec.parse("# app\n#:schema s.json\nversion = 1\n", "toml")
    later = codec.parse("version = 1\n#:schema s.json\n", "toml")
    assert (first.schema_ref, later.schema_ref) == ("s.json", None)
