"""The bundled example application: shows the configuration it runs under."""

import sys

print(f"hello from CPython {sys.version.split()[0]}")
print(f"  site imported:   {'site' in sys.modules}")
print(f"  utf-8 mode:      {bool(sys.flags.utf8_mode)}")
print(f"  isolated:        {bool(sys.flags.isolated)}")
print(f"  pycache prefix:  {sys.pycache_prefix}")
print(f"  warnings:        {sys.warnoptions}")
print(f"  sys.path[-1]:    {sys.path[-1]}")
