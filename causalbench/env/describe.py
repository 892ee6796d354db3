"""Human-readable description of an environment: story, graph, roles, shifts, ground truth."""

from __future__ import annotations

import inspect
from typing import Any

from .effects import estimate_effect


def _section(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def describe_env(env: Any) -> str:
    """Everything `causalbench describe ENV` prints."""
    scm = env.scm
    doc = inspect.cleandoc(type(env).__doc__ or "")
    lines = [f"{env.id}: {env.summary}", "", doc]
    lines += _section("Graph (hidden variables in [brackets])")
    show = (lambda v: f"[{v}]" if scm[v].hidden else v)
    for v in scm.order:
        children = sorted(scm.graph.successors(v), key=scm.order.index)
        if children:
            lines.append(f"  {show(v)} -> {', '.join(show(c) for c in children)}")
    lines += _section("Variables")
    lines.append(f"  {'name':<16} {'kind':<12} {'role':<9} {'hidden':<7} mechanism")
    for v in scm.order:
        var = scm[v]
        kind = var.kind + (f"({var.cardinality})" if var.kind == "categorical" else "")
        lines.append(f"  {v:<16} {kind:<12} {var.role:<9} {str(var.hidden).lower():<7} {var.mechanism.type}"
                     + (f"  # {var.description}" if var.description else ""))
    lines += _section("Training domains")
    for d in env.domains:
        lines.append(f"  {d.name}: {d.description or 'base SCM'}")
    lines += _section("Shifts (test sets <shift>@<severity>)")
    for s in env.shifts:
        sev = ", ".join(f"{x:g}" for x in s.severities)
        lines.append(f"  {s.name:<18} {s.kind:<18} severities {sev}  {s.description}")
    lines += _section(f"Ground truth E[{env.target} | do(X = a)] (training distribution)")
    for v in env.variables:
        grid = env.effect_grid(v)
        truth = env.true_effect(v, grid)
        how = "exact"
        if truth is None:
            truth, se = estimate_effect(env, v, grid)
            how = f"Monte Carlo, se <= {se.max():.3g}"
        pairs = ", ".join(f"{a:g}: {t:.4g}" for a, t in zip(grid, truth))
        lines.append(f"  {v:<16} ({env.roles[v]}, {how})  {pairs}")
    lines.append(f"  null predictor (training {'mean' if env.target_kind == 'real' else 'prior'}): {env.null_prediction:.4g}")
    lines.append(f"  causal oracle uses: {', '.join(env.causal_variables) or '(no observed causes: a constant)'}")
    if env.action is not None:
        lines += _section("Decision task")
        acts = ", ".join(f"{a:g}" for a in env.action_values)
        lines.append(f"  action: do({env.action} = a), a in {{{acts}}}; observation: {', '.join(env.context_variables) or '(none)'}")
    return "\n".join(lines)
