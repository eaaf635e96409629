"""The package's import graph: no module imports one that imports it back.

Imports inside functions count too (most of embedcfg's are, to keep start-up
light): a cycle through them still ties two modules' code together, and it
breaks the first time one of those imports moves to the top of a file. Only
imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set

import embedcfg

PACKAGE = Path(embedcfg.__file__).resolve().parent


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(tree: ast.AST, modules: Set[str]) -> Iterator[str]:
    """The package's modules that ``tree`` imports, wherever the import is."""
    for node in ast.iter_child_nodes(tree):
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.startswith("embedcfg"):
                module = module[len("embedcfg."):] if module != "embedcfg" else ""
            elif node.level != 1:
                module = "?"  # not ours
            if module == "":  # from . import x: the submodule x, or the package itself
                for alias in node.names:
                    yield alias.name if alias.name in modules else "__init__"
            elif module != "?":
                yield module.split(".")[0]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("embedcfg."):
                    yield alias.name.split(".")[1]
        yield from _imported(node, modules)


def import_graph(package: Path) -> Dict[str, Set[str]]:
    """module -> the package's modules it imports."""
    files = {p.stem: p for p in package.glob("*.py")}
    return {name: set(_imported(ast.parse(path.read_text(encoding="utf-8")), set(files)))
            - {name} for name, path in files.items()}


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[List[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


#: Cycles that exist on purpose for now, each with who owns removing it. The
#: test compares for equality, so a new cycle fails, and so does removing
#: one of these without removing it here.
KNOWN_CYCLES: List[List[str]] = []


def test_no_import_cycles() -> None:
    """No two embedcfg modules import each other, directly or through others."""
    assert KNOWN_CYCLES == cycles(import_graph(PACKAGE))


def test_cycles_are_found_through_function_imports(tmp_path: Path) -> None:
    """The check sees a cycle made of imports inside functions, as embedcfg writes them."""
    (tmp_path / "a.py").write_text("def f():\n    from .b import g\n")
    (tmp_path / "b.py").write_text("def g():\n    from . import a\n")
    (tmp_path / "c.py").write_text("from typing import TYPE_CHECKING\n"
                                   "if TYPE_CHECKING:\n    from .a import f\n")
    assert [["a", "b"]] == cycles(import_graph(tmp_path))


def test_graph_sees_the_command_line_imports() -> None:
    """The graph is the package's: cli imports the modules of its commands."""
    assert {"bake", "precompile", "_symbols"} <= import_graph(PACKAGE)["cli"]
