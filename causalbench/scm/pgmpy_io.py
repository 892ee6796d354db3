"""Interop with pgmpy: export discrete and linear-Gaussian SCMs, import discrete networks.

pgmpy is imported lazily here only, so `import causalbench` never pays for it.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import SCMError
from .distributions import CPT
from .mechanisms import Mechanism

# `SCM` below is causalbench.scm.model.SCM, which calls into this module lazily; it is passed in
# (never imported here), so the two modules do not import each other.
SCM = Any


def _quiet_import() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgmpy.factors.continuous as cont
        import pgmpy.factors.discrete as disc
        import pgmpy.models as models
    return models, disc, cont


def discrete_table(scm: SCM, name: str) -> tuple[np.ndarray, tuple[str, ...], tuple[int, ...]]:
    """P(name | parents) as a (card, prod(parent cards)) table, parents varying first-slowest (pgmpy layout)."""
    var = scm[name]
    mech: Mechanism = var.mechanism
    parents = mech.parents
    cards = tuple(int(scm[p].cardinality or 0) for p in parents)
    if var.cardinality is None or any(c == 0 for c in cards):
        raise SCMError(f"variable {name!r} is not discrete with discrete parents; no probability table")
    if isinstance(mech, CPT):
        return np.array(mech.table), parents, cards
    configs = (np.array(list(itertools.product(*[range(c) for c in cards])), dtype=float) if parents
               else np.zeros((1, 0)))
    values = {p: configs[:, j] for j, p in enumerate(parents)}
    rows = []
    for k in range(var.cardinality):
        value = np.full(len(configs), float(k))
        rows.append(np.broadcast_to(mech.pmf(value, values), value.shape))
    return np.array(rows, dtype=float), parents, cards


def to_pgmpy(scm: SCM, latents: bool = True) -> Any:
    """pgmpy DiscreteBayesianNetwork (all-discrete SCM) or LinearGaussianBayesianNetwork (linear-Gaussian SCM).

    Hidden variables become pgmpy latents unless `latents=False` (ground-truth computations,
    where the full model is known, need pgmpy to treat every variable as observed).
    """
    models, disc, cont = _quiet_import()
    edges = [(p, v) for v in scm.names for p in scm.parents(v)]
    hidden = set(scm.hidden) if latents else set()
    if scm.is_discrete:
        model = models.DiscreteBayesianNetwork(edges, latents=hidden)
        model.add_nodes_from(scm.names)
        for name in scm.names:
            table, parents, cards = discrete_table(scm, name)
            card = int(scm[name].cardinality)
            states = {v: list(range(int(scm[v].cardinality))) for v in (name, *parents)}
            model.add_cpds(disc.TabularCPD(name, card, table, evidence=list(parents) or None,
                                           evidence_card=list(cards) or None, state_names=states))
        model.check_model()
        return model
    if scm.is_linear_gaussian:
        model = models.LinearGaussianBayesianNetwork(edges, latents=hidden)
        model.add_nodes_from(scm.names)
        for name in scm.names:
            intercept, weights, std = scm.mechanism(name).linear_form()  # type: ignore[misc]
            model.add_cpds(cont.LinearGaussianCPD(name, [intercept, *weights.values()], std, evidence=list(weights)))
        return model
    raise SCMError("to_pgmpy needs an all-discrete or an all-linear-Gaussian SCM")


def from_pgmpy(model: Any, scm_cls: type[SCM], variable_cls: type, hidden: Iterable[str] = (),
               roles: Mapping[str, str] | None = None, name: str = "") -> SCM:
    """An SCM with one CPT mechanism per node of a pgmpy discrete Bayesian network."""
    hidden = set(hidden) | set(getattr(model, "latents", set()) or set())
    roles = dict(roles or {})
    unknown = (hidden | set(roles)) - set(model.nodes())
    if unknown:
        raise SCMError(f"unknown node(s) {', '.join(sorted(map(str, unknown)))} in hidden/roles")
    variables = []
    import networkx as nx

    order = list(nx.lexicographical_topological_sort(nx.DiGraph(list(model.edges())) if model.edges() else nx.DiGraph()))
    order += [n for n in model.nodes() if n not in order]
    for node in order:
        cpd = model.get_cpds(node)
        if cpd is None or not hasattr(cpd, "get_values"):
            raise SCMError(f"node {node!r} has no tabular CPD; only discrete networks can be imported")
        evidence = tuple(cpd.variables[1:])
        table = cpd.get_values()
        for p in evidence:
            if list(cpd.state_names[p]) != list(model.get_cpds(p).state_names[p]):
                raise SCMError(f"node {node!r} lists the states of parent {p!r} in a different order than {p!r}'s own CPD")
        states = cpd.state_names[node]
        variables.append(variable_cls(
            str(node), CPT(tuple(map(str, evidence)), table, tuple(int(c) for c in cpd.cardinality[1:])),
            hidden=node in hidden, role=roles.get(node, "other"),
            description="states: " + ", ".join(map(str, states)),
        ))
    return scm_cls(variables, name=name)
