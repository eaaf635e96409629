"""wordstats: count the words of a text, without the common ones."""

__version__ = "1.0"
