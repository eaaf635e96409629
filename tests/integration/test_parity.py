"""The C side refuses what ``embedcfg validate`` refuses.

Every document of ``tests/data/invalid/`` and ``tests/data/valid/`` goes
through both ``embedcfg validate`` and the launcher (``embedcfg-launch``).
An invalid document must be refused by the launcher before the interpreter
is initialized (exit 78, one ``embedcfg: error:`` line, not CPython's own
failure during init); a valid one must run. Every difference is listed in
:data:`DIFFERENCES` with its reason, and a listed difference that no longer
differs fails too, so the list stays true.

The launcher reads JSON: a TOML document is handed to it as the JSON of what
TOML parsed (``embedcfg run`` does the same). A TOML file that does not
parse, or holds a type JSON has not (a date), never reaches the C side; its
refusal is the TOML reader's, so it is not compared.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from embedcfg import cli, codec
from embedcfg.checks import _satisfies, parse_requires_python

from .conftest import clean_env

DATA = Path(__file__).resolve().parent.parent / "data"
FILES = sorted(p.relative_to(DATA).as_posix() for kind in ("invalid", "valid")
               for p in (DATA / kind).iterdir())

#: Refused before init: exit 78 and embedcfg's own one-line error.
REFUSED = "refused"
#: Exit 78, but only because CPython's init failed: embedcfg let it through.
REFUSED_BY_CPYTHON = "refused by CPython during init"
#: Refused because an inittab symbol is missing from the host, not for the
#: rule validate applies: with the symbol present the launcher would accept it.
REFUSED_NO_SYMBOL = "refused only for a missing symbol"
RAN = "ran"
_ORDER = [REFUSED, REFUSED_NO_SYMBOL, REFUSED_BY_CPYTHON, RAN]

#: file -> (what the launcher does, why it differs from validate).
DIFFERENCES: Dict[str, Tuple[str, str]] = {
    "valid/all_types.toml": (
        REFUSED_BY_CPYTHON, "a document that validates but cannot start: it sets no"
                            " module_search_paths (those the launcher checks for the"
                            " standard library before init) but home = \"$ORIGIN/..\", the"
                            " build cache's parent here, which holds no standard library, so"
                            " CPython's own path calculation finds no encodings module"
                            " (validate cannot know where a target's standard library is"
                            " without --target)"),
    "invalid/inittab_shadow_builtin.json": (
        REFUSED_NO_SYMBOL, "shadowing a standard-library module needs the target's module"
                           " names, which only the interpreter knows (validate --target"
                           " asks it); the launcher checks before loading it"),
    "invalid/inittab_shadow_stdlib.toml": (
        REFUSED_NO_SYMBOL, "shadowing a standard-library module needs the target's module"
                           " names, which only the interpreter knows"),
    "invalid/unknown_codec.toml": (
        REFUSED_BY_CPYTHON, "whether a codec exists is known only to a running interpreter's"
                            " codec registry; CPython refuses it during init"),
    "valid/embedded.toml": (
        REFUSED, "embedded = true attaches to a running interpreter (embedcfg.attach, tested"
                 " in test_attach.py); the launcher starts one, so it refuses by design"),
    "valid/embedded_inittab.toml": (
        REFUSED, "embedded = true attaches to a running interpreter; the launcher refuses it"
                 " by design"),
    "valid/static_modules.toml": (
        REFUSED, "its lib is $ORIGIN/../lib/libpython3.11.so.1.0, an installed launcher's"
                 " layout that the build cache does not have; the launcher refuses the missing"
                 " library before init"),
}


def _validate_errors(path: Path) -> List[str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["validate", "--format", "json", str(path)], out, err)
    assert code in (0, 1), err.getvalue()
    return sorted({p["code"] for p in json.loads(out.getvalue())["problems"]
                   if p["severity"] == "error"})


def _launcher_input(path: Path) -> Optional[bytes]:
    if path.suffix == ".json":
        return path.read_bytes()
    parsed = codec.read(path)
    if parsed.raw is None:
        return None
    try:
        return json.dumps(parsed.raw, ensure_ascii=False).encode("utf-8")
    except TypeError:  # a TOML date or time
        return None


def _interpreters(path: Path, pythons: Dict[Tuple[int, int], str]) -> List[str]:
    """The oldest and the newest installed CPython the document's
    requires_python admits (where an option too new, or removed, shows);
    empty when it admits none installed; the newest installed when the range
    cannot be read."""
    parsed = codec.read(path)
    spec = parsed.raw.get("requires_python") if isinstance(parsed.raw, dict) else None
    specs = None
    if isinstance(spec, str):
        try:
            specs = parse_requires_python(spec)
        except ValueError:
            pass
    if specs is None:
        return [pythons[max(pythons)]] if pythons else []
    admitted = [pythons[m] for m in sorted(pythons)
                if _satisfies(m + (99,), specs) or _satisfies(m + (0,), specs)]
    return sorted({admitted[0], admitted[-1]}, key=admitted.index) if admitted else []


def _outcome(proc: "subprocess.CompletedProcess[str]") -> str:
    if proc.returncode != 78:
        return RAN
    err = proc.stderr
    if "initializing CPython" in err or "Python path configuration" in err:
        return REFUSED_BY_CPYTHON
    if "not found in the host program" in err:
        return REFUSED_NO_SYMBOL
    assert err.startswith("embedcfg: error: ") and err.count("\n") == 1, err
    return REFUSED


#: The files that reach the launcher, and those the TOML reader refuses
#: (no JSON-able data: a syntax error, a TOML date), which never do.
LAUNCHED = [n for n in FILES if _launcher_input(DATA / n) is not None]
NOT_LAUNCHED = [n for n in FILES if n not in LAUNCHED]


@pytest.mark.parametrize("name", NOT_LAUNCHED)
def test_files_that_never_reach_the_launcher_are_refused(name: str) -> None:
    """A document without JSON-able data cannot be handed to the launcher at all;
    validate refuses it, located (so leaving it out of the comparison hides nothing)."""
    out, err = io.StringIO(), io.StringIO()
    assert name.startswith("invalid/"), name
    assert cli.run(["validate", str(DATA / name)], out, err) == cli.EXIT_PROBLEMS
    assert f"{name.split('/')[-1]}:" in out.getvalue() + err.getvalue()


@pytest.mark.parametrize("name", LAUNCHED)
def test_launcher_agrees_with_validate(name: str, shims: object, pythons: Dict[Tuple[int, int], str],
                                       tmp_path: Path) -> None:
    """The launcher refuses before init exactly what validate refuses (or the
    difference is listed with its reason)."""
    path = DATA / name
    data = _launcher_input(path)
    assert data is not None
    chosen = _interpreters(path, pythons)
    if not chosen and name.startswith("valid/"):
        pytest.skip(f"no installed CPython satisfies its requires_python (installed:"
                    f" {', '.join(f'{a}.{b}' for a, b in sorted(pythons)) or 'none'})")
    if not chosen and pythons:  # refused for its range: any interpreter shows that
        chosen = [pythons[max(pythons)]]
    if not chosen:
        pytest.skip("no CPython is installed")
    doc = tmp_path / "doc.json"
    doc.write_bytes(data)
    outcomes: Dict[str, Tuple[str, str]] = {}
    for python in chosen:
        minor = next(m for m, p in pythons.items() if p == python)
        shim = shims.get_shim(minor)  # type: ignore[attr-defined]
        proc = subprocess.run([str(shim.built.launcher), "--config-dir", str(tmp_path),
                               str(doc)], capture_output=True, text=True, env=clean_env(),
                              stdin=subprocess.DEVNULL, timeout=60, check=False)
        outcomes[python] = (_outcome(proc), f"exit {proc.returncode}: {proc.stderr}")
    # The strongest refusal counts: validate speaks for the whole range, and a
    # valid document must run on every interpreter tried.
    found = min((o for o, _ in outcomes.values()), key=_ORDER.index)
    errors = _validate_errors(path)
    assert bool(errors) == name.startswith("invalid/"), errors
    expected = REFUSED if errors else RAN
    seen = "\n".join(f"{p}: {o} ({detail.strip()})" for p, (o, detail) in outcomes.items())
    listed = DIFFERENCES.get(name)
    if listed is None:
        assert found == expected, f"validate: {errors or 'valid'}; launcher:\n{seen}"
    else:
        assert found != expected, f"{name} no longer differs: remove it from DIFFERENCES"
        assert found == listed[0], f"listed as {listed[0]!r} ({listed[1]}), found:\n{seen}"
