"""The package's modules import each other in one direction only: no import cycles.

Every import counts, at any level: module top, functions and `TYPE_CHECKING`
blocks, since a cycle that only the type checker sees is still a knot a reader
must untie.
"""

from __future__ import annotations

import ast
from pathlib import Path

import timelines_async

PACKAGE = Path(timelines_async.__file__).parent
Module = tuple[str, ...]


def module_of(path: Path) -> Module:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(path: Path, modules: set[Module]) -> set[Module]:
    """The package's modules that `path` imports (`from . import x` counts as `x` alone)."""
    module = module_of(path)
    here = module if path.name == "__init__.py" else module[:-1]
    found: set[Module] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level + 1]
            target = (*base, *(node.module.split(".") if node.module else ()))
            submodules = {(*target, alias.name) for alias in node.names} & modules
            found.update(submodules or {target})
    return found & modules


def cycles_in(graph: dict[Module, set[Module]]) -> list[str]:
    def reaches(start: Module, goal: Module) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return False

    return sorted(
        ".".join(a) + " -> " + ".".join(b) for a in graph for b in graph[a] if reaches(b, a)
    )


def test_no_module_imports_one_that_imports_it_back() -> None:
    paths = list(PACKAGE.rglob("*.py"))
    modules = {module_of(path) for path in paths}
    graph = {module_of(path): imports_of(path, modules) - {module_of(path)} for path in paths}
    assert sum(map(len, graph.values())) > 150, "the imports are found"
    assert cycles_in(graph) == []


def test_a_cycle_is_found() -> None:
    """The check itself can fail: two modules importing each other are reported."""
    assert cycles_in({("a",): {("b",)}, ("b",): {("a",)}, ("c",): {("a",)}}) == [
        "a -> b",
        "b -> a",
    ]
