"""The package's shape: the pipeline never imports the web framework, and imports point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "imgopt"
# Modules that may know about HTTP; everything else is the pipeline and its helpers.
WEB_MODULES = {"__init__", "views", "middleware", "uploads", "logs", "metrics", "runtime", "config", "worker"}
WEB_LIBRARIES = ("flask", "werkzeug", "gunicorn")


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """(sibling modules, top-level libraries) that a module imports, wherever the import statement is."""
    siblings, libraries = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                siblings.add(node.module.split(".")[0])
            else:
                siblings.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            libraries.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            libraries.update(alias.name.split(".")[0] for alias in node.names)
    return siblings, libraries


GRAPH = {path.stem: imports_of(path) for path in PACKAGE.glob("*.py")}


@pytest.mark.parametrize("module", sorted(set(GRAPH) - WEB_MODULES))
def test_pipeline_modules_do_not_import_the_web_framework(module):
    assert not GRAPH[module][1] & set(WEB_LIBRARIES), f"{module} imports {GRAPH[module][1]}"
    assert not GRAPH[module][0] & WEB_MODULES, f"{module} imports {GRAPH[module][0] & WEB_MODULES}"


def test_the_import_graph_has_no_cycle():
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", " -> ".join([*path, module])
        state[module] = "open"
        for sibling in sorted(GRAPH.get(module, (set(), set()))[0]):
            visit(sibling, [*path, module])
        state[module] = "done"

    for module in sorted(GRAPH):
        visit(module, [])
