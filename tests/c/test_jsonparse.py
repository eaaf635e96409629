"""Tests of the C document parser (capi_shim/jsonparse.c).

Everything here compiles real C with the system gcc and runs it as a separate
process, under AddressSanitizer and UndefinedBehaviorSanitizer where it runs
parser code, so a crash, a leak or an out-of-bounds read fails a test rather
than the test process.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "capi_shim"
HERE = Path(__file__).resolve().parent
PARSER_C = SHIM / "jsonparse.c"
UTF8_C = SHIM / "utf8.c"  # the parser's encoding check
DRIVER_C = HERE / "json_driver.c"
FUZZ_C = HERE / "fuzz_jsonparse.c"
DATA = ROOT / "tests" / "data"

GCC_PATH = shutil.which("gcc")
GCC = GCC_PATH or "gcc"
GXX = shutil.which("g++")
WARNINGS = [
    "-Wall", "-Wextra", "-Wconversion", "-Wsign-conversion", "-Wshadow",
    "-Wstrict-prototypes", "-pedantic", "-Werror",
]
SANITIZE = [
    "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1",
    "-fno-omit-frame-pointer",
]
SANITIZER_ENV = {
    **os.environ,
    "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:abort_on_error=0",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
MAX_SIZE = 1048576
WORKERS = os.cpu_count() or 2

pytestmark = pytest.mark.skipif(
    GCC_PATH is None, reason="gcc not found: these tests compile the C parser"
)


# --- building -----------------------------------------------------------------


def compile_c(args: list[str], cwd: Path) -> None:
    """Run gcc/g++ and fail with its diagnostics if it does not succeed."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stderr}"
    assert result.stderr == "", result.stderr


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jsonparse")


@pytest.fixture(scope="session")
def driver(build_dir: Path) -> Path:
    """The json_driver, built once with ASan and UBSan."""
    exe = build_dir / "json_driver_asan"
    compile_c(
        [GCC, "-std=c99", *WARNINGS, *SANITIZE, f"-I{SHIM}",
         str(PARSER_C), str(UTF8_C), str(DRIVER_C), "-o", str(exe)],
        build_dir,
    )
    return exe


