"""Interop with pgmpy: export all-discrete and linear-Gaussian SCMs, import discrete and linear-Gaussian networks.

pgmpy has no hybrid networks, so an SCM mixing real and discrete variables (or with a
nonlinear mechanism) cannot be exported; the error names the variable and the mechanism
that prevent it. The target travels as pgmpy's `outcomes` role, so a round trip keeps it.
pgmpy is imported lazily here only, so `import causalbench` never pays for it.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable, Mapping

import networkx as nx
import numpy as np

from ..errors import SCMError, missing_dependency
from .distributions import CPT, Normal
from .mechanisms import Mechanism
from .regressions import Additive, Linear

# `SCM` below is causalbench.scm.model.SCM, which calls into this module lazily; it is passed in
# (never imported here), so the two modules do not import each other.
SCM = Any


ASK: Any = ...  # `target` not given: take the network's single outcome, or ask for the target


def _quiet_import() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import pgmpy.factors.continuous as cont
            import pgmpy.factors.discrete as disc
            import pgmpy.models as models
        except ImportError as err:
            missing = missing_dependency(err, "pgmpy interop (SCM.to_pgmpy / SCM.from_pgmpy)")
            if missing is None:
                raise
            raise missing from None
    return models, disc, cont


# ---------------------------------------------------------------- export


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
    try:
        for k in range(var.cardinality):
            value = np.full(len(configs), float(k))
            rows.append(np.broadcast_to(mech.pmf(value, values), value.shape))
    except SCMError:
        raise SCMError(f"cannot export to pgmpy: variable {name!r} has a {mech.type!r} mechanism "
                       "without a probability table") from None
    return np.array(rows, dtype=float), parents, cards


def gaussian_form(mech: Mechanism) -> tuple[float, Mapping[str, float], float] | None:
    """(intercept, weights, noise sd) when X = intercept + w . pa + sd * N(0, 1) exactly, else None."""
    form = mech.linear_form()
    if form is not None:
        return form
    if isinstance(mech, Additive) and mech.fn == "identity" and not mech.interactions:
        intercept, weights = mech.mean_form()  # type: ignore[misc]
        return intercept, weights, float(mech.std)
    return None


def export_blocker(scm: SCM) -> str | None:
    """Why `scm` cannot be exported to pgmpy (naming the variable and mechanism), or None if it can."""
    variables = list(scm.variables.values())
    real = [v for v in variables if v.kind == "real"]
    if len(real) * 2 > len(variables):  # mostly real: the linear-Gaussian family
        for v in variables:
            if v.kind != "real":
                return (f"variable {v.name!r} is {v.kind} (mechanism {v.mechanism.type!r}) in an otherwise "
                        "real-valued SCM; pgmpy exports all-linear-Gaussian or all-discrete SCMs only")
            if gaussian_form(v.mechanism) is None:
                return (f"variable {v.name!r} has mechanism {v.mechanism.type!r}, which is not linear-Gaussian; "
                        "pgmpy exports all-linear-Gaussian or all-discrete SCMs only")
        return None
    for v in real:
        return (f"variable {v.name!r} is real-valued (mechanism {v.mechanism.type!r}) in an otherwise discrete SCM; "
                "pgmpy exports all-discrete or all-linear-Gaussian SCMs only")
    return None


def to_pgmpy(scm: SCM, latents: bool = True) -> Any:
    """pgmpy DiscreteBayesianNetwork (all-discrete SCM) or LinearGaussianBayesianNetwork (linear-Gaussian SCM).

    Hidden variables become pgmpy latents unless `latents=False` (ground-truth computations,
    where the full model is known, need pgmpy to treat every variable as observed); the
    target becomes pgmpy's outcome.
    """
    blocker = export_blocker(scm)
    if blocker:
        raise SCMError(f"cannot export {scm.name or 'this SCM'} to pgmpy: {blocker}")
    models, disc, cont = _quiet_import()
    edges = [(p, v) for v in scm.names for p in scm.parents(v)]
    roles = {"latents": set(scm.hidden) if latents else set(), "outcomes": {scm.target} if scm.target else set()}
    if scm.is_discrete:
        model = models.DiscreteBayesianNetwork(edges, **roles)
        model.add_nodes_from(scm.names)
        for name in scm.names:
            table, parents, cards = discrete_table(scm, name)
            card = int(scm[name].cardinality)
            states = {v: list(range(int(scm[v].cardinality))) for v in (name, *parents)}
            model.add_cpds(disc.TabularCPD(name, card, table, evidence=list(parents) or None,
                                           evidence_card=list(cards) or None, state_names=states))
        model.check_model()
        return model
    model = models.LinearGaussianBayesianNetwork(edges, **roles)
    model.add_nodes_from(scm.names)
    for name in scm.names:
        intercept, weights, std = gaussian_form(scm.mechanism(name))  # type: ignore[misc]
        parents = list(scm.parents(name))
        beta = [intercept, *(float(weights.get(p, 0.0)) for p in parents)]
        model.add_cpds(cont.LinearGaussianCPD(name, beta, std, evidence=parents))
    return model


# ---------------------------------------------------------------- import


def resolve_target(model: Any, target: Any) -> str | None:
    """The target node: as given, else the network's single outcome; asks (one line) when neither names one."""
    nodes = [str(n) for n in model.nodes()]
    if target is None:
        return None
    if target is ASK:
        outcomes = sorted(map(str, getattr(model, "outcomes", set()) or set()))
        if len(outcomes) == 1:
            return outcomes[0]
        shown = ", ".join(nodes[:8]) + (", ..." if len(nodes) > 8 else "")
        raise SCMError(f"SCM.from_pgmpy needs the target variable: pass target='<node>' (nodes: {shown}), "
                       "or target=None to import the network without one")
    if str(target) not in nodes:
        raise SCMError(f"target {target!r} is not a node of the pgmpy network")
    return str(target)


