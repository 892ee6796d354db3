"""The package's shape: no import circles, and a core that never names a built-in env or baseline.

The import graph is read with `ast` (nothing is imported), over causalbench/ plus envs/ and
baselines/ as they are installed (causalbench.envs, causalbench.baselines). Only module-level
imports are edges: a function-local import is deliberately lazy (torch, pgmpy, or a plugin).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"causalbench": ROOT / "causalbench", "causalbench.envs": ROOT / "envs",
            "causalbench.baselines": ROOT / "baselines"}
ENV_ID = re.compile(r"[A-Z][A-Za-z0-9]+-v\d+")
MAX_LINES = 500


def modules() -> dict[str, Path]:
    out = {}
    for package, base in PACKAGES.items():
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


MODULES = modules()


def owner(name: str) -> str | None:
    """The package module a dotted import name lives in (None for third-party names)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """Own modules a (possibly relative) import statement loads."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    return {o for o in map(owner, names) if o is not None and o != module}


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for module, path in MODULES.items():
        graph.add_node(module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:   # module level only; `if TYPE_CHECKING:` blocks are not executed
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                # a child importing its own package's __init__ is how packages work, not a cycle
                graph.add_edges_from((module, t) for t in imported(module, node) if not module.startswith(t + "."))
    return graph


def test_the_graph_sees_the_package() -> None:
    graph = import_graph()
    assert graph.number_of_nodes() > 50 and graph.number_of_edges() > 100
    assert graph.has_edge("causalbench.experiments.job", "causalbench.scoring")


def test_no_import_circles() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert not cycles, f"import circles: {cycles}"


def test_planted_circle_is_found() -> None:
    """The check can fail: an edge back from the scorer to the engine closes a circle."""
    graph = import_graph()
    graph.add_edge("causalbench.scoring", "causalbench.experiments.job")
    assert any(len(c) > 1 for c in nx.strongly_connected_components(graph))


def core_constants(path: Path) -> set[str]:
    """String constants of a module, docstrings excluded."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    holders = [n for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                                              ast.AsyncFunctionDef))]
    docs = {id(h.body[0].value) for h in holders if h.body and isinstance(h.body[0], ast.Expr)}
    return {c.value for c in ast.walk(tree) if isinstance(c, ast.Constant) and isinstance(c.value, str)
            and id(c) not in docs}


CORE = [m for m in MODULES if not m.startswith(("causalbench.envs", "causalbench.baselines"))]


@pytest.mark.parametrize("module", CORE)
def test_core_names_no_built_in_env_or_baseline(module: str) -> None:
    from causalbench.env.registry import list_envs
    from causalbench.methods import METHODS, PROTOCOLS, TRACKS

    constants = core_constants(MODULES[module])
    envs = {c for c in constants if ENV_ID.fullmatch(c) and c in list_envs(include_deprecated=True)}
    # a baseline whose name is also protocol vocabulary ("continual") is not named by using the word
    methods = constants & (set(METHODS.names()) - set(PROTOCOLS) - set(TRACKS))
    assert not envs and not methods, f"{module} names {sorted(envs | methods)}"


@pytest.mark.parametrize("module", list(MODULES))
def test_files_stay_readable(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)} has {lines} lines"
