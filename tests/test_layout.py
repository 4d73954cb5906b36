"""The package's shape: each layer is a package, and imports point one way between them.

imgopt (create_app) -> http -> imaging, server, config, errors
config -> imaging (option ranges, pipeline settings)
imaging -> errors            (pure: no Flask, Werkzeug or gunicorn; no other layer)
server -> nothing of ours    (gunicorn worker, probe responder, logs, metrics)
"""

from __future__ import annotations

import ast
import io
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "imgopt"
WEB_LIBRARIES = {"flask", "werkzeug", "gunicorn"}

# The layer of every module, by its path, and the layers (and libraries) each may import.
ALLOWED_LAYERS = {
    "imgopt": {"imgopt", "http", "imaging", "server", "config", "errors"},
    "http": {"http", "imaging", "server", "config", "errors"},
    "config": {"imaging"},
    "errors": set(),
    "imaging": {"imaging", "errors"},
    "server": {"server", "errors"},
}
ALLOWED_LIBRARIES = {
    "http": {"flask", "werkzeug"},
    "server": {"gunicorn"},
    "imgopt": {"flask"},
}


def layer_of(module: str) -> str:
    """imgopt.http.api -> http; imgopt.config -> config; imgopt -> imgopt."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "imgopt"


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """(imgopt modules, top-level libraries) that a module imports, wherever the import statement is."""
    ours, libraries = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path}: use absolute imports"
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.split(".")[0] == "imgopt":
                ours.add(name)
            else:
                libraries.add(name.split(".")[0])
    return ours, libraries


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def resolve(name: str) -> str | None:
    """The module an imported dotted name refers to (``imgopt.imaging.geometry.plan`` -> its module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_the_layers_below_it(module):
    layer = layer_of(module)
    ours, libraries = GRAPH[module]
    used = {layer_of(target) for target in filter(None, map(resolve, ours)) if target != "imgopt"}
    assert used <= ALLOWED_LAYERS[layer] | {layer}, (
        f"{module} ({layer}) imports {used - ALLOWED_LAYERS[layer]}"
    )
    web = libraries & WEB_LIBRARIES
    assert web <= ALLOWED_LIBRARIES.get(layer, set()), f"{module} ({layer}) imports {web}"


def test_the_imaging_layer_imports_neither_flask_nor_the_server_layer():
    imaging = [name for name in MODULES if layer_of(name) == "imaging"]
    assert len(imaging) >= 15
    for module in imaging:
        ours, libraries = GRAPH[module]
        assert not libraries & WEB_LIBRARIES, module
        assert not {layer_of(t) for t in filter(None, map(resolve, ours))} - {"imaging", "errors"}, module


def test_every_module_lives_in_a_layer_package():
    loose = {path.name for path in PACKAGE.glob("*.py")}
    assert loose == {"__init__.py", "config.py", "errors.py"}, loose
    assert {path.name for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").exists()} == {
        "http",
        "imaging",
        "server",
    }


def test_the_import_graph_has_no_cycle():
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", " -> ".join([*path, module])
        state[module] = "open"
        for target in sorted(filter(None, map(resolve, GRAPH[module][0]))):
            if target != module and not module.startswith(target + "."):
                visit(target, [*path, module])
        state[module] = "done"

    for module in sorted(MODULES):
        visit(module, [])


def test_tests_and_benchmarks_share_helpers_through_testing_only():
    for folder, forbidden in (
        ("tests", "bench"),
        ("bench", "tests"),
        ("testing", "tests"),
        ("testing", "bench"),
    ):
        for path in (ROOT / folder).glob("*.py"):
            _ours, libraries = imports_of(path)
            assert forbidden not in libraries, f"{path.relative_to(ROOT)} imports {forbidden}"


def test_the_layout_page_lists_every_module_and_nothing_that_is_gone():
    listed = set(re.findall(r"^\| `(imgopt/[^`]+\.py)` \|", (ROOT / "docs" / "layout.md").read_text(), re.M))
    present = {str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")}
    assert present - listed == set(), "modules docs/layout.md does not list"
    assert listed - present == set(), "modules docs/layout.md lists that are gone"


def test_the_laravel_packages_tree_is_the_one_the_layout_page_lists():
    package = ROOT / "clients" / "laravel"
    listed = set(
        re.findall(r"^\| `(clients/laravel/[^`]+)` \|", (ROOT / "docs" / "layout.md").read_text(), re.M)
    )
    ignored = {"vendor", "composer.lock", ".gitignore", ".phpunit.result.cache", ".phpunit.cache"}
    present = {
        str(path.relative_to(ROOT))
        for path in package.rglob("*")
        if path.is_file()
        and not ignored & set(path.relative_to(package).parts)
        and "fixtures" not in path.relative_to(package).parts
    }
    assert present - listed == set(), "files of clients/laravel docs/layout.md does not list"
    assert listed - present == set(), "files docs/layout.md lists that are gone"


def walk_of_a_variants_request() -> list[str]:
    """The imgopt modules a real /variants request (a widths=auto rendition and a smart crop, one thread)
    enters, in the order it first enters each."""
    from imgopt import create_app
    from imgopt.config import Settings
    from testing import images
    from testing.server import TOKEN

    app = create_app(Settings(api_token=TOKEN, rendition_threads=1))
    variants = [
        {"name": "webp", "widths": "auto"},
        {"name": "card", "format": "avif", "width": 200, "height": 200, "fit": "cover", "gravity": "smart"},
    ]
    form = {"variants": json.dumps(variants), "file": (io.BytesIO(images.photo((1600, 1200))), "a.jpg")}
    entered: list[str] = []

    def profile(frame, event, _arg):
        path = Path(frame.f_code.co_filename)
        if event == "call" and PACKAGE in path.parents:
            name = str(path.relative_to(PACKAGE))
            if name not in entered:
                entered.append(name)

    client = app.test_client()
    sys.setprofile(profile)
    try:
        response = client.post("/variants", data=form, headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        sys.setprofile(None)
    assert response.status_code == 200
    return entered


def test_the_layout_pages_walk_of_a_request_is_the_order_the_code_runs_in():
    page = (ROOT / "docs" / "layout.md").read_text()
    story = page[page.index("## A /variants request, in the order it runs") : page.index("## Modules")]
    # Step 1 is gunicorn's side, which runs before the app (Flask's test client has none of it); the app's
    # walk starts at step 2.
    worker, app = story.split("\n2. ", 1)
    pattern = r"`((?:http|imaging|server)/[a-z_/]+\.py|config\.py|errors\.py)`"
    assert all((PACKAGE / name).is_file() for name in re.findall(pattern, worker))
    named = list(dict.fromkeys(re.findall(pattern, app)))
    assert named == walk_of_a_variants_request(), "the walk on the page is not the code's"


def test_the_benchmarks_import_one_another_in_no_circle():
    graph = {}
    for path in sorted((ROOT / "bench").glob("*.py")):
        ours = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "bench":
                ours |= {f"bench.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bench."):
                ours.add(node.module)
        graph[f"bench.{path.stem}"] = ours

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, " -> ".join([*path, module])
        for target in sorted(graph.get(module, ())):
            visit(target, [*path, module])

    for module in graph:
        visit(module, [])
