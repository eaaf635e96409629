"""Locating JSON pointers in TOML text (embedcfg._locate)."""

from __future__ import annotations

from embedcfg import codec
from embedcfg._locate import Locator
from embedcfg.errors import Problem


def test_array_element_on_the_keys_line() -> None:
    """An element of a one-line array is at its own column, not the key's."""
    text = 'version = 1\n[options]\nmodule_search_paths = ["/usr/lib", "relative"]\n'
    assert (3, 36) == Locator(text, "toml").find("/options/module_search_paths/1")


def test_array_element_on_a_line_of_its_own() -> None:
    """In an array spread over lines (with comments), each element is where it is."""
    text = 'warnoptions = [ # first\n  "default",  # not ] the end\n    7,\n]\n'
    locator = Locator(text, "toml")
    assert [(2, 3), (3, 5)] == [locator.find(f"/warnoptions/{i}") for i in (0, 1)]


def test_keys_of_inline_tables_inside_arrays() -> None:
    """Inline tables are walked too: a key inside one is located at that key."""
    text = 'x = [1, {name = "a", init = 5}]\n'
    assert (1, 22) == Locator(text, "toml").find("/x/1/init")


def test_a_bracket_line_inside_an_array_is_not_a_header() -> None:
    """A line of a multi-line array that looks like [table] does not change the table."""
    text = 'a = [\n  [ "b" ]\n]\nc = 1\n'
    locator = Locator(text, "toml")
    assert ((2, 3), (4, 1)) == (locator.find("/a/0"), locator.find("/c"))


def test_problem_in_an_array_gets_the_elements_column() -> None:
    """What validate prints: the line and column of the bad element."""
    parsed = codec.parse('[options]\nwarnoptions = ["x", 7]\n', "toml", file="a.toml")
    (located,) = parsed.locate([Problem("EC100", "m", "/options/warnoptions/1")])
    assert (located.line, located.col) == (2, 21)
