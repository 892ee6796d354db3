"""Roles of observed variables, computed from the graph (never hand-labelled).

- `action`: the variable a decision-maker sets (declared by the env), when it is a cause of the target
  (an action with no effect on the target gets its graph role);
- `causal`: an observed ancestor of the target (any directed path, also through hidden variables);
- `anti-causal`: a descendant of the target;
- `proxy`: neither, but d-connected to the target given the causal variables, i.e. associated
  with it through a hidden confounder (a non-causal path that conditioning on the observed
  causes does not block);
- `other`: the rest (independent of the target given its observed causes).

"Spurious" names a *link*: the scorer's `spurious_reliance` sums reliance on `proxy` and
`anti-causal` variables, whose association with the target runs through a hidden confounder
or the wrong way, and which a shift can break or reverse.
"""

from __future__ import annotations

from typing import Iterable

import networkx as nx

ROLES = ("causal", "action", "proxy", "anti-causal", "other")
CAUSAL_ROLES = ("causal", "action")
SPURIOUS_ROLES = ("proxy", "anti-causal")


def _d_separated(graph: nx.DiGraph, x: set[str], y: set[str], z: set[str]) -> bool:
    fn = getattr(nx, "is_d_separator", None) or getattr(nx, "d_separated")
    return bool(fn(graph, x, y, z))


def graph_roles(graph: nx.DiGraph, observed: Iterable[str], target: str, action: str | None = None
                ) -> dict[str, str]:
    """Role of every observed non-target variable (see the module docstring)."""
    observed = [v for v in observed if v != target]
    ancestors = nx.ancestors(graph, target)
    descendants = nx.descendants(graph, target)
    causes = {v for v in observed if v in ancestors}
    roles = {}
    for v in observed:
        if v == action and v in causes:
            roles[v] = "action"
        elif v in causes:
            roles[v] = "causal"
        elif v in descendants:
            roles[v] = "anti-causal"
        elif not _d_separated(graph, {v}, {target}, causes):
            roles[v] = "proxy"
        else:
            roles[v] = "other"
    return roles
