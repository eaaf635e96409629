"""Sphinx configuration for the embedcfg documentation."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import embedcfg  # noqa: E402

project = "embedcfg"
author = "embedcfg maintainers"
copyright = "2026, embedcfg maintainers"
release = embedcfg.__version__
version = release

extensions = ["sphinx.ext.autodoc", "sphinx.ext.intersphinx"]
intersphinx_mapping = {}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = True
# Types that autodoc mentions but no inventory here documents (no network in
# the build): the standard library's and attrs' own.
nitpick_ignore_regex = [
    (r"py:class", r"(os\.PathLike|attr\..*|attrs\..*|cattrs\..*|.*Mapping.*|.*Tuple.*|.*Sequence.*"
                  r"|.*Iterator.*|.*Optional.*|.*Union.*|.*TextIO.*|typing\..*|_io\..*|Path|"
                  r"ctypes\..*|subprocess\..*|"
                  r"embedcfg\..*Scalar|pathlib\..*|enum\..*|embedcfg\._api\..*)"),
    (r"py:(mod|func)", r"(ctypes|subprocess\..*)"),
    (r"py:.*", r"(str|int|bool|bytes|None|object|type|dict|list|tuple|ValueError|OSError|"
               r"RuntimeError|Exception)"),
]
# The C API reference (capi.rst) names C's own types; nothing documents them.
nitpick_ignore = [("c:identifier", name) for name in ("size_t", "int64_t")]
exclude_patterns = ["_build"]
html_theme = "alabaster"
