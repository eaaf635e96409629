"""Find where a JSON pointer lives in the text of a document.

The stdlib parsers return values without positions. Locating is only needed
when there is something to report, so it is a second, cheap pass over the
text instead of a slower positional parser on every load.
"""

from __future__ import annotations

import bisect
import json.decoder
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import pointer_from_parts, pointer_parts

__all__ = ["Locator", "first_too_deep", "line_col"]

Position = Tuple[int, int]  # 1-based line and column

# The stdlib's JSON string scanner (C accelerated); typeshed does not
# declare it, hence the typed alias.
_scanstring: Callable[[str, int], Tuple[str, int]] = getattr(json.decoder, "scanstring")
_WS = re.compile(r"[ \t\r\n]*")


def _skip_ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    assert m is not None  # the pattern matches the empty string
    return m.end()
_SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null|NaN|-?Infinity")


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1


def line_col(text: str, offset: int) -> Position:
    """1-based line and column of a character offset."""
    return _LineIndex(text).position(offset)


def first_too_deep(text: str, limit: int) -> int:
    """Offset of the first bracket that opens level ``limit + 1``, or -1.

    Quotes are tracked so brackets inside strings do not count; this is
    exact for JSON and close enough for TOML to point at the right line.
    """
    depth = 0
    quote = ""
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return i
        elif ch in "]}":
            depth -= 1
    return -1


