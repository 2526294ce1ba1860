"""Files a maintainer reads top to bottom: no module of assistant/ over 400 lines, no function over 60, and the
faces (api/, cli.py) hold no Chroma, BM25 or manifest access."""

from __future__ import annotations

import ast

from conftest import REPO

PACKAGE = REPO / "assistant"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_no_module_or_function_is_too_long_to_read():
    long_files, long_functions = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(REPO))
        if len(text.splitlines()) > MAX_FILE_LINES:
            long_files.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert not long_files and not long_functions, long_files + long_functions


def test_the_faces_reach_the_index_only_through_the_assistant():
    faces = [*sorted((PACKAGE / "api").glob("*.py")), PACKAGE / "cli.py"]
    assert len(faces) > 3
    for path in faces:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not {m for m in imported if m.split(".")[0] in ("chromadb", "bm25s", "filelock")}, path.name
        assert not {m for m in imported if m.endswith(("store", "retrieval", "ingest.index"))}, path.name
        assert not attributes & {"store", "manifest", "snapshot", "bm25", "passages", "sentences"}, (
            path.name, attributes & {"store", "manifest", "snapshot", "bm25", "passages", "sentences"})
