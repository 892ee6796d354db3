"""Human-readable description of an environment: story, graph, roles, shifts and the published ground truth."""

from __future__ import annotations

import inspect
from typing import Any

from .roles import ROLES


def _section(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def describe_env(env: Any) -> str:
    """Everything `causalbench describe ENV` prints."""
    scm, truth = env.scm, env.truth
    doc = inspect.cleandoc(type(env).__doc__ or "")
    lines = [f"{env.id}: {env.summary}", "", doc]
    lines += _section("Graph (hidden variables in [brackets])")
    show = (lambda v: f"[{v}]" if scm[v].hidden else v)
    for v in scm.order:
        children = sorted(scm.graph.successors(v), key=scm.order.index)
        if children:
            lines.append(f"  {show(v)} -> {', '.join(show(c) for c in children)}")
    lines += _section("Variables (roles computed from the graph)")
    lines.append(f"  {'name':<16} {'kind':<12} {'role':<12} {'hidden':<7} mechanism")
    for v in scm.order:
        var = scm[v]
        kind = var.kind + (f"({var.cardinality})" if var.kind == "categorical" else "")
        role = "target" if v == env.target else env.roles.get(v, "hidden")
        lines.append(f"  {v:<16} {kind:<12} {role:<12} {str(var.hidden).lower():<7} {var.mechanism.type}"
                     + (f"  # {var.description}" if var.description else ""))
    by_role = {r: [v for v in env.variables if env.roles[v] == r] for r in ROLES}
    lines.append("  " + "; ".join(f"{r}: {', '.join(vs)}" for r, vs in by_role.items() if vs))
    lines += _section("Training domains")
    for d in env.domains:
        lines.append(f"  {d.name}: {d.description or 'base SCM'}")
    lines += _section("Shifts (test sets <shift>@<severity>)")
    for s in env.shifts:
        sev = ", ".join(f"{x:g}" for x in s.severities)
        links = env.shift_links(s.test_name(s.severities[0]))
        breaks = f"  [breaks the link of {', '.join(links)}]" if links else ""
        lines.append(f"  {s.name:<18} {s.kind:<18} severities {sev}  {s.description}{breaks}")
    lines += _section(f"Ground truth E[{env.target} | do(X = a)] (training distribution)")
    for v in env.variables:
        grid = truth.effect_grid(v)
        values = truth.true_effect(v, grid)
        how = "exact"
        if values is None:
            values, se = truth.estimate_effect(v, grid)
            how = f"Monte Carlo, se <= {se.max():.3g}"
        pairs = ", ".join(f"{a:g}: {t:.4g}" for a, t in zip(grid, values))
        lines.append(f"  {v:<16} ({env.roles[v]}, {how})  {pairs}")
    lines += _section("References (scored like any predictor; never ranked)")
    lines.append(f"  causal reference: E[{env.target} | do(X = x)], depends on "
                 f"{', '.join(truth.reference_inputs) or '(no observed cause: a constant)'}")
    lines.append(f"  Bayes predictor of each test set: E_test[{env.target} | X = x]")
    lines.append(f"  null: training {'mean' if env.target_kind == 'real' else 'prior P(Y = 1)'} {truth.null:.4g}; "
                 f"sd(Y) = {truth.target_scale:.4g}")
    if env.action is not None:
        lines += _section("Decision task")
        acts = ", ".join(f"{a:g}" for a in env.action_values)
        lines.append(f"  action: do({env.action} = a), a in {{{acts}}}; context: "
                     f"{', '.join(env.context_variables) or '(none)'}")
    if env.episodic:
        lines += _section("Multi-step task")
        lines.append(f"  gymnasium: causalbench/{env.id} ({type(env).gym_class.__name__}), "
                     f"{len(env.policy_cells())} observation cells; regret against the best memoryless policy")
    return "\n".join(lines)