# Feeds length-prefixed cases from one file to the fuzz entry point, so tens
# of thousands of inputs cost one process start instead of one each.
FUZZ_MAIN_C = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    FILE *f;
    unsigned char header[4];
    long cases = 0;

    if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
        return 2;
    }
    while (fread(header, 1, 4, f) == 4) {
        size_t size = (size_t)header[0] | (size_t)header[1] << 8
                      | (size_t)header[2] << 16 | (size_t)header[3] << 24;
        uint8_t *data = malloc(size > 0 ? size : 1);

        if (data == NULL || fread(data, 1, size, f) != size) {
            return 2;
        }
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        cases++;
    }
    fclose(f);
    printf("%ld\n", cases);
    return 0;
}
"""


@pytest.fixture(scope="session")
def fuzz_runner(build_dir: Path) -> Path:
    """The libFuzzer entry point linked with a batch main, with sanitizers."""
    main_c = build_dir / "fuzz_main.c"
    main_c.write_text(FUZZ_MAIN_C)
    exe = build_dir / "fuzz_runner_asan"
    compile_c(
        [GCC, "-std=c99", *WARNINGS, *SANITIZE, f"-I{SHIM}",
         str(PARSER_C), str(UTF8_C), str(FUZZ_C), str(main_c), "-o", str(exe)],
        build_dir,
    )
    return exe


def run(exe: Path, data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(exe)], input=data, capture_output=True, env=SANITIZER_ENV,
        timeout=60,
    )


def parse(driver: Path, data: bytes) -> tuple[int, str]:
    """Run the driver on data; return its exit code and stdout, and insist
    that it did nothing else."""
    result = run(driver, data)
    assert result.stderr == b"", result.stderr.decode(errors="replace")
    assert result.returncode in (0, 1), result.returncode
    return result.returncode, result.stdout.decode("utf-8")


def canonical(document: bytes) -> str:
    """What the driver must print for a document Python also accepts."""
    value = json.loads(document)
    return "ok\n" + json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n"


def run_many(
    driver: Path, cases: Iterable[bytes]
) -> list[tuple[bytes, subprocess.CompletedProcess[bytes]]]:
    cases = list(cases)
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        return list(zip(cases, pool.map(lambda c: run(driver, c), cases)))


# --- compilation --------------------------------------------------------------


@pytest.mark.parametrize("std", ["c99", "c11"])
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_compiles_without_warnings(tmp_path: Path, std: str, opt: str) -> None:
    """Parser and driver build warning-free; -O2 enables flow-based warnings."""
    compile_c(
        [GCC, f"-std={std}", opt, *WARNINGS, f"-I{SHIM}",
         str(PARSER_C), str(UTF8_C), str(DRIVER_C), "-o", str(tmp_path / "driver")],
        tmp_path,
    )


def test_header_compiles_as_cpp(tmp_path: Path) -> None:
    """jsonparse.h is usable from C++ (extern "C", no C-only syntax)."""
    if GXX is None:
        pytest.skip("g++ not found")
    source = tmp_path / "header.cpp"
    source.write_text(
        '#include "jsonparse.h"\n'
        "int main() {\n"
        "    embedcfg_json_value *v = 0;\n"
        "    embedcfg_json_error e;\n"
        "    return embedcfg_json_parse(\"1\", 1,"
        " EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &v, &e);\n"
        "}\n"
    )
    compile_c(
        [GXX, "-std=c++11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
         f"-I{SHIM}", str(source)],
        tmp_path,
    )


@pytest.mark.parametrize("std", ["c99", "c11"])
def test_fuzz_entry_point_compiles(tmp_path: Path, std: str) -> None:
    """The libFuzzer entry point is a plain translation unit for gcc."""
    compile_c(
        [GCC, f"-std={std}", *WARNINGS, f"-I{SHIM}", "-c", str(FUZZ_C),
         "-o", str(tmp_path / "fuzz.o")],
        tmp_path,
    )


# --- valid documents ----------------------------------------------------------


def nested(depth: int) -> bytes:
    """depth arrays and objects, alternating, around an integer."""
    opening = "".join('[' if i % 2 == 0 else '{"k":' for i in range(depth))
    closing = "".join(']' if i % 2 == 0 else '}' for i in reversed(range(depth)))
    return (opening + "1" + closing).encode()


VALID = [
    b"{}",
    b"[]",
    b"0",
    b"-0",
    b"7",
    b"-1",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"true",
    b"false",
    b"null",
    b'""',
    b'"plain"',
    b'"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    b'"\\u0041\\u00e9\\u4E2D\\ud83d\\ude00"',
    b'"\\uDBFF\\uDFFF"',
    b'"\\u0001\\u001f\\u007f\\u0020"',
    '"é 中 😀 \U0010ffff \u2028 \ufeff"'.encode(),
    b'"\x7f"',
    b' \t\r\n{ "a" : [ 1 , 2 ] , "b" : { } } \r\n\t ',
    b'{"b":1,"a":2,"c":3}',
    b'{"x":1,"y":{"x":2},"z":[{"x":3},{"x":4}]}',
    b'{"a":1,"A":2,"ab":3,"":4}',
    b'{"\\u00e9":1,"\xc3\xa9x":2}',
    b'[[],[[]],{},{"a":{}}]',
    b'{"version":1,"profile":"isolated","options":{"site_import":false,'
    b'"module_search_paths":["$ORIGIN/lib","/usr/lib/python3"],'
    b'"int_max_str_digits":4300},"inittab":[{"name":"spam.eggs"}]}',
    nested(64),
    b"[" * 64 + b"]" * 64,
    b'{"a":' * 64 + b"null" + b"}" * 64,
]


@pytest.mark.parametrize("document", VALID, ids=repr)
def test_valid_document(driver: Path, document: bytes) -> None:
    """Accepted documents re-serialize exactly as Python serializes them."""
    assert canonical(document) == parse(driver, document)[1]


def test_reads_file_argument(driver: Path, tmp_path: Path) -> None:
    """The driver reads the file named on its command line."""
    path = tmp_path / "doc.json"
    path.write_bytes(b'{"a": [1, "x"]}')
    result = subprocess.run(
        [str(driver), str(path)], capture_output=True, env=SANITIZER_ENV
    )
    assert (0, b'ok\n{"a":[1,"x"]}\n', b"") == (
        result.returncode, result.stdout, result.stderr
    )


def test_document_of_exactly_the_size_limit(driver: Path) -> None:
    """A document of exactly 1 MiB is accepted."""
    document = b'"' + b"x" * (MAX_SIZE - 2) + b'"'
    assert canonical(document) == parse(driver, document)[1]


def test_document_over_the_size_limit(driver: Path) -> None:
    """One byte more than 1 MiB is rejected at the first byte past the limit."""
    document = b'"' + b"x" * (MAX_SIZE - 1) + b'"'
    assert (1, f"error at byte {MAX_SIZE}: document is larger than the limit "
               f"of {MAX_SIZE} bytes\n") == parse(driver, document)


def test_large_object(driver: Path) -> None:
    """An object with 90k keys parses (duplicate detection is not quadratic)
    and a duplicate at its very end is still found."""
    keys = [f'"k{i}":0' for i in range(90000)]
    document = ("{" + ",".join(keys) + "}").encode()
    assert len(document) < MAX_SIZE
    assert canonical(document) == parse(driver, document)[1]
    duplicate = ("{" + ",".join(keys) + ',"k0":0}').encode()
    assert len(duplicate) < MAX_SIZE
    offset = len(duplicate) - len('"k0":0}')
    assert (1, f'error at byte {offset}: duplicate key "k0" (first defined at '
               f"byte 1)\n") == parse(driver, duplicate)


# --- invalid documents --------------------------------------------------------


INVALID = [
    # encoding
    (b"\xef\xbb\xbf{}", 0, "byte order mark not allowed"),
    (b'{"a":"\xff"}', 6, "invalid UTF-8"),
    (b"[1, \xff]", 4, "invalid UTF-8"),
    (b'"\xc0\xaf"', 1, "invalid UTF-8: overlong"),
    (b'"\xc1\xbf"', 1, "invalid UTF-8: overlong"),
    (b'"\xe0\x80\xaf"', 1, "invalid UTF-8: overlong"),
    (b'"\xf0\x80\x80\xaf"', 1, "invalid UTF-8: overlong"),
    (b'"\xed\xa0\x80"', 1, "invalid UTF-8: surrogate"),
    (b'"\xed\xbf\xbf"', 1, "invalid UTF-8: surrogate"),
    (b'"\xf4\x90\x80\x80"', 1, "invalid UTF-8: code point above U+10FFFF"),
    (b'"\xf5\x80\x80\x80"', 1, "invalid UTF-8: code point above U+10FFFF"),
    (b'"\xe2\x82"', 1, "invalid UTF-8: truncated"),
    (b'"\xe2\x82', 1, "invalid UTF-8: truncated"),
    (b'"ab\xc3', 3, "invalid UTF-8: truncated"),
    (b'"\xf0\x9f\x98 "', 1, "invalid UTF-8: truncated"),
    (b'"\x80"', 1, "invalid UTF-8: unexpected continuation byte 0x80"),
    (b"\xfe", 0, "invalid UTF-8: byte 0xFE"),
    (b"\xff", 0, "invalid UTF-8: byte 0xFF"),
    # NUL
    (b'{"a":"x\x00"}', 7, "NUL character not allowed"),
    (b"[1]\x00", 3, "NUL character not allowed"),
    (b"\x00", 0, "NUL character not allowed"),
    (b'["ab\\u0000"]', 4, "NUL character not allowed"),
    (b'{"\\u0000":1}', 2, "NUL character not allowed"),
    # surrogate escapes
    (b'"\\ud800"', 1, "unpaired UTF-16 surrogate \\uD800"),
    (b'"\\uDBFF"', 1, "unpaired UTF-16 surrogate \\uDBFF"),
    (b'"\\udc00"', 1, "unpaired UTF-16 surrogate \\uDC00"),
    (b'"\\udc00\\ud800"', 1, "a low surrogate must follow a high surrogate"),
    (b'"\\ud800\\ud800"', 1, "must be followed by a low surrogate"),
    (b'"\\ud800x"', 1, "must be followed by a low surrogate"),
    (b'"ab\\ud83d\\u0041"', 3, "unpaired UTF-16 surrogate"),
    (b'"\\ud800\\u"', 1, "unpaired UTF-16 surrogate"),
    (b'"\\ud800\\', 1, "unpaired UTF-16 surrogate"),
    # strings
    (b'"a\nb"', 2, "unescaped control character U+000A"),
    (b'"\t"', 1, "unescaped control character U+0009"),
    (b'["ok", "\x1f"]', 8, "unescaped control character U+001F"),
    (b'"abc', 0, "unterminated string"),
    (b'"abc\\', 0, "unterminated string"),
    (b'"abc\\"', 0, "unterminated string"),
    (b'{"a":"b}', 5, "unterminated string"),
    (b'{"a', 1, "unterminated string"),
    (b'"\\x"', 1, "invalid escape in string: '\\' followed by 'x'"),
    (b'"\\U0041"', 1, "invalid escape"),
    (b"\"\\'\"", 1, "invalid escape"),
    (b'"\\\xc3\xa9"', 1, "followed by U+00E9"),
    (b'"\\u12"', 1, "expected 4 hex digits"),
    (b'"\\u12G4"', 1, "expected 4 hex digits"),
    (b"'single'", 0, "expected a value, found \"'\""),
    # duplicate keys
    (b'{"x":1,"x":2}', 7, 'duplicate key "x" (first defined at byte 1)'),
    (b'{"a":{"x":1,"y":2,"x":3}}', 18, 'duplicate key "x"'),
    (b'{"\\u0078":1,"x":2}', 12, 'duplicate key "x"'),
    (b'{"a":1,"b":2,"a":3,"b":4}', 13, 'duplicate key "a"'),
    (b'{"b":1,"a":2,"a":3,"b":4}', 13, 'duplicate key "a"'),
    (b'{"a":1,"a":2,', 7, 'duplicate key "a"'),
    (b'{"a":1,"a":[1,2,x', 7, 'duplicate key "a"'),
    (b'{"a":{"b":1,"b":2,', 12, 'duplicate key "b"'),
    (b'{"a":1,"b":{"c":1,"c":2,', 18, 'duplicate key "c"'),
    (b'{"a\\"b":1,"a\\"b":2}', 10, 'duplicate key "a\\"b"'),
    (b'{"\\n":1,"\\n":2}', 8, 'duplicate key "\\u000a"'),
    (b'{"' + b"k" * 100 + b'":1,"' + b"k" * 100 + b'":2}', 106,
     'duplicate key "' + "k" * 40),
    ('{"é":1,"é":2}'.encode(), 8, 'duplicate key "é"'),
    # numbers
    (b"1.5", 0, "only integers are allowed"),
    (b"[1, 2.0]", 4, "only integers are allowed"),
    (b"1.", 0, "only integers are allowed"),
    (b"0.0", 0, "only integers are allowed"),
    (b"1e5", 0, "only integers are allowed"),
    (b"1E+5", 0, "only integers are allowed"),
    (b"-1.5e3", 0, "only integers are allowed"),
    (b'{"n":1e400}', 5, "only integers are allowed"),
    (b"01", 0, "leading zeros are not allowed"),
    (b"-01", 0, "leading zeros are not allowed"),
    (b"00", 0, "leading zeros are not allowed"),
    (b"+1", 0, "must not start with '+'"),
    (b"[+1]", 1, "must not start with '+'"),
    (b"-", 0, "expected a digit after '-'"),
    (b"-a", 0, "expected a digit after '-'"),
    (b"--1", 0, "expected a digit after '-'"),
    (b"-Infinity", 0, "expected a digit after '-'"),
    (b"9223372036854775808", 0, "integer out of range"),
    (b"-9223372036854775809", 0, "integer out of range"),
    (b"[1, 99999999999999999999]", 4, "integer out of range"),
    (b"18446744073709551616", 0, "integer out of range"),
    (b".5", 0, "expected a value, found '.'"),
    (b"0x10", 1, "expected end of input after the top-level value, found 'x'"),
    # bare words
    (b"NaN", 0, "invalid literal 'NaN'"),
    (b"Infinity", 0, "invalid literal 'Infinity'"),
    (b"[nan]", 1, "invalid literal 'nan'"),
    (b"True", 0, "invalid literal 'True'"),
    (b"nul", 0, "invalid literal 'nul'"),
    (b"truex", 0, "invalid literal 'truex'"),
    (b"undefined", 0, "invalid literal"),
    (b'{"a":None}', 5, "invalid literal 'None'"),
    (b"x" * 100, 0, "invalid literal '" + "x" * 32 + "...'"),
    # nesting
    (b"[" * 65 + b"]" * 65, 64, "nesting deeper than 64"),
    (b'{"a":' * 65 + b"1" + b"}" * 65, 320, "nesting deeper than 64"),
    (nested(65), len(nested(64).split(b"1")[0]), "nesting deeper than 64"),
    (b"[" * 10000, 64, "nesting deeper than 64"),
    # structure
    (b"", 0, "empty document"),
    (b"   \n", 4, "empty document"),
    (b"[1]x", 3, "expected end of input after the top-level value"),
    (b"{} {}", 3, "expected end of input"),
    (b"1 2", 2, "expected end of input"),
    (b"true false", 5, "expected end of input"),
    (b"[1]]", 3, "expected end of input"),
    (b"[1,]", 2, "trailing comma before ']' is not allowed"),
    (b'{"a":1,}', 6, "trailing comma before '}' is not allowed"),
    (b"[,1]", 1, "expected a value, found ','"),
    (b"[1 2]", 3, "expected ',' or ']' after array element, found '2'"),
    (b"[1", 2, "expected ',' or ']' after array element, found end of input"),
    (b"[", 1, "expected a value, found end of input"),
    (b'{"a" 1}', 5, "expected ':' after object key, found '1'"),
    (b'{"a"}', 4, "expected ':'"),
    (b'{"a":}', 5, "expected a value, found '}'"),
    (b'{"a":1 "b":2}', 7, "expected ',' or '}' after object member"),
    (b'{"a":1', 6, "expected ',' or '}' after object member, found end of input"),
    (b"{1:2}", 1, "expected a string key, found '1'"),
    (b"{", 1, "expected a string key, found end of input"),
    (b'{"a":1,,}', 7, "expected a string key, found ','"),
    (b"/* comment */ {}", 0, "expected a value, found '/'"),
    (b"\f[]", 0, "expected a value, found control character U+000C"),
    (b"[1,\v2]", 3, "found control character U+000B"),
    (b"\xc2\xa0[]", 0, "expected a value, found U+00A0"),
    ("[1]\u3000".encode(), 3, "found U+3000"),
    (b"\x7f", 0, "found control character U+007F"),
]


@pytest.mark.parametrize("document, offset, message", INVALID, ids=repr)
def test_invalid_document(
    driver: Path, document: bytes, offset: int, message: str
) -> None:
    """Each rule is enforced and reported at the offending byte."""
    status, output = parse(driver, document)
    prefix = f"error at byte {offset}: "
    assert (1, True, True) == (
        status, output.startswith(prefix), message in output
    ), output
    assert output.endswith("\n") and output.count("\n") == 1


# --- the library API ----------------------------------------------------------


API_CHECKS_C = r"""
#include <stdio.h>
#include <string.h>
#include "jsonparse.h"

