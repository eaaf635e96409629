"""``python -m embedcfg``."""

from embedcfg.cli import main

main()
