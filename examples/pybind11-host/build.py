"""Build and run pybind11-host: a C++ program that initializes CPython with
pybind11 (py::scoped_interpreter) from a PyConfig that embedcfg filled from
a document.

    python examples/pybind11-host/build.py                  # build into examples/pybind11-host/build/
    python examples/pybind11-host/build.py --run -- a b     # build (if needed) and run script.py a b
    python examples/pybind11-host/build.py --python ~/.pyenv/versions/3.12.1/bin/python3.12 --run

Needs pybind11 (header-only; `pip install pybind11`, part of embedcfg's
`test` extra) and a C++17 compiler (CXX, default c++); pybind11 3.1 supports
CPython 3.9 and newer. Steps: validate app.toml and write its canonical form
to build/app.json (what the C shim reads); build the shim library for the
chosen CPython (`embedcfg build`, cached); compile host.cpp with pybind11's
headers and the flags `embedcfg build --cflags --ldflags` prints; run
`build/pybind11-host build/app.json script.py ARG...`.
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
    import embedcfg
except ImportError:  # running from a checkout without installing embedcfg
    sys.path.insert(0, str(ROOT))
    import embedcfg

import pybind11  # noqa: E402

from embedcfg import build, codec  # noqa: E402
from embedcfg.errors import ShimError  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description="Build (and run) the pybind11-host example.")
    p.add_argument("--python", default=sys.executable,
                   help="the CPython to build for (default: this one)")
    p.add_argument("--out", default=str(HERE / "build"), help="build directory")
    p.add_argument("--run", action="store_true", help="run script.py once built")
    p.add_argument("args", nargs="*", help="arguments for the script (after --)")
    args = p.parse_args()

    cfg = embedcfg.load(HERE / "app.toml")
    problems = [pr for pr in embedcfg.validate(cfg) if pr.is_error]
    if problems:
        for pr in problems:
            print(f"app.toml: {pr.code} {pr.message}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # The shim reads the canonical JSON form (`embedcfg show --as canonical`).
    (out / "app.json").write_bytes(codec.canonical(cfg))
    try:
        flags = build.host_flags(args.python)
    except ShimError as e:
        print(f"pybind11-host: {e}", file=sys.stderr)
        return 1
    if flags.built.version[:2] < (3, 9):
        print(f"pybind11 {pybind11.__version__} needs CPython 3.9 or newer, not"
              f" {'.'.join(map(str, flags.built.version))}", file=sys.stderr)
        return 1
    exe = out / "pybind11-host"
    cmd = [*shlex.split(os.environ.get("CXX") or "c++"), "-std=c++17", "-Wall", "-Wextra",
           "-Werror", "-O1", f"-isystem{pybind11.get_include()}", *flags.cflags,
           str(HERE / "host.cpp"), "-o", str(exe), *flags.ldflags]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(" ".join(map(shlex.quote, cmd)), proc.stderr, sep="\n", file=sys.stderr)
        return 1
    version = ".".join(map(str, flags.built.version))
    print(f"built {exe} for CPython {version} with pybind11 {pybind11.__version__}",
          file=sys.stderr)
    if not args.run:
        return 0
    # The embedded interpreter must not pick up this process's PYTHON* variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run([str(exe), str(out / "app.json"), str(HERE / "script.py"),
                           *args.args], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
