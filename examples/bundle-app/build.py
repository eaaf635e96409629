"""Build (and run) bundle-app: the wordstats application as one relocatable directory.

    python examples/bundle-app/build.py                 # build examples/bundle-app/build/
    python examples/bundle-app/build.py --run -- TEXT   # build, then run it on TEXT
    python examples/bundle-app/build.py --python ~/.pyenv/versions/3.8.18/bin/python3.8 --run
    python examples/bundle-app/build.py --onefile --run    # build/onefile/wordstats, one file

Steps: copy src/ and wordstats.toml.in into build/app/ (as wordstats.toml, the
document embedcfg bundle takes); `embedcfg bundle build/app/wordstats.toml -o
build/wordstats --python PYTHON` (with --onefile: `-o build/onefile/wordstats
--onefile`). With --run: run build/wordstats/bin/wordstats (or the one file)
with the arguments after --, without this shell's PYTHON* variables.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
try:
    import embedcfg  # noqa: F401
except ImportError:  # running from a checkout without installing embedcfg
    sys.path.insert(0, str(ROOT))

from embedcfg import cli  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description="Build (and run) the bundle-app example.")
    p.add_argument("--python", default=sys.executable,
                   help="the CPython the bundle ships (default: this one)")
    p.add_argument("--out", default=str(HERE / "build"), help="build directory")
    p.add_argument("--run", action="store_true", help="run the bundle once built")
    p.add_argument("--onefile", action="store_true",
                   help="bundle it as one executable, build/onefile/wordstats (the static"
                   " launcher: the CPython needs its libpython3.X.a)")
    p.add_argument("args", nargs="*", help="the application's arguments (after --)")
    args = p.parse_args()

    out = Path(args.out).resolve()
    app = out / "app"
    if app.exists():
        shutil.rmtree(app)
    shutil.copytree(HERE / "src", app / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(HERE / "wordstats.toml.in", app / "wordstats.toml")
    if args.onefile:
        (out / "onefile").mkdir(exist_ok=True)
        target, program = out / "onefile" / "wordstats", out / "onefile" / "wordstats"
    else:
        target, program = out / "wordstats", out / "wordstats" / "bin" / "wordstats"
    status = cli.run(["bundle", str(app / "wordstats.toml"), "-o", str(target),
                      "--python", args.python, *(["--onefile"] if args.onefile else [])],
                     sys.stderr, sys.stderr)
    if status != 0 or not args.run:
        return status
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run([str(program), *args.args], env=env, stdin=subprocess.DEVNULL,
                          check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