static int failures = 0;

#define CHECK(cond) do { if (!(cond)) { \
    printf("line %d: %s\n", __LINE__, #cond); failures++; } } while (0)

static int
parse(const char *text, embedcfg_json_value **out, embedcfg_json_error *err)
{
    return embedcfg_json_parse(text, strlen(text),
                               EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, out, err);
}

int
main(void)
{
    const size_t max = EMBEDCFG_JSON_MAX_DOCUMENT_SIZE;
    const char *doc = "{\"name\": \"x\", \"n\": -3, \"on\": true, "
                      "\"list\": [\"a\", null], \"obj\": {}}";
    const char unterminated[3] = {'[', '1', ']'};
    const char with_tail[4] = {'[', '1', ']', 'x'};
    embedcfg_json_value *root = NULL;
    embedcfg_json_error err;
    const embedcfg_json_value *v;
    size_t len = 99;

    CHECK(parse(doc, &root, &err) == 0);
    CHECK(embedcfg_json_type_of(root) == EMBEDCFG_JSON_OBJECT);
    CHECK(embedcfg_json_object_len(root) == 5);
    CHECK(strcmp(embedcfg_json_object_key(root, 0, &len), "name") == 0);
    CHECK(len == 4);
    CHECK(embedcfg_json_object_key(root, 5, &len) == NULL && len == 0);
    CHECK(embedcfg_json_object_value(root, 5) == NULL);

    v = embedcfg_json_object_get(root, "n");
    CHECK(embedcfg_json_type_of(v) == EMBEDCFG_JSON_INT);
    CHECK(embedcfg_json_int_value(v) == -3);
    CHECK(embedcfg_json_offset(v) == 19);
    CHECK(embedcfg_json_bool_value(v) == 0);
    CHECK(embedcfg_json_string_value(v, &len) == NULL && len == 0);
    CHECK(embedcfg_json_array_len(v) == 0);
    CHECK(embedcfg_json_object_len(v) == 0);

    v = embedcfg_json_object_get(root, "on");
    CHECK(embedcfg_json_type_of(v) == EMBEDCFG_JSON_BOOL);
    CHECK(embedcfg_json_bool_value(v) == 1);
    CHECK(embedcfg_json_int_value(v) == 0);

    v = embedcfg_json_object_get(root, "list");
    CHECK(embedcfg_json_array_len(v) == 2);
    CHECK(strcmp(embedcfg_json_string_value(
              embedcfg_json_array_item(v, 0), &len), "a") == 0 && len == 1);
    CHECK(embedcfg_json_type_of(embedcfg_json_array_item(v, 1))
          == EMBEDCFG_JSON_NULL);
    CHECK(embedcfg_json_array_item(v, 1) != NULL);
    CHECK(embedcfg_json_array_item(v, 2) == NULL);
    CHECK(embedcfg_json_object_get(v, "a") == NULL);
    CHECK(embedcfg_json_object_key(v, 0, NULL) == NULL);

    v = embedcfg_json_object_value(root, 4);
    CHECK(embedcfg_json_type_of(v) == EMBEDCFG_JSON_OBJECT);
    CHECK(embedcfg_json_object_len(v) == 0);
    CHECK(embedcfg_json_array_item(root, 0) == NULL);
    CHECK(embedcfg_json_object_get(root, "missing") == NULL);
    CHECK(embedcfg_json_object_get(root, "nam") == NULL);
    CHECK(embedcfg_json_object_get(root, NULL) == NULL);

    CHECK(embedcfg_json_type_of(NULL) == EMBEDCFG_JSON_NULL);
    CHECK(embedcfg_json_offset(NULL) == 0);
    CHECK(embedcfg_json_string_value(NULL, NULL) == NULL);
    CHECK(embedcfg_json_array_len(NULL) == 0);
    CHECK(embedcfg_json_object_get(NULL, "a") == NULL);
    CHECK(strcmp(embedcfg_json_type_name(EMBEDCFG_JSON_NULL), "null") == 0);
    CHECK(strcmp(embedcfg_json_type_name(EMBEDCFG_JSON_BOOL), "boolean") == 0);
    CHECK(strcmp(embedcfg_json_type_name(EMBEDCFG_JSON_INT), "integer") == 0);
    CHECK(strcmp(embedcfg_json_type_name(EMBEDCFG_JSON_STRING), "string") == 0);
    CHECK(strcmp(embedcfg_json_type_name(EMBEDCFG_JSON_ARRAY), "array") == 0);
    CHECK(strcmp(embedcfg_json_type_name(EMBEDCFG_JSON_OBJECT), "object") == 0);
    embedcfg_json_free(root);
    embedcfg_json_free(NULL);

    /* Line and column are 1-based; the column counts characters. */
    root = (embedcfg_json_value *)&err;
    CHECK(parse("{\n  \"\xc3\xa9\": tru\n}", &root, &err) == -1);
    CHECK(root == NULL);
    CHECK(err.offset == 10 && err.line == 2 && err.column == 8);

    CHECK(embedcfg_json_parse("[1]", 3, 2, &root, &err) == -1);
    CHECK(err.offset == 2 && strstr(err.message, "limit of 2 bytes") != NULL);
    CHECK(embedcfg_json_parse("[1]", 3, 3, &root, &err) == 0);
    embedcfg_json_free(root);

    CHECK(embedcfg_json_parse(unterminated, 3, max, &root, &err) == 0);
    embedcfg_json_free(root);
    CHECK(embedcfg_json_parse(with_tail, 3, max, &root, &err) == 0);
    embedcfg_json_free(root);

    CHECK(embedcfg_json_parse("[", 1, max, &root, NULL) == -1 && root == NULL);
    CHECK(embedcfg_json_parse("[]", 2, max, &root, NULL) == 0);
    embedcfg_json_free(root);
    CHECK(embedcfg_json_parse("[]", 2, max, NULL, &err) == -1);
    CHECK(strstr(err.message, "invalid arguments") != NULL);
    CHECK(embedcfg_json_parse(NULL, 2, max, &root, &err) == -1 && root == NULL);
    CHECK(embedcfg_json_parse(NULL, 0, max, &root, &err) == -1 && root == NULL);
    CHECK(strstr(err.message, "empty document") != NULL);

    puts(failures ? "FAILED" : "ok");
    return failures != 0;
}
"""


def test_api(build_dir: Path) -> None:
    """Accessors, wrong types, NULLs, line/column, max_len and arguments."""
    source = build_dir / "api_checks.c"
    source.write_text(API_CHECKS_C)
    exe = build_dir / "api_checks"
    compile_c(
        [GCC, "-std=c99", *WARNINGS, *SANITIZE, f"-I{SHIM}",
         str(PARSER_C), str(UTF8_C), str(source), "-o", str(exe)],
        build_dir,
    )
    result = run(exe, b"")
    assert (0, b"ok\n", b"") == (result.returncode, result.stdout, result.stderr)


# --- allocation failures ------------------------------------------------------


OOM_H = r"""
#include <stddef.h>
void *oom_malloc(size_t size);
void *oom_realloc(void *old, size_t size);
void oom_free(void *p);
"""

# For every allocation the parser makes on a document, fail it (and, in a
# second pass, only it) and check that the parse reports "out of memory" (or
# the document's own error) and leaves nothing allocated.
OOM_MAIN_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonparse.h"

static long budget = -1;   /* allocations that may still succeed; -1: all */
static int fail_once = 0;  /* after the failing one, let the rest succeed */
static long calls = 0;
static long live = 0;

static int
allow(void)
{
    calls++;
    if (budget < 0) {
        return 1;
    }
    if (budget == 0) {
        if (fail_once) {
            budget = -1;
        }
        return 0;
    }
    budget--;
    return 1;
}

void *
oom_malloc(size_t size)
{
    void *p = allow() ? malloc(size) : NULL;

    live += p != NULL;
    return p;
}

void *
oom_realloc(void *old, size_t size)
{
    void *p = allow() ? realloc(old, size) : NULL;

    live += p != NULL && old == NULL;
    return p;
}

void
oom_free(void *p)
{
    live -= p != NULL;
    free(p);
}

int
main(int argc, char **argv)
{
    int i, mode, failures = 0;

    for (i = 1; i < argc; i++) {
        const char *doc = argv[i];
        size_t len = strlen(doc);
        embedcfg_json_value *root = NULL;
        embedcfg_json_error expected, err;
        long total, k;
        int status;

        budget = -1;
        calls = 0;
        status = embedcfg_json_parse(doc, len, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE,
                                     &root, &expected);
        total = calls;
        embedcfg_json_free(root);
        for (mode = 0; mode < 2; mode++) {
            for (k = 0; k < total; k++) {
                budget = k;
                fail_once = mode;
                root = (embedcfg_json_value *)&err;
                if (embedcfg_json_parse(doc, len,
                                        EMBEDCFG_JSON_MAX_DOCUMENT_SIZE,
                                        &root, &err) == 0
                    || root != NULL
                    || live != 0
                    || (strcmp(err.message, "out of memory") != 0
                        && (status == 0
                            || err.offset != expected.offset
                            || strcmp(err.message, expected.message) != 0)))
                {
                    printf("document %d, failing allocation %ld (%s): "
                           "live=%ld, %s\n", i, k,
                           mode ? "once" : "from then on", live, err.message);
                    failures++;
                }
                embedcfg_json_free(root == (embedcfg_json_value *)&err
                                   ? NULL : root);
            }
        }
        budget = -1;
        printf("document %d: %ld allocations\n", i, total);
    }
    return failures != 0;
}
"""

OOM_DOCUMENTS = [
    '{"version":1,"options":{"warnoptions":["error","ignore::Dep"],'
    '"site_import":false,"int_max_str_digits":4300,"s":"\\u00e9\\ud83d\\ude00"},'
    '"inittab":[{"name":"a","init":"PyInit_a"},{"name":"b"}],"e":{},"l":[]}',
    '[[1,2,3,4,5,6,7,8,9],[{"a":1,"b":2,"c":3,"d":4,"e":5}],"x","y"]',
    '{"a":1,"b":{"c":1,"d":2,"c":3}}',
    '{"a":1,"a":2,"b":"xyz","c":[',
    '{"a":{"b":[1,{"c":"d","c":',
    '{"a":1,"b":2,"c":[1,2,3,"unterminated',
    '"just a string"',
]


def test_every_allocation_failure(build_dir: Path) -> None:
    """Each allocation failing is reported as "out of memory", leaks nothing
    and never produces a tree."""
    header = build_dir / "oom.h"
    header.write_text(OOM_H)
    source = build_dir / "oom_main.c"
    source.write_text(OOM_MAIN_C)
    exe = build_dir / "oom_checks"
    compile_c(
        [GCC, "-std=c99", *WARNINGS, *SANITIZE, f"-I{SHIM}",
         "-include", str(header),
         "-DEMBEDCFG_JSON_MALLOC=oom_malloc",
         "-DEMBEDCFG_JSON_REALLOC=oom_realloc",
         "-DEMBEDCFG_JSON_FREE=oom_free",
         str(PARSER_C), str(UTF8_C), str(source), "-o", str(exe)],
        build_dir,
    )
    result = subprocess.run(
        [str(exe), *OOM_DOCUMENTS], capture_output=True, text=True,
        env=SANITIZER_ENV, timeout=120,
    )
    assert (0, "") == (result.returncode, result.stderr), result.stdout
    counts = [int(line.rsplit(" ", 2)[1]) for line in result.stdout.splitlines()]
    assert len(OOM_DOCUMENTS) == len(counts)
    assert all(count >= 2 for count in counts), result.stdout


# --- files, mutations and differential testing --------------------------------


def data_files() -> list[Path]:
    return sorted(
        path
        for kind in ("valid", "invalid")
        if (DATA / kind).is_dir()
        for path in (DATA / kind).rglob("*")
        if path.is_file()
    )


def test_data_files_do_not_crash(driver: Path) -> None:
    """The project's sample documents (JSON or not) parse or fail cleanly."""
    files = data_files()
    if not files:
        pytest.skip("no files under tests/data/valid or tests/data/invalid")
    results = run_many(driver, (path.read_bytes() for path in files))
    bad = [
        (str(path), result.returncode, result.stderr[:2000])
        for path, (_, result) in zip(files, results)
        if result.returncode not in (0, 1) or result.stderr
    ]
    assert [] == bad


def test_valid_json_data_files_are_accepted(driver: Path) -> None:
    """A JSON document the Python side calls valid is one the shim can read."""
    files = sorted((DATA / "valid").glob("*.json")) if DATA.is_dir() else []
    if not files:
        pytest.skip("no JSON files under tests/data/valid")
    results = run_many(driver, (path.read_bytes() for path in files))
    mismatches = [
        (str(path), result.stdout[:300])
        for path, (document, result) in zip(files, results)
        if (result.returncode, result.stdout.decode("utf-8", "replace"))
        != (0, canonical(document))
    ]
    assert [] == mismatches


# Bytes that steer mutations towards the interesting parts of the grammar
# and of UTF-8.
SPICE = [
    b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"\\u", b"\\ud800",
    b"\\udc00", b"\\u0000", b"0", b"-", b"1e5", b".5", b"9223372036854775808",
    b"\x00", b"\x1f", b"\x7f", b"\x80", b"\xbf", b"\xc0", b"\xc3", b"\xe0",
    b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xf4\x90", b"\xff", b"true", b"nul",
    b" ", b"\n", b'"a":1', b"[" * 70, b"{\"a\":" * 40,
]


def random_byte(rng: random.Random) -> int:
    # Mostly ASCII: a non-ASCII byte usually ends the parse at the UTF-8
    # check, before the grammar is exercised.
    return rng.randrange(256) if rng.random() < 0.2 else rng.randrange(0x20, 0x7F)


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randint(0, len(out))
        if op == 0 and out:
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8 if rng.random() < 0.2 else 7)
        elif op == 1 and out:
            out[rng.randrange(len(out))] = random_byte(rng)
        elif op == 2:
            out[pos:pos] = bytes(random_byte(rng) for _ in range(rng.randint(1, 4)))
        elif op == 3:
            out[pos:pos] = rng.choice(SPICE)
        elif op == 4:
            del out[pos:pos + rng.randint(1, 8)]
        elif op == 5:
            del out[rng.randint(0, len(out)):]
        elif out:
            start = rng.randrange(len(out))
            chunk = out[start:start + rng.randint(1, 16)]
            out[pos:pos] = chunk * rng.randint(1, 3)
    return bytes(out)


