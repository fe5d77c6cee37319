"""model_zoo's imports point down: no module imports one that (directly or through
others) imports it back, counting imports inside functions too; and the modules that
once formed the weights <-> openai_whisper_backend <-> manager circle each import alone
in a fresh interpreter."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "model_zoo"
ALONE = ("model_zoo.core.loading", "model_zoo.core.checkpoints", "model_zoo.core.weights", "model_zoo.core.manager",
         "model_zoo.speech.openai_whisper_backend", "model_zoo.speech.ct2_whisper_convert")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_edges(path: Path, modules: set[str]) -> set[str]:
    """model_zoo modules that `path` imports anywhere in its body (absolute or relative)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `from . import devices` names a module
                target = target.rpartition(".")[0]
            if target and target != name and target != "model_zoo":
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): import_edges(f, modules) for f in files}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_checker_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_has_the_edges_that_matter():
    edges = graph()
    assert "model_zoo.core.loading" in edges["model_zoo.core.manager"]
    assert "model_zoo.core.checkpoints" in edges["model_zoo.core.weights"]
    assert "model_zoo.speech.openai_whisper_backend" not in edges["model_zoo.core.weights"]
    assert "model_zoo.core.manager" not in edges["model_zoo.speech.openai_whisper_backend"]


def test_model_zoo_has_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("module", ALONE)
def test_each_module_imports_alone(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
