"""The fake's modules import each other in one direction only: no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import timelines_async.testing

PACKAGE = Path(timelines_async.testing.__file__).parent
Module = tuple[str, ...]


def module_of(path: Path) -> Module:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(path: Path) -> set[Module]:
    """What `path` imports from the package, at any level (TYPE_CHECKING and functions too)."""
    module = module_of(path)
    here = module if path.name == "__init__.py" else module[:-1]
    found: set[Module] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level + 1]
            target = (*base, *(node.module.split(".") if node.module else ()))
            found.add(target)
            found.update((*target, alias.name) for alias in node.names)
    return found


def test_no_module_of_the_fake_imports_one_that_imports_it_back() -> None:
    imports = {module_of(path): imports_of(path) for path in PACKAGE.rglob("*.py")}
    graph = {
        name: {m for m in found if m in imports and m != name} for name, found in imports.items()
    }

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

    assert sum(map(len, graph.values())) > 50, "the imports are found"
    cycles = sorted(
        ".".join(a) + " -> " + ".".join(b) for a in graph for b in graph[a] if reaches(b, a)
    )
    assert cycles == []