def random_string(rng: random.Random) -> str:
    alphabet = (
        "abcxyz_ -/.$"
        '"\\\b\f\n\r\t\x01\x1f\x7f'
        "é中€\u2028\ufeff\uffff😀\U0010ffff"
    )
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(10 if depth < 6 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind in (1, 2):
        return rng.choice([
            rng.randint(-1000, 1000),
            rng.randint(-(2**63), 2**63 - 1),
            rng.choice([0, -(2**63), 2**63 - 1]),
        ])
    if kind in (3, 4, 5):
        return random_string(rng)
    if kind in (6, 7):
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {
        random_string(rng): random_value(rng, depth + 1)
        for _ in range(rng.randint(0, 5))
    }


def random_document(rng: random.Random) -> bytes:
    """A random JSON text, in a randomly chosen but valid layout and
    escaping, that the parser must accept."""
    value = random_value(rng)
    text = json.dumps(
        value,
        ensure_ascii=rng.random() < 0.5,
        indent=rng.choice([None, 0, 2, "\t"]),
        separators=rng.choice([None, (",", ":"), (" , ", " : ")]),
    )
    if rng.random() < 0.3:
        text = "\r\n " + text + "\n\t"
    return text.encode()


def test_matches_python_on_random_documents(driver: Path) -> None:
    """Differential: the driver's output equals Python's serialization."""
    rng = random.Random(20240601)
    documents = [random_document(rng) for _ in range(300)]
    mismatches = [
        (doc, result.stdout, result.stderr)
        for doc, result in run_many(driver, documents)
        if (result.returncode, result.stdout.decode("utf-8", "replace"),
            result.stderr) != (0, canonical(doc), b"")
    ]
    assert [] == mismatches[:3]


def mutation_seeds() -> list[bytes]:
    rng = random.Random(7)
    return (
        VALID
        + [case[0] for case in INVALID if len(case[0]) < 200]
        + [random_document(rng) for _ in range(40)]
    )


def test_random_mutations_through_driver(driver: Path) -> None:
    """A few thousand mutated documents: exit 0 or 1, no sanitizer report."""
    rng = random.Random(12345)
    seeds = mutation_seeds()
    cases = [mutate(rng, rng.choice(seeds)) for _ in range(2000)]
    bad = [
        (case, result.returncode, result.stderr[:2000])
        for case, result in run_many(driver, cases)
        if result.returncode not in (0, 1) or result.stderr
        or not result.stdout.startswith((b"ok\n", b"error at byte "))
    ]
    assert [] == bad[:3]


def test_random_mutations_through_fuzz_entry_point(
    fuzz_runner: Path, tmp_path: Path
) -> None:
    """Many more mutations, in one process, through LLVMFuzzerTestOneInput,
    which also checks the tree invariants of every accepted document."""
    rng = random.Random(54321)
    seeds = mutation_seeds()
    cases = [mutate(rng, rng.choice(seeds)) for _ in range(30000)]
    cases += [d for d, _, _ in INVALID] + VALID
    batch = tmp_path / "cases.bin"
    batch.write_bytes(
        b"".join(struct.pack("<I", len(case)) + case for case in cases)
    )
    result = subprocess.run(
        [str(fuzz_runner), str(batch)], capture_output=True, env=SANITIZER_ENV,
        timeout=120,
    )
    assert (0, f"{len(cases)}\n".encode(), b"") == (
        result.returncode, result.stdout, result.stderr[:4000]
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
