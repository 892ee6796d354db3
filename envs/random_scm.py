"""RandomSCM: seeded random nonlinear SCMs with binary hidden confounders, a family for scaling studies."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.env.instances import InstanceSpace, Param
from causalbench.errors import SCMError
from causalbench.scm import MLP, SCM, Additive, Bernoulli, Linear, Mechanism, Normal, Soft, Variable, rng
from causalbench.scm.mechanisms import Scratch

from .random_scm_truth import RandomSCMTruth

NONLINEARITIES = ("linear", "tanh", "mlp")
TARGET = "y"
WEIGHT_RANGE = (0.5, 1.5)   # |raw edge weight| before scaling; signs are random
NOISE_SD = 0.5              # own noise of every non-root variable; its signal is scaled to sd ~1
CONFOUNDING = 0.5           # share of signal variance from hidden parents, for nodes with both kinds of parent
TARGET_SHARE = 0.5          # share of a child of y's signal variance that comes from y (when it has other parents)
TANH_GAIN = 1.5             # sd of the pre-activation of "tanh" mechanisms (so they bend)
MLP_UNITS = 8               # hidden units of an "mlp" mechanism (the target: half causal, half confounding)
MLP_GAIN = 1.5
MAX_HIDDEN = 12             # exact inference enumerates the 2^n_hidden hidden configurations
P_HIDDEN = 0.4              # P(h = 1) of every hidden confounder in the base SCM
DOMAINS = (("calm", 0.2), ("turbulent", 0.6))   # training domains: every hidden confounder ~ Bernoulli(p)
PILOT_UNITS = 4096          # fixed-seed units used to scale mechanisms at construction
# Hidden instances: the graph itself (and its density); names x0.. are already shuffled per graph.
RANDOM_SCM_SPACE = InstanceSpace((
    Param("graph_seed", 0, 1, 2**31 - 1, integer=True, description="the random graph and mechanisms"),
    Param("density", 0.3, 0.2, 0.4, digits=2, description="edge probability"),
), columns=False, notes="variable names are shuffled by the graph draw, so the column index says nothing")


def _sig6(x: float) -> float:
    """Round a pilot-derived constant to 6 significant digits, so parameters agree across machines."""
    return float(f"{float(x):.6g}")


@dataclass(frozen=True)
class Layout:
    """The random graph: observed nodes before the target (`upstream`), after it (`downstream`), parents."""

    hidden: tuple[str, ...]
    upstream: tuple[str, ...]
    downstream: tuple[str, ...]
    parents: Mapping[str, tuple[str, ...]]


def random_layout(n_nodes: int, n_hidden: int, density: float, graph_seed: int) -> Layout:
    """A DAG hidden -> {target, downstream}, upstream -> target -> downstream, edges with probability `density`.

    Forced edges make every instance interesting: each upstream node gets a child among later
    upstream nodes or the target (so all are causes), the target gets a downstream child, and
    hidden `h0` hits the target and a downstream node. Hidden nodes never hit upstream nodes,
    so the causes of the target are not confounded with it.
    """
    gen = rng(graph_seed, "RandomSCM", "graph", str(n_nodes), str(n_hidden), repr(float(density)))
    width = len(str(n_nodes - 1))
    names = [f"x{i:0{width}d}" for i in gen.permutation(n_nodes)]
    n_up = n_nodes - n_nodes // 2
    up, down = names[:n_up], names[n_up:]
    hidden = [f"h{k:0{len(str(n_hidden - 1))}d}" for k in range(n_hidden)]
    order = up + [TARGET] + down
    parents: dict[str, set[str]] = {v: set() for v in hidden + order}
    edges = gen.random((len(order), len(order))) < density
    for j, v in enumerate(order):
        parents[v].update(order[i] for i in range(j) if edges[i, j])
    for i, u in enumerate(up):
        later = order[i + 1:n_up + 1]
        if not any(u in parents[w] for w in later):
            parents[later[gen.integers(len(later))]].add(u)
    if not any(TARGET in parents[d] for d in down):
        parents[down[gen.integers(len(down))]].add(TARGET)
    sinks = [TARGET] + down
    for k, h in enumerate(hidden):
        hits = {s for s, hit in zip(sinks, gen.random(len(sinks)) < density) if hit}
        if k == 0:
            hits |= {TARGET, down[gen.integers(len(down))]}
        while len(hits) < 2:
            hits.add(sinks[gen.integers(len(sinks))])
        for s in hits:
            parents[s].add(h)
    rank = {v: i for i, v in enumerate(hidden + order)}
    return Layout(tuple(hidden), tuple(up), tuple(down),
                  {v: tuple(sorted(ps, key=rank.__getitem__)) for v, ps in parents.items()})


class RandomSCM(CausalEnv):
    """A seeded random DAG of nonlinear mechanisms with binary hidden confounders; exact ground truth.

    ## Description
    A generator family for scaling studies (more variables, more confounders, denser
    graphs, stronger nonlinearity), built so that every reference stays exact.
    Options (all keyword, recorded in every dataset spec; the SCM is a pure function
    of them): `n_nodes` = 8 observed non-target variables (>= 2), `n_hidden` = 2 hidden
    confounders (1 to 12), `density` = 0.3 edge probability, `nonlinearity` in
    {"linear", "tanh", "mlp"} = "tanh", `graph_seed` = 0. The graph depends only on
    (n_nodes, n_hidden, density, graph_seed), so the three nonlinearities of one seed
    share a graph. Half the observed nodes (rounded up) sit upstream of the target `y`
    and all become its causes; the rest sit downstream. Hidden roots hit only `y` and
    downstream nodes, so downstream nodes they share with `y` are confounded proxies,
    and children of `y` are anti-causal: both look predictive.

    ## Variables
    - `h0`, `h1`, ... hidden binary confounders, Bernoulli(0.4) in the base SCM.
    - `x0`, `x1`, ... observed (names shuffled: the index says nothing about the role).
      Roots are N(0, 1); every other node is signal + N(0, 0.5^2), the signal scaled on a
      fixed-seed pilot to mean ~0, sd ~1 (about half of its variance from hidden parents
      when it has both kinds). "linear": a weighted sum; "tanh": a 1.5-gain tanh of a
      weighted sum; "mlp": an 8-unit random MLP. Weights have random signs, |w| in [0.5, 1.5].
      A child of `y` takes `y` through a linear skip term (half its signal variance, when
      it has other parents) beside its nonlinear term in its other parents.
    - `y` (target, real): f(causal parents) + g(hidden parents) + N(0, 0.5^2), f and g
      tanh units ("tanh": one unit each; "mlp": four each), "linear": weighted sums.

    ## Roles
    Computed from the graph: causal = observed ancestors of `y` (all upstream nodes);
    anti-causal = descendants of `y`; proxy = other nodes d-connected to `y` given the
    causes (downstream nodes sharing a hidden parent with `y`); other = the rest.

    ## Known answers (exact; `RandomSCMTruth`)
    The hidden confounders are discrete and `y` enters its children linearly, so given
    the observed variables and a hidden configuration c, y is Gaussian: its prior
    N(f(causes) + g(c), 0.5^2) times the Gaussian likelihoods of its children. Hence the
    Bayes predictor of every test distribution is exact: a posterior-weighted sum over
    the 2^n_hidden configurations (and the training domains) of Gaussian posterior means.
    The causal reference E[y | do(X = x)] = f(causes) + E_train[g(h)] is exact (a sum over
    configurations). E[y | do(x_j = a)] for a cause needs the law of the other causes
    under do: the scorer estimates it on paired units and records its standard error.
    The training mean and sd of y are estimated on a 200,000-unit pilot.

    ## Domains
    `calm` (every hidden confounder ~ Bernoulli(0.2)) and `turbulent` (Bernoulli(0.6)).

    ## Shifts
    Link edges are the edges from `y` or from a hidden parent of `y` into an observed node:
    they carry every spurious association.
    - `confounder_shift@p` (confounder): every hidden confounder ~ Bernoulli(p), p in {0.8, 0.95}.
    - `spurious_break@s` (spurious_break): link inputs enter their child's mechanism scaled
      by 1 - s, s in {0.5, 1} (at 1 the spurious features carry nothing beyond the causes).
    - `spurious_reversal@c` (spurious_reversal): link inputs enter scaled by -c, c in {0.5, 1}.
    - `causal_shift@s` (causal_covariate): root causes ~ N(s, 1), s in {1, 2}.

    ## Hidden instances
    A hidden instance (`make(id, instance=seed)`) draws the graph itself: `graph_seed` in
    [1, 2^31) and `density` in [0.2, 0.4] (two decimals), replacing those options;
    `n_nodes`, `n_hidden` and `nonlinearity` stay as given. The names x0.. are shuffled by
    every graph draw, so no column layout is needed on top.

    ## Version History
    - v0: continuous N(0, 1) hidden confounders (no exact Bayes predictor; retired).
    - v1: binary hidden confounders and children linear in `y`, so every reference is exact.
    - (no new version) hidden instances added: the public instance's data are unchanged.
    """

    id = "RandomSCM-v1"
    summary = "A random nonlinear SCM family with hidden confounders and exact ground truth, for scaling studies."
    Truth = RandomSCMTruth
    instance_space = RANDOM_SCM_SPACE

    def __init__(self, n_nodes: int = 8, n_hidden: int = 2, density: float = 0.3, nonlinearity: str = "tanh",
                 graph_seed: int = 0, instance: int | None = None) -> None:
        if instance is not None:  # a hidden instance draws the graph (see "Hidden instances")
            drawn = self.instance_space.draw(instance, self.id)
            graph_seed, density = drawn["graph_seed"], drawn["density"]
        def integer(name: str, value: Any, low: int, high: int | None = None) -> int:
            bad = isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low
            if bad or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f">= {low}"
                raise SCMError(f"{self.id}: {name} must be an integer {bound}, got {value!r}")
            return int(value)

        n_nodes, n_hidden = integer("n_nodes", n_nodes, 2), integer("n_hidden", n_hidden, 1, MAX_HIDDEN)
        graph_seed = integer("graph_seed", graph_seed, 0)
        if isinstance(density, bool) or not isinstance(density, (int, float)) or not 0.0 <= density <= 1.0:
            raise SCMError(f"{self.id}: density must be a number in [0, 1], got {density!r}")
        if nonlinearity not in NONLINEARITIES:
            raise SCMError(f"{self.id}: nonlinearity must be one of {', '.join(NONLINEARITIES)}, got {nonlinearity!r}")
        super().__init__(n_nodes=n_nodes, n_hidden=n_hidden, density=float(density), nonlinearity=nonlinearity,
                         graph_seed=graph_seed, instance=instance)

    @cached_property
    def layout(self) -> Layout:
        o = self.options
        return random_layout(o["n_nodes"], o["n_hidden"], o["density"], o["graph_seed"])

    def build_scm(self) -> SCM:
        lay, kind, seed = self.layout, self.options["nonlinearity"], self.options["graph_seed"]
        hidden = set(lay.hidden)
        n, half = PILOT_UNITS, PILOT_UNITS // 2
        pilot: dict[str, np.ndarray] = {}
        pilot_sd: dict[str, float] = {}    # computed once per variable (a node's sd is read by all its children)
        mechs: dict[str, Mechanism] = {}
        for v in lay.hidden + lay.upstream + (TARGET,) + lay.downstream:
            ps = lay.parents[v]
            if v in hidden:
                u = rng(seed, self.id, "pilot", v).random(n)
                (_, p0), (_, p1) = DOMAINS
                pilot[v] = np.concatenate([u[:half] < p0, u[half:] < p1]).astype(float)
                pilot_sd[v] = float(pilot[v].std())
                mechs[v] = Bernoulli(P_HIDDEN)
                continue
            noise = rng(seed, self.id, "pilot", v).standard_normal(n)
            gen = rng(seed, self.id, "weights", kind, v)
            obs = [p for p in ps if p not in hidden and p != TARGET]
            hid = [p for p in ps if p in hidden]
            if not ps:
                mechs[v] = Normal(0.0, 1.0)
            elif v == TARGET:
                mechs[v] = (_separable_target(obs, hid, pilot, pilot_sd, gen, kind) if kind != "linear"
                            else _mechanism(obs, hid, pilot, pilot_sd, gen, kind))
            elif TARGET in ps:
                mechs[v] = _child_of_target(obs, hid, pilot, pilot_sd, gen, kind)
            else:
                mechs[v] = _mechanism(obs, hid, pilot, pilot_sd, gen, kind)
            out = noise.copy()
            mechs[v].apply(out, pilot, Scratch(n))
            pilot[v] = out
            pilot_sd[v] = float(out.std())
        variables = [Variable(h, mechs[h], hidden=True, description="hidden binary confounder") for h in lay.hidden]
        variables += [Variable(x, mechs[x]) for x in sorted(lay.upstream + lay.downstream)]
        variables.append(Variable(TARGET, mechs[TARGET], role="target", description="target"))
        return SCM(variables, name=self.id)

    @cached_property
    def link_edges(self) -> dict[str, tuple[str, ...]]:
        """Observed child -> its parents among {y, hidden parents of y}: the edges behind every spurious link."""
        sources = {TARGET} | {p for p in self.scm.parents(TARGET) if self.scm[p].hidden}
        out = {}
        for v in self.variables:
            links = tuple(p for p in self.scm.parents(v) if p in sources)
            if links:
                out[v] = links
        return out

    def build_domains(self) -> Sequence[Domain]:
        return [Domain(name, {h: Bernoulli(p) for h in self.layout.hidden}, f"hidden confounders ~ Bernoulli({p:g})")
                for name, p in DOMAINS]

    def build_shifts(self) -> Sequence[Shift]:
        roots = [v for v in self.layout.upstream if not self.scm.parents(v)]
        return [
            Shift("confounder_shift", "confounder", (0.8, 0.95),
                  lambda p: {h: Bernoulli(p) for h in self.layout.hidden}, "hidden confounders ~ Bernoulli(p)"),
            Shift("spurious_break", "spurious_break", (0.5, 1.0), lambda s: self._scale_links(1.0 - s),
                  "links from y and its confounders scaled by 1 - s"),
            Shift("spurious_reversal", "spurious_reversal", (0.5, 1.0), lambda c: self._scale_links(-c),
                  "links from y and its confounders scaled by -c"),
            Shift("causal_shift", "causal_covariate", (1.0, 2.0), lambda s: {r: Soft(mean=s) for r in roots},
                  "root causes ~ N(s, 1)"),
        ]

    def _scale_links(self, factor: float) -> dict[str, Mechanism]:
        """Each link child sees factor * (link parent) in place of the link parent."""
        out: dict[str, Mechanism] = {}
        for v, links in self.link_edges.items():
            mech = self.scm.mechanism(v)
            if isinstance(mech, MLP):
                cols = np.array([factor if p in links else 1.0 for p in mech.inputs])
                lin = tuple((p, c * factor if p in links else c) for p, c in mech.linear)
                out[v] = replace(mech, W1=mech.W1 * cols, linear=lin)
            else:
                out[v] = replace(mech, weights={p: w * factor if p in links else w for p, w in mech.weights.items()})
        return out


# ---------------------------------------------------------------- mechanism builders


def _signed_weights(gen: np.random.Generator, k: int) -> np.ndarray:
    return gen.choice([-1.0, 1.0], size=k) * gen.uniform(*WEIGHT_RANGE, size=k)


def _input_scale(obs: Sequence[str], hid: Sequence[str], sd: Mapping[str, float]) -> np.ndarray:
    """Per-parent factors making each input unit-variance and splitting variance CONFOUNDING : rest."""
    share = {True: CONFOUNDING, False: 1.0 - CONFOUNDING} if obs and hid else {True: 1.0, False: 1.0}
    return np.array([_sig6(math.sqrt(share[p in hid] / len(hid if p in hid else obs)) / sd[p])
                     for p in (*obs, *hid)])


def _mechanism(obs: Sequence[str], hid: Sequence[str], pilot: Mapping[str, np.ndarray], sd: Mapping[str, float],
               gen: np.random.Generator, kind: str) -> Mechanism:
    """A non-target mechanism on parents obs + hid, scaled on the pilot to a signal of mean ~0 and sd ~1."""
    parents = (*obs, *hid)
    X = np.column_stack([pilot[p] for p in parents])
    f = _input_scale(obs, hid, sd)
    if kind == "mlp":
        net = MLP.random(parents, MLP_UNITS, int(gen.integers(2**62)), NOISE_SD, MLP_GAIN)
        W1 = net.W1 * (f * math.sqrt(len(parents)))
        z = np.tanh(X @ W1.T + net.b1) @ net.w2
        c = _sig6(1.0 / z.std())
        return MLP(parents, W1, net.b1, net.w2 * c, -_sig6(z.mean() * c), NOISE_SD)
    w = _signed_weights(gen, len(parents)) * f
    z = X @ w
    if kind == "linear":
        c = _sig6(1.0 / z.std())
        return Linear(dict(zip(parents, w * c)), intercept=-_sig6(z.mean() * c), std=NOISE_SD)
    g = _sig6(TANH_GAIN / z.std())
    bias = _sig6(gen.uniform(-1.0, 1.0) - z.mean() * g)
    t = np.tanh(z * g + bias)
    scale = _sig6(1.0 / t.std())
    return Additive(dict(zip(parents, w * g)), intercept=bias, fn="tanh", scale=scale,
                    offset=-_sig6(t.mean() * scale), std=NOISE_SD)


def _separable_target(obs: Sequence[str], hid: Sequence[str], pilot: Mapping[str, np.ndarray],
                      sd: Mapping[str, float], gen: np.random.Generator, kind: str) -> MLP:
    """y = f(obs) + g(hid) + noise as one MLP with block-diagonal first layer (tanh: one unit per block)."""
    blocks = []
    for names, share in ((obs, 1.0 - CONFOUNDING), (hid, CONFOUNDING)):
        X = np.column_stack([pilot[p] for p in names])
        f = _input_scale(names, (), sd)
        if kind == "mlp":
            net = MLP.random(names, MLP_UNITS // 2, int(gen.integers(2**62)), NOISE_SD, MLP_GAIN)
            W, b, w2 = net.W1 * (f * math.sqrt(len(names))), net.b1, net.w2
        else:
            w = _signed_weights(gen, len(names)) * f
            g = _sig6(TANH_GAIN / (X @ w).std())
            W = (w * g)[None, :]
            b = np.array([_sig6(gen.uniform(-1.0, 1.0) - (X @ w).mean() * g)])
            w2 = np.ones(1)
        out = np.tanh(X @ W.T + b) @ w2
        c = _sig6(math.sqrt(share) / out.std())
        blocks.append((W, b, w2 * c, out.mean() * c))
    (Wo, bo, vo, mo), (Wh, bh, vh, mh) = blocks
    W1 = np.block([[Wo, np.zeros((len(Wo), len(hid)))], [np.zeros((len(Wh), len(obs))), Wh]])
    return MLP((*obs, *hid), W1, np.concatenate([bo, bh]), np.concatenate([vo, vh]), -_sig6(mo + mh), NOISE_SD)


def _child_of_target(obs: Sequence[str], hid: Sequence[str], pilot: Mapping[str, np.ndarray],
                     sd: Mapping[str, float], gen: np.random.Generator, kind: str) -> Mechanism:
    """A child of y: y enters through a linear (skip) term, its other parents as `_mechanism` builds them,
    so that given the hidden configuration the child is linear-Gaussian in y (exact inference)."""
    sign = float(gen.choice([-1.0, 1.0]))
    others = (*obs, *hid)
    share = TARGET_SHARE if others else 1.0
    a = _sig6(sign * math.sqrt(share) / sd[TARGET])
    if not others:
        return Linear({TARGET: a}, intercept=-_sig6(a * pilot[TARGET].mean()), std=NOISE_SD)
    rest = _mechanism(obs, hid, pilot, sd, gen, kind)
    k = _sig6(math.sqrt(1.0 - share))
    offset = -_sig6(a * pilot[TARGET].mean())
    if isinstance(rest, Linear):
        return Linear({**{p: w * k for p, w in rest.weights.items()}, TARGET: a},
                      intercept=_sig6(rest.intercept * k + offset), std=NOISE_SD)
    if isinstance(rest, Additive):   # one tanh unit as an MLP, so y can join through the skip term
        names = tuple(rest.weights)
        return MLP(names, np.array([[rest.weights[p] for p in names]]), np.array([rest.intercept]),
                   np.array([rest.scale * k]), _sig6(rest.offset * k + offset), NOISE_SD, {TARGET: a})
    assert isinstance(rest, MLP)
    return MLP(rest.inputs, rest.W1, rest.b1, rest.w2 * k, _sig6(rest.b2 * k + offset), NOISE_SD, {TARGET: a})
