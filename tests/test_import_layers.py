"""The import rules of the house (docs/design.md), checked on the source's import graph: every
import statement counts, inside functions and under TYPE_CHECKING too, absolute or relative
(a module named in a string, as model_zoo/core/backends.py names the loaders, is not an import).

- No circle anywhere: app, components, model_zoo, scripts, benchmarks, app.py.
- model_zoo/core imports no capability (model_zoo.speech, .vision, .text, .fusion, .sentiment,
  .imagine, and any capability package added later).
- A capability may import another, but the capabilities' graph has no cycle.
- A tab (a components module or package listed in app/blocks.py TABS) is imported only from
  inside itself: no tab imports another tab, and nothing shared in components imports a tab.
  What two tabs share lives below them (components/common.py, galleries.py, heads.py, ...).
- model_zoo never imports gradio; components never import torch, transformers, diffusers or
  open_clip.
- No folder of app, components, model_zoo, scripts or benchmarks holds more than MAX_MODULES
  modules (.py files directly in it): a crowded folder splits into subpackages by role.
- Nothing of the project outside tests/ imports tests/ (nor its conftest): a benchmark or a
  script that needs a helper of the tests takes it from where the tests take it (app, model_zoo)
  or owns it.
- No module of model_zoo is a pure re-export shim (a body of only imports, `__all__` and a
  docstring): callers import a name from where it lives, or from its package's
  `__init__.py`, the one place allowed to list a package's public names.
- No function in components runs over 80 lines (nested ones count on their own): a tab's
  build lays out and wires; its handlers are module-level functions.

Each rule also runs on a small, deliberately broken tree (tmp_path) and must catch exactly
its breakages there, so a checker that sees nothing fails. And the modules that once formed
the weights <-> openai_whisper_backend <-> manager circle each import alone in a fresh
interpreter."""
from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("app", "components", "model_zoo", "scripts", "benchmarks", "app.py")
CAPABILITIES = {"speech", "vision", "text", "fusion", "sentiment", "imagine"}  # at least these
NO_GRADIO = {"gradio", "gradio_client"}
NO_TORCH = {"torch", "torchvision", "torchaudio", "transformers", "diffusers", "open_clip"}
MAX_MODULES = 15  # .py files directly in one folder of FOLDER_ROOTS
FOLDER_ROOTS = ("app", "components", "model_zoo", "scripts", "benchmarks")
NO_TESTS = {"tests", "conftest"}  # the test suite: no source module leans on it
MAX_FUNCTION_LINES = 80
ALONE = ("model_zoo.core.loading", "model_zoo.core.checkpoints", "model_zoo.core.weights", "model_zoo.core.manager",
         "model_zoo.speech.openai_whisper_backend", "model_zoo.speech.ct2_whisper_convert")


# -- the graph -------------------------------------------------------------------------------
@dataclass
class Imports:
    edges: dict[str, set[str]]  # module -> the project's modules it imports
    outside: dict[str, set[str]]  # module -> top-level names of other packages it imports (torch, gradio, ...)


def module_name(path: Path, root: Path) -> str:
    if path.parent == root:  # app.py: a script (the app/ package owns the name `app`)
        return path.name
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files(root: Path, sources=SOURCES) -> list[Path]:
    files = []
    for name in sources:
        path = root / name
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
    return files


def scan(root: Path, sources=SOURCES) -> Imports:
    files = source_files(root, sources)
    names = {module_name(f, root): f for f in files}
    modules = set(names)
    tops = {name.split(".")[0] for name in modules}
    edges: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges[name], outside[name] = set(), set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
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
                if target.split(".")[0] not in tops:
                    if not (isinstance(node, ast.ImportFrom) and node.level):
                        outside[name].add(target.split(".")[0])
                    continue
                while target and target not in modules:  # `from . import devices` names a module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    return Imports(edges, outside)


# -- the rules (each returns what breaks it; empty: kept) ------------------------------------
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


def capability_of(module: str) -> str | None:
    """'model_zoo.speech.audio' -> 'speech'; None for core, model_zoo itself and non-model_zoo modules."""
    parts = module.split(".")
    if parts[0] != "model_zoo" or len(parts) < 2 or parts[1] == "core":
        return None
    return parts[1]


def capabilities(root: Path) -> set[str]:
    """Every package under model_zoo but core."""
    return {p.parent.name for p in (root / "model_zoo").glob("*/__init__.py")} - {"core"}


def core_imports_capability(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, targets in edges.items() if a == "model_zoo.core" or a.startswith("model_zoo.core.")
            for b in targets if capability_of(b)}


