"""Build and run c-host: a C program that embeds CPython and configures it
from a document through embedcfg's C API (capi_shim/embedcfg.h).

    python examples/c-host/build.py                 # build into examples/c-host/build/
    python examples/c-host/build.py --run -- a b    # build (if needed) and run with arguments
    python examples/c-host/build.py --python ~/.pyenv/versions/3.12.1/bin/python3.12 --run

Steps: build the shim library for the chosen CPython (`embedcfg build`,
cached), compile host.c with the flags `embedcfg build --cflags --ldflags`
prints, run `build/c-host app.json ARG...`. The exit status is the host's.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
try:
    import embedcfg  # noqa: F401
except ImportError:  # running from a checkout without installing embedcfg
    sys.path.insert(0, str(ROOT))

from embedcfg import build  # noqa: E402
from embedcfg.errors import ShimError  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description="Build (and run) the c-host example.")
    p.add_argument("--python", default=sys.executable,
                   help="the CPython to build for (default: this one)")
    p.add_argument("--out", default=str(HERE / "build"), help="build directory")
    p.add_argument("--document", default=str(HERE / "app.json"),
                   help="the document to run (default: app.json)")
    p.add_argument("--run", action="store_true", help="run the host once built")
    p.add_argument("args", nargs="*", help="arguments for the application (after --)")
    args = p.parse_args()

    try:
        flags = build.host_flags(args.python)
    except ShimError as e:
        print(f"c-host: {e}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    exe = out / "c-host"
    cmd = [*shlex.split(os.environ.get("CC") or "cc"), "-std=c99", "-Wall", "-Wextra",
           "-Werror", "-O2", *flags.cflags, str(HERE / "host.c"), "-o", str(exe),
           *flags.ldflags]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(" ".join(map(shlex.quote, cmd)), proc.stderr, sep="\n", file=sys.stderr)
        return 1
    version = ".".join(map(str, flags.built.version))
    print(f"built {exe} for CPython {version}", file=sys.stderr)
    if not args.run:
        return 0
    # The embedded interpreter must not pick up this process's PYTHON* variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run([str(exe), args.document, *args.args], env=env,
                          check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
