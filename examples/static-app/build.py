"""Build and run static-app: extension modules linked into the executable,
found by embedcfg's indexed static importer.

    python examples/static-app/build.py            # build into examples/static-app/build/
    python examples/static-app/build.py --run      # build (if needed) and run
    python examples/static-app/build.py --python ~/.pyenv/versions/3.12.1/bin/python3.12 --run
    python examples/static-app/build.py --link static --run   # libpython3.X.a linked in

Steps: validate app.toml; bake its inittab into build/table.c (a sorted table,
`embedcfg bake app.toml -o build/table.c`); write the rest of the document for
the shim (build/app.json: the inittab is compiled in, so the shim must not
register it again); compile host.c, the modules, the table, the static
importer and the shim against the chosen CPython, linked with its shared
libpython or (--link static) its static one, the interpreter's symbols then
exported as CPython's own LINKFORSHARED does, so that lib-dynload's modules
load; check that every init function is in the executable; run it.
"""

from __future__ import annotations

import argparse
import os
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

import attrs  # noqa: E402

from embedcfg import bake, build, codec  # noqa: E402

SHIM = ROOT / "capi_shim"
# the shim library's sources (embedcfg.build builds the same ones)
SHIM_SOURCES = ("handle.c", "modules.c", "document.c", "apply.c", "apply_pep587.c",
                "apply_pep741.c", "attach.c", "importer.c", "static_importer.c",
                "archive.c", "archive_importer.c", "archive_resources.c",
                "onefile.c", "extension_importer.c", "pathsec.c", "arena.c", "paths.c",
                "version.c", "jsonparse.c", "utf8.c")


def main() -> int:
    p = argparse.ArgumentParser(description="Build (and run) the static-app example.")
    p.add_argument("--python", default=sys.executable,
                   help="the CPython to build for (default: this one)")
    p.add_argument("--out", default=str(HERE / "build"), help="build directory")
    p.add_argument("--run", action="store_true", help="run the application once built")
    p.add_argument("--link", choices=("dynamic", "static"), default="dynamic",
                   help="link the shared libpython (default) or the static one")
    args = p.parse_args()

    cfg = embedcfg.load(HERE / "app.toml")
    problems = [pr for pr in embedcfg.validate(cfg) if pr.is_error]
    if problems:
        for pr in problems:
            print(f"app.toml: {pr.code} {pr.message}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.c").write_text(bake.bake(cfg, prefix="app_static", source="app.toml"),
                                 encoding="utf-8")
    (out / "app.json").write_bytes(codec.canonical(attrs.evolve(cfg, inittab=())))

    target = build.probe(args.python)
    if args.link == "static":
        try:
            static = build.static_lib(target)
        except embedcfg.ShimError as e:
            print(f"{args.python}: {e}", file=sys.stderr)
            return 1
        # every member of the archive, its symbols exported (what
        # `embedcfg build --link static` links the launcher with)
        link = ["-Wl,--export-dynamic", "-Wl,--whole-archive", static.library,
                "-Wl,--no-whole-archive", *static.libs, "-ldl"]
    elif target.libpython is None:
        print(f"{args.python}: a shared libpython is needed", file=sys.stderr)
        return 1
    else:
        lib = Path(target.libpython)
        link = [f"-L{lib.parent}", f"-Wl,-rpath,{lib.parent}",
                f"-l{lib.name.split('.so')[0][3:]}", "-ldl"]
    exe = out / "static-app"
    cmd = [os.environ.get("CC", "cc"), "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2",
           f"-I{SHIM}", *(f"-I{i}" for i in target.includes), str(HERE / "host.c"),
           *map(str, sorted((HERE / "modules").glob("*.c"))), str(out / "table.c"),
           *(str(SHIM / s) for s in SHIM_SOURCES), "-o", str(exe), *link]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    missing = bake.missing_symbols(cfg, exe, exported=False)
    for m in missing:
        print(f"app.toml: {m.message}", file=sys.stderr)
    if missing:
        return 1
    print(f"built {exe} for CPython {'.'.join(map(str, target.version))} ({args.link})",
          file=sys.stderr)
    if not args.run:
        return 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run([str(exe), str(out / "app.json")], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
