"""Build (and run) readonly-image: an application image whose bytecode is
compiled when the image is built and only read when it runs.

    python examples/readonly-image/build.py            # build examples/readonly-image/build/image/
    python examples/readonly-image/build.py --run      # build, then run the image twice
    python examples/readonly-image/build.py --python ~/.pyenv/versions/3.8.18/bin/python3.8 --run

Steps, as an image build would take them: validate app.toml.in (the template);
copy src/ into build/image/src; write build/image/app.json, the template with
the target interpreter's standard library directories put in front of
module_search_paths (they are machine-specific); `embedcfg precompile
build/image/app.json --python PYTHON --unchecked-hash`; make the image
read-only (chmod -R a-w). With --run: build the launcher for PYTHON, run it
twice on build/image/app.json and check that both runs print the same and
that no file of the image changed. --no-precompile leaves the precompile
step out, to see the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
try:
    import embedcfg
except ImportError:  # running from a checkout without installing embedcfg
    sys.path.insert(0, str(ROOT))
    import embedcfg

from embedcfg import build, cli, codec  # noqa: E402

WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def _env() -> Dict[str, str]:
    # The target must not pick up this process's PYTHON* settings.
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def stdlib_paths(python: str) -> List[str]:
    """The target's own search path without site: its standard library."""
    code = "import json, sys; print(json.dumps(sys.path))"
    proc = subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True,
                          env=_env(), check=True)
    return [p for p in json.loads(proc.stdout) if os.path.exists(p)]


def writable(tree: Path, on: bool) -> None:
    """chmod -R u+w (on) or a-w (off)."""
    for top, dirs, files in os.walk(tree):
        for name in [top, *(os.path.join(top, f) for f in files)]:
            mode = os.lstat(name).st_mode
            os.chmod(name, (mode | stat.S_IWUSR) if on else (mode & ~WRITE))


def snapshot(tree: Path) -> Dict[str, Tuple[int, int, int]]:
    """Every path of the tree with its mode, size and modification time."""
    found = {}
    for top, dirs, files in os.walk(tree):
        for name in [top, *(os.path.join(top, f) for f in files)]:
            st = os.lstat(name)
            found[os.path.relpath(name, tree)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return found


def main() -> int:
    p = argparse.ArgumentParser(description="Build (and run) the readonly-image example.")
    p.add_argument("--python", default=sys.executable,
                   help="the CPython the image ships (default: this one)")
    p.add_argument("--out", default=str(HERE / "build"), help="build directory")
    p.add_argument("--run", action="store_true", help="run the image once built")
    p.add_argument("--no-precompile", action="store_true",
                   help="leave the precompile step out (to compare)")
    args = p.parse_args()

    # A template, not a document that could start (its search path lacks the
    # standard library, EC420): hence the .in, which keeps `embedcfg validate
    # examples/*/*.toml` to real documents. Its errors still stop the build.
    cfg = embedcfg.load(HERE / "app.toml.in", format="toml")
    problems = [pr for pr in embedcfg.validate(cfg) if pr.is_error]
    if problems:
        for pr in problems:
            print(f"app.toml.in: {pr.code} {pr.message}", file=sys.stderr)
        return 1
    image = Path(args.out).resolve() / "image"
    if image.exists():
        writable(image, True)
        shutil.rmtree(image)
    shutil.copytree(HERE / "src", image / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    paths = cfg.options.get("module_search_paths", ())
    assert isinstance(paths, tuple)
    document = image / "app.json"
    document.write_bytes(codec.canonical(cfg.with_options(
        module_search_paths=[*stdlib_paths(args.python), *paths])))

    if not args.no_precompile:
        status = cli.run(["precompile", str(document), "--python", args.python,
                          "--unchecked-hash"], sys.stderr, sys.stderr)
        if status != 0:
            return status
    writable(image, False)
    print(f"built {image} (read-only{', not precompiled' if args.no_precompile else ''})",
          file=sys.stderr)
    if not args.run:
        return 0

    launcher = build.build(args.python, stderr=sys.stderr).launcher
    before = snapshot(image)
    outputs = []
    for _ in range(2):
        proc = subprocess.run([str(launcher), str(document)], capture_output=True, text=True,
                              env=_env(), stdin=subprocess.DEVNULL, check=False)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout)
            return proc.returncode
        outputs.append(proc.stdout)
    after = snapshot(image)
    sys.stdout.write(outputs[0])
    changed = sorted(name for name in before.keys() | after.keys()
                     if before.get(name) != after.get(name))
    print("second run:", "same output" if outputs[1] == outputs[0] else "DIFFERENT output")
    print("changed in the image:", ", ".join(changed) or "nothing")
    return 0 if outputs[1] == outputs[0] and not changed else 1


if __name__ == "__main__":
    sys.exit(main())
