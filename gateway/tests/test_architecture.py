"""The gateway's shape: no import circle among its modules, and the request pipeline's stages
are the README's steps, in the README's order."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gateway.pipeline import Pipeline

from gateway.config import DEFAULT_CONFIG_PATH, load_config

GATEWAY = Path(__file__).resolve().parents[1]
PACKAGE = GATEWAY / "src" / "gateway"


def _imports() -> dict[str, set[str]]:
    """Module -> the gateway modules it imports (TYPE_CHECKING imports included)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "gateway":
                    deps |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names if a.name.startswith("gateway.")}
        graph[path.stem] = deps
    return graph


def test_no_import_circle() -> None:
    graph = _imports()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(graph.get(module, ())):
            assert dep not in path, "import circle: " + " -> ".join([*path, dep])
            if dep not in done:
                visit(dep, [*path, dep])
        done.add(module)

    for module in sorted(graph):
        visit(module, [module])


def test_the_stages_are_the_readmes_steps_in_order() -> None:
    readme = (GATEWAY / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Request pipeline", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"\*\*`([a-z0-9_]+)`\*\*", section)
    pipeline = Pipeline(load_config(DEFAULT_CONFIG_PATH, environ={}))
    assert documented == [stage.__name__ for stage in pipeline.stages]