def from_pgmpy(model: Any, scm_cls: type[SCM], variable_cls: type, target: Any = ASK, hidden: Iterable[str] = (),
               name: str = "") -> SCM:
    """An SCM from a pgmpy discrete network (one CPT per node) or linear-Gaussian network (Normal / Linear).

    The SCM marks only its target; environments derive the other roles (causal, proxy, ...) from the graph."""
    target = resolve_target(model, target)
    hidden = set(hidden) | set(getattr(model, "latents", set()) or set())
    unknown = hidden - set(model.nodes())
    if unknown:
        raise SCMError(f"unknown node(s) {', '.join(sorted(map(str, unknown)))} in hidden")
    if target is not None and target in hidden:
        raise SCMError(f"target {target!r} cannot also be hidden")
    roles = {target: "target"} if target is not None else {}
    graph = nx.DiGraph(list(model.edges()))
    order = list(nx.lexicographical_topological_sort(graph)) if graph.number_of_nodes() else []
    order += [n for n in model.nodes() if n not in order]
    variables = [variable_cls(str(node), mech, hidden=node in hidden, role=roles.get(node, "other"),
                              description=text)
                 for node in order for mech, text in [_mechanism(model, node)]]
    return scm_cls(variables, name=name)


def _mechanism(model: Any, node: Any) -> tuple[Mechanism, str]:
    """(mechanism, description) of one node's pgmpy CPD."""
    cpd = model.get_cpds(node)
    if cpd is not None and hasattr(cpd, "beta") and hasattr(cpd, "std"):
        beta = [float(b) for b in np.ravel(cpd.beta)]
        evidence = [str(e) for e in cpd.evidence]
        if not evidence:
            return Normal(beta[0], float(cpd.std)), "linear-Gaussian root"
        return Linear(dict(zip(evidence, beta[1:])), intercept=beta[0], std=float(cpd.std)), "linear-Gaussian"
    if cpd is None or not hasattr(cpd, "get_values"):
        raise SCMError(f"node {node!r} has no tabular or linear-Gaussian CPD; only discrete and "
                       "linear-Gaussian networks can be imported")
    evidence = tuple(cpd.variables[1:])
    for p in evidence:
        if list(cpd.state_names[p]) != list(model.get_cpds(p).state_names[p]):
            raise SCMError(f"node {node!r} lists the states of parent {p!r} in a different order than {p!r}'s own CPD")
    mech = CPT(tuple(map(str, evidence)), cpd.get_values(), tuple(int(c) for c in cpd.cardinality[1:]))
    return mech, "states: " + ", ".join(map(str, cpd.state_names[node]))
