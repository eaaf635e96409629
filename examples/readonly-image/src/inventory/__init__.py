"""inventory: a small application shipped as a read-only, precompiled image.

The package's modules import each other (report -> pricing -> models), so a
run exercises the import system on several files of the image.
"""

__version__ = "1.0"
