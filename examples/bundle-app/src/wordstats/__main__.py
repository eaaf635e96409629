"""python -m wordstats [TEXT...]: the most frequent words of TEXT (or of a sample)."""

import os
import sys
import zlib  # a C extension module of the standard library (lib-dynload)

try:
    import simplejson as json  # faster when installed; not in the bundle: guarded
except ImportError:
    import json

from . import __version__
from .text import count, stopwords, words

SAMPLE = "The ﬁrst fox and the second FOX met a third fox by the river and the fox ran"


def where(module: object) -> str:
    """Where a module came from, relative to the bundle (sys.prefix)."""
    origin = os.path.realpath(getattr(module, "__file__", None) or "?")
    if origin.startswith(os.path.realpath(sys.executable) + os.sep):
        return "the executable"  # a one-file application: its paths are inside it
    base = os.path.realpath(sys.prefix)
    minor = "python%d.%d" % sys.version_info[:2]
    rel = os.path.relpath(origin, base).replace(minor, "python3.X")
    parts = rel.split(os.sep)
    return "/".join(parts[:2] if parts[1].endswith(".pack") else parts[:3])


def main(argv: "list[str]") -> int:
    text = " ".join(argv) or SAMPLE
    all_words = words(text)
    kept, skipped = count(all_words, stopwords())
    print("wordstats %s: %d words, %d distinct (stopwords left out: %d)"
          % (__version__, len(all_words), len(kept), skipped))
    for word, n in sorted(kept.items(), key=lambda item: (-item[1], item[0]))[:3]:
        print("  %d  %s" % (n, word))
    print("crc32 of the text: 0x%08x" % zlib.crc32(text.encode("utf-8")))
    print("as JSON:", json.dumps(dict(kept.most_common(2))))
    import unicodedata
    import wordstats
    print("modules: wordstats from %s, json from %s, unicodedata from %s"
          % (where(wordstats), where(json), where(unicodedata)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
