"""The package's import structure: every module imports on its own, and no module imports one that imports it back.

The graph is built from the AST of assistant/**/*.py. An edge is an explicit `import` or `from ... import` of
another module of the package, wherever it is written: at module level, inside a function (a lazy import) or
under `if TYPE_CHECKING:`. The implicit import of a parent package (`assistant/__init__.py`, run before any
submodule) is not an edge."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "assistant"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path) -> set[str]:
    """The package's modules that the module `name` (file `path`) imports explicitly."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            submodules = {f"{target}.{alias.name}" for alias in node.names} & set(MODULES)
            found.update(submodules or {target})  # `from . import llm` names a module, not the package
    return {m for m in found if m in MODULES and m != name}


def import_graph() -> dict[str, set[str]]:
    return {name: imported(name, path) for name, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_module_and_function_level_imports():
    graph = import_graph()
    assert "assistant.store" in graph["assistant.retrieval"]  # module level
    assert "assistant.llm" in graph["assistant.answerers"]  # inside a factory: the LLM answerers load when picked
    assert "assistant.ingest.load" in graph["assistant.ingest.split"]  # relative, in a subpackage
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_module_imports_one_that_imports_it_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "assistant.__main__"))
def test_each_module_imports_alone(name):
    out = _python(f"import {name}")
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_extractive_default_loads_no_llm_client():
    out = _python("import sys, assistant, assistant.answerers, assistant.cli, assistant.api\n"
                  "print(sorted(m for m in ('assistant.llm', 'langchain_openai', 'langchain_ollama', 'llama_cpp')"
                  " if m in sys.modules))")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