class Locator:
    """Positions of the keys and values of one document."""

    def __init__(self, text: str, fmt: str) -> None:
        self._lines = _LineIndex(text)
        self.positions: Dict[str, int] = {}
        #: (pointer, offset) of every key that repeats an earlier one.
        self.duplicates: List[Tuple[str, int]] = []
        try:
            if fmt == "json":
                self._scan_json(text)
            else:
                self._scan_toml(text)
        except (ValueError, IndexError, RecursionError):
            # Locating is best effort: a text the parser rejected may stop
            # the scan early; what was found so far is still right.
            pass

    def find(self, pointer: str) -> Optional[Position]:
        """The position of ``pointer``, or of its nearest located ancestor."""
        parts = list(pointer_parts(pointer))
        while True:
            offset = self.positions.get(pointer_from_parts(parts))
            if offset is not None:
                return self._lines.position(offset)
            if not parts:
                return None
            parts.pop()

    # JSON: an iterative walk over the text, with an explicit stack so that
    # deep nesting cannot exhaust the C stack.
    def _scan_json(self, text: str) -> None:
        # Each frame: [is_object, path of the container, keys seen, index].
        stack: List[List[Any]] = []
        path: List[object] = []
        i = _skip_ws(text, 0)
        self.positions[""] = i
        expect_value = True
        while i < len(text):
            if expect_value:
                ch = text[i]
                if ch in "{[":
                    is_object = ch == "{"
                    stack.append([is_object, list(path), set(), 0])
                    i = _skip_ws(text, i + 1)
                    if text[i] in "}]":
                        stack.pop()
                        i += 1
                        expect_value = False
                    elif is_object:
                        i = self._json_key(text, i, stack[-1], path)
                    else:
                        path = stack[-1][1] + [0]
                        self.positions[pointer_from_parts(path)] = i
                    continue
                if ch == '"':
                    _, i = _scanstring(text, i + 1)
                else:
                    m = _SCALAR.match(text, i)
                    if m is None:
                        return
                    i = m.end()
                expect_value = False
                continue
            i = _skip_ws(text, i)
            if i >= len(text) or not stack:
                return
            frame = stack[-1]
            ch = text[i]
            if ch == ",":
                i = _skip_ws(text, i + 1)
                if frame[0]:
                    i = self._json_key(text, i, frame, path)
                else:
                    frame[3] += 1
                    path = frame[1] + [frame[3]]
                    self.positions[pointer_from_parts(path)] = i
                expect_value = True
            elif ch in "}]":
                stack.pop()
                path = list(frame[1])
                i += 1
            else:
                return

    def _json_key(self, text: str, i: int, frame: List[Any], path: List[object]) -> int:
        """Record the key at ``i``; return the offset of its value."""
        start = i
        key, i = _scanstring(text, i + 1)
        path[:] = frame[1] + [key]
        pointer = pointer_from_parts(path)
        if key in frame[2]:
            self.duplicates.append((pointer, start))
        else:
            frame[2].add(key)
            # An object member is reported at its key, where the eye looks.
            self.positions[pointer] = start
        i = _skip_ws(text, i)
        if text[i] != ":":
            raise ValueError("expected ':'")
        return _skip_ws(text, i + 1)

    # TOML: a line scanner for headers and key/value lines. Arrays and inline
    # tables are walked to the end of the value, wherever it ends, so that
    # an element is located at its own line and column; multi-line strings
    # at their key.
    _HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEYLINE = re.compile(r"\s*((?:[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
                          r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*'))*)\s*=")
    _KEYPART = re.compile(r"[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*'")

    @classmethod
    def _toml_key(cls, dotted: str) -> List[str]:
        parts = []
        for m in cls._KEYPART.finditer(dotted):
            p = m.group(0)
            if p.startswith('"'):
                p = json.loads(p)
            elif p.startswith("'"):
                p = p[1:-1]
            parts.append(p)
        return parts

    _TOML_SPACE = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")
    _TOML_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')
    _TOML_MULTI_BASIC = re.compile(r'"""(?:[^\\]|\\.)*?"""(?!")|"""(?:[^\\]|\\.)*?"{3,5}',
                                   re.DOTALL)
    _TOML_MULTI_LITERAL = re.compile(r"'''.*?'{3,5}", re.DOTALL)
    _TOML_SCALAR = re.compile(r"[^\s,\]\}#]+(?: [0-9:.+Z-]+)?")

    def _toml_space(self, text: str, i: int) -> int:
        m = self._TOML_SPACE.match(text, i)
        assert m is not None  # the pattern matches the empty string
        return m.end()

    def _toml_value(self, text: str, i: int, path: List[object]) -> int:
        """Record where the elements and keys of the value at ``i`` are;
        return the offset just past it. Raises ValueError (or IndexError)
        on a text the scanner does not follow."""
        ch = text[i]
        if ch in "[{":
            close, index = ("]", 0) if ch == "[" else ("}", -1)
            i = self._toml_space(text, i + 1)
            while text[i] != close:
                if index >= 0:
                    sub = path + [index]
                    self.positions[pointer_from_parts(sub)] = i
                    i = self._toml_value(text, i, sub)
                    index += 1
                else:
                    m = self._KEYLINE.match(text, i)
                    if m is None:
                        raise ValueError("expected a key")
                    sub = path + self._toml_key(m.group(1))
                    self.positions.setdefault(pointer_from_parts(sub), m.start(1))
                    i = self._toml_value(text, self._toml_space(text, m.end()), sub)
                i = self._toml_space(text, i)
                if text[i] == ",":
                    i = self._toml_space(text, i + 1)
                elif text[i] != close:
                    raise ValueError(f"expected ',' or {close!r}")
            return i + 1
        for pattern in (self._TOML_MULTI_BASIC, self._TOML_MULTI_LITERAL, self._TOML_BASIC):
            m = pattern.match(text, i)
            if m is not None:
                return m.end()
        if ch == "'":
            return text.index("'", i + 1) + 1
        m = self._TOML_SCALAR.match(text, i)
        if m is None:
            raise ValueError("expected a value")
        return m.end()

    def _scan_toml(self, text: str) -> None:
        self.positions[""] = 0
        table: List[object] = []
        arrays: Dict[str, int] = {}
        seen_in: Dict[str, set[str]] = {}
        offset = 0
        in_multiline = ""
        value_end = 0  # lines before it belong to an array or inline table
        for line in text.splitlines(keepends=True):
            start = offset
            offset += len(line)
            if start < value_end:
                continue
            stripped = line.strip()
            if in_multiline:
                if in_multiline in line:
                    in_multiline = ""
                continue
            if not stripped or stripped.startswith("#"):
                continue
            header = self._HEADER.match(line) if stripped.startswith("[") else None
            if header:
                parts: List[object] = list(self._toml_key(header.group(2)))
                col = start + line.index("[")
                if header.group(1) == "[[":
                    key = pointer_from_parts(parts)
                    index = arrays.get(key, -1) + 1
                    arrays[key] = index
                    if key not in self.positions:
                        self.positions[key] = col
                    parts.append(index)
                    table = parts
                    self.positions[pointer_from_parts(table)] = col
                else:
                    table = parts
                    pointer = pointer_from_parts(table)
                    if pointer in self.positions and pointer in seen_in:
                        self.duplicates.append((pointer, col))
                    self.positions.setdefault(pointer, col)
                seen_in.setdefault(pointer_from_parts(table), set())
                continue
            keyline = self._KEYLINE.match(line)
            if not keyline:
                continue
            keys = self._toml_key(keyline.group(1))
            full = pointer_from_parts(table + keys)
            col = start + keyline.start(1)
            scope = seen_in.setdefault(pointer_from_parts(table), set())
            if full in scope:
                self.duplicates.append((full, col))
            else:
                scope.add(full)
                self.positions.setdefault(full, col)
            rest = line[keyline.end():]
            value = start + keyline.end() + len(rest) - len(rest.lstrip(" \t"))
            if text[value:value + 1] in ("[", "{"):
                try:
                    value_end = self._toml_value(text, value, table + keys)
                except (ValueError, IndexError):
                    pass  # what was found so far is right; the lines go on
                continue
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