def capability_graph(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for a, targets in edges.items():
        if (cap := capability_of(a)) is not None:
            graph.setdefault(cap, set()).update(c for b in targets if (c := capability_of(b)) not in (None, cap))
    return graph


def tabs_of(root: Path) -> set[str]:
    """The components modules (or packages) app/blocks.py lists in TABS, by name."""
    tree = ast.parse((root / "app" / "blocks.py").read_text())
    from_components = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                       and node.module == "components" and not node.level for alias in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TABS" for t in node.targets):
            listed = {elt.id for elt in node.value.elts if isinstance(elt, ast.Name)}
            assert listed <= from_components, (
                f"TABS lists names not imported from components: {listed - from_components}"
            )
            return listed
    raise AssertionError("app/blocks.py has no TABS list")


def tab_of(module: str, tabs: set[str]) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "components" and len(parts) > 1 and parts[1] in tabs else None


def tab_imports(edges: dict[str, set[str]], tabs: set[str]) -> set[tuple[str, str]]:
    """Imports of a tab from components outside it (another tab, or a shared module)."""
    return {(a, b) for a, targets in edges.items() if a.split(".")[0] == "components"
            for b in targets if (t := tab_of(b, tabs)) is not None and tab_of(a, tabs) != t}


def imports_of(outside: dict[str, set[str]], prefix: str, banned: set[str]) -> set[tuple[str, str]]:
    return {(a, b) for a, names in outside.items() if a == prefix or a.startswith(prefix + ".")
            for b in names & banned}


def imports_of_tests(outside: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(module, 'tests' or 'conftest') for every source module that imports the test suite."""
    return {(a, b) for a, names in outside.items() for b in names & NO_TESTS}


def crowded_folders(root: Path, roots=FOLDER_ROOTS, limit: int = MAX_MODULES) -> dict[str, int]:
    """Folders (relative to root) with more than `limit` .py files directly in them -> how many."""
    folders = [root / name for name in roots if (root / name).is_dir()]
    folders += [p for folder in list(folders) for p in folder.rglob("*") if p.is_dir() and "__pycache__" not in p.parts]
    counts = {folder.relative_to(root).as_posix(): len(list(folder.glob("*.py"))) for folder in folders}
    return {name: count for name, count in counts.items() if count > limit}


def is_import(node: ast.stmt) -> bool:
    """An import (not `from __future__`), or an `if` (TYPE_CHECKING) holding only imports."""
    if isinstance(node, ast.If):
        return all(is_import(n) for n in node.body + node.orelse)
    return isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", None) != "__future__"


def is_dunder_all(node: ast.stmt) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def is_reexport_shim(source: str) -> bool:
    """A module whose body is only imports, `__all__` and a docstring: its one job is re-exporting."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring
    body = [n for n in body if not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
    return bool(body) and any(is_import(n) for n in body) and all(is_import(n) or is_dunder_all(n) for n in body)


def reexport_shims(root: Path) -> set[str]:
    """The model_zoo modules, package __init__.py files aside, that are pure re-export shims."""
    return {module_name(path, root) for path in source_files(root, ("model_zoo",))
            if path.name != "__init__.py" and is_reexport_shim(path.read_text())}


def long_functions(root: Path, package: str = "components",
                   limit: int = MAX_FUNCTION_LINES) -> set[tuple[str, str, int]]:
    """(file, function, lines) for each function or method in `package` over `limit` lines,
    from its `def` to its last line (decorators not counted; a nested function counts alone,
    and inside its parent too)."""
    found = set()
    for path in source_files(root, (package,)):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.add((path.relative_to(root).as_posix(), node.name, lines))
    return found


# -- the real tree ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real() -> Imports:
    return scan(REPO)


def test_the_graph_has_the_edges_that_matter(real):
    edges = real.edges
    assert "model_zoo.core.loading" in edges["model_zoo.core.manager"]
    assert "model_zoo.core.checkpoints" in edges["model_zoo.core.weights"]
    assert "model_zoo.speech.openai_whisper_backend" not in edges["model_zoo.core.weights"]
    assert "model_zoo.core.manager" not in edges["model_zoo.speech.openai_whisper_backend"]
    assert "components.speech.live" in edges["components.speech"]  # a tab package's parts
    assert "components.common.galleries" in edges["components.captioning"]
    assert {"model_zoo.core.manager", "components.context"} <= edges["app.blocks"]
    assert "gradio" in real.outside["components.common"] and "torch" in real.outside["model_zoo.fusion.modules"]
    assert CAPABILITIES <= capabilities(REPO)
    assert {"fusion", "text"} <= capability_graph(edges)["sentiment"]
    tabs = tabs_of(REPO)
    assert {"speech", "sentiment", "training", "search", "captioning", "imagine", "system"} <= tabs
    assert not tabs & {"common", "context", "visitor", "galleries", "heads"}


def test_no_import_cycle_anywhere(real):
    cycle = find_cycle(real.edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_core_imports_no_capability(real):
    assert not core_imports_capability(real.edges)


def test_capabilities_import_each_other_without_a_cycle(real):
    cycle = find_cycle(capability_graph(real.edges))
    assert cycle is None, "capability cycle: " + " -> ".join(cycle or [])


def test_tabs_never_import_tabs(real):
    assert not tab_imports(real.edges, tabs_of(REPO))


def test_model_zoo_never_imports_gradio(real):
    assert not imports_of(real.outside, "model_zoo", NO_GRADIO)


def test_components_never_import_torch(real):
    assert not imports_of(real.outside, "components", NO_TORCH)


def test_nothing_outside_tests_imports_tests(real):
    assert not imports_of_tests(real.outside)


def test_no_folder_holds_more_than_max_modules():
    crowded = crowded_folders(REPO)
    assert not crowded, f"split these folders into subpackages by role (at most {MAX_MODULES} modules): {crowded}"


def test_no_model_zoo_module_only_reexports():
    shims = reexport_shims(REPO)
    assert not shims, f"import their names from where they live, or from the package's __init__.py: {sorted(shims)}"
def test_no_function_in_components_runs_over_80_lines():
    assert not long_functions(REPO)


@pytest.mark.parametrize("module", ALONE)
def test_each_module_imports_alone(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


# -- a broken tree: each rule must see its breakages -------------------------------------------
BROKEN = {
    "app/__init__.py": "",
    "app/blocks.py": """
        from components import alpha, beta, gamma, helpers
        TABS = [alpha, beta, gamma]
        """,
    "components/__init__.py": "",
    "components/common.py": "import gradio as gr\n",
    "components/helpers.py": "from . import alpha  # a shared module importing a tab\n",
    "components/alpha.py": """
        from .common import gr
        from .beta.parts import thing  # a tab importing a tab
        """,
    "components/beta/__init__.py": "from . import live  # a tab's own parts: fine\n",
    "components/beta/live.py": "from .parts import thing\n",
    "components/beta/parts.py": """
        def thing():
            import torch  # inside a function still counts
        """,
    "components/gamma.py": """
        from transformers import AutoModel
        from model_zoo.speech import talk
        """,
    "components/delta.py": (  # 80 lines fit; 81 do not, a method and a nested function too
        "def fits():\n" + "    x = 1\n" * 79
        + "def too_long():\n" + "    x = 1\n" * 80
        + "class Tab:\n    async def build(self):\n" + "        x = 1\n" * 80
        + "def outer():\n    def inner():\n" + "        x = 1\n" * 80 + "    return inner\n"),
    "model_zoo/__init__.py": "",
    "model_zoo/core/__init__.py": "",
    "model_zoo/core/backends.py": 'LOADERS = {"talk": "model_zoo.speech.talk"}  # a string: fine\n',
    "model_zoo/core/weights.py": "from model_zoo.speech.talk import hello\nGREETING = hello\n",
    "model_zoo/core/ownership.py": """
        def forget():
            from ..vision import see
        """,
    "model_zoo/core/registry.py": "from . import backends\nLOADERS = backends.LOADERS\n",
    "model_zoo/speech/__init__.py": "",
    "model_zoo/speech/talk.py": """
        import gradio
        from model_zoo.core import registry
        from model_zoo.vision.see import look

        def hello():
            return gradio, registry, look
        """,
    "model_zoo/vision/__init__.py": "",
    "model_zoo/vision/see.py": """
        def later():
            from model_zoo.speech import talk
        """,
    "model_zoo/text/__init__.py": """
        \"""A package's face may list its public names.\"""
        from model_zoo.text.words import Client
        __all__ = ["Client"]
        """,
    "model_zoo/text/words.py": "from model_zoo.vision import see\nfrom gradio_client import Client\nSEE = see\n",
    "model_zoo/text/face.py": """
        \"""Only re-exports: a shim.\"""
        from __future__ import annotations
        from typing import TYPE_CHECKING
        from model_zoo.text.words import Client  # noqa: F401
        if TYPE_CHECKING:
            from model_zoo.vision.see import later
        __all__ = ["Client"]
        """,
    "model_zoo/text/doc_only.py": '"""A docstring and nothing else is no shim."""\n',
    "model_zoo/text/uses.py": "from model_zoo.text.words import Client\nCLIENT = Client\n",
    **{f"model_zoo/text/part_{n:02}.py": "" for n in range(11)},  # 16 modules in model_zoo/text: crowded
    **{f"components/beta/part_{n:02}.py": "" for n in range(12)},  # 15 in components/beta: the limit, kept
    "scripts/__init__.py": "",
    "scripts/job.py": "from scripts import other\n",
    "scripts/other.py": "import scripts.job\n",
    "benchmarks/__init__.py": "",
    "benchmarks/serving/__init__.py": "",
    "benchmarks/serving/soak.py": """
        def start():
            from tests.conftest import start_app  # a benchmark leaning on the tests
            return start_app
        """,
    "benchmarks/serving/load.py": "import conftest\nfrom app.network import free_port\n",
    **{f"benchmarks/serving/part_{n:02}.py": "" for n in range(14)},  # 17 modules in benchmarks/serving
}


@pytest.fixture
def broken(tmp_path) -> Path:
    for name, text in BROKEN.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip())
    return tmp_path


def test_the_checker_sees_a_cycle(broken):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    edges = scan(broken).edges
    assert find_cycle(edges) == ["model_zoo.speech.talk", "model_zoo.vision.see", "model_zoo.speech.talk"]
    del edges["model_zoo.vision.see"]
    assert find_cycle(edges) == ["scripts.job", "scripts.other", "scripts.job"]  # beyond model_zoo too


def test_the_checker_sees_core_import_a_capability(broken):
    assert core_imports_capability(scan(broken).edges) == {
        ("model_zoo.core.weights", "model_zoo.speech.talk"), ("model_zoo.core.ownership", "model_zoo.vision.see"),
        ("model_zoo.core.ownership", "model_zoo.vision")}  # `from ..vision import see` runs the package too


def test_the_checker_sees_a_capability_cycle(broken):
    graph = capability_graph(scan(broken).edges)
    assert graph == {"speech": {"vision"}, "vision": {"speech"}, "text": {"vision"}}
    assert find_cycle(graph) == ["speech", "vision", "speech"]
    assert capabilities(broken) == {"speech", "vision", "text"}


def test_the_checker_sees_a_tab_import_a_tab(broken):
    assert tabs_of(broken) == {"alpha", "beta", "gamma"}
    assert tab_imports(scan(broken).edges, tabs_of(broken)) == {
        ("components.alpha", "components.beta.parts"), ("components.helpers", "components.alpha")}


def test_the_checker_sees_a_long_function(broken):
    assert long_functions(broken) == {("components/delta.py", "too_long", 81), ("components/delta.py", "build", 81),
                                      ("components/delta.py", "inner", 81), ("components/delta.py", "outer", 83)}
    assert not long_functions(broken, "model_zoo")  # components only


def test_the_checker_sees_forbidden_libraries(broken):
    outside = scan(broken).outside
    assert imports_of(outside, "model_zoo", NO_GRADIO) == {
        ("model_zoo.speech.talk", "gradio"), ("model_zoo.text.words", "gradio_client")}
    assert imports_of(outside, "components", NO_TORCH) == {
        ("components.beta.parts", "torch"), ("components.gamma", "transformers")}


def test_the_checker_sees_a_crowded_folder(broken):
    assert crowded_folders(broken) == {"model_zoo/text": 16, "benchmarks/serving": 17}
    assert crowded_folders(broken, limit=17) == {}
    assert crowded_folders(broken, limit=14) == {"model_zoo/text": 16, "components/beta": 15,
                                                 "benchmarks/serving": 17}
    assert crowded_folders(broken, roots=("scripts",), limit=2) == {"scripts": 3}


def test_the_checker_sees_an_import_of_the_tests(broken):
    assert imports_of_tests(scan(broken).outside) == {("benchmarks.serving.soak", "tests"),
                                                      ("benchmarks.serving.load", "conftest")}


def test_the_checker_sees_a_reexport_shim(broken):
    assert reexport_shims(broken) == {"model_zoo.text.face"}  # not the package's __init__, not uses, not doc_only
    assert is_reexport_shim((broken / "model_zoo" / "text" / "__init__.py").read_text())
    assert not is_reexport_shim("")
