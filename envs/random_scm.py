"""RandomSCM: seeded random nonlinear SCMs with hidden confounders, a family for scaling studies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.errors import SCMError
from causalbench.scm import MLP, SCM, Additive, Linear, Mechanism, Normal, Soft, Variable, exact, rng

NONLINEARITIES = ("linear", "tanh", "mlp")
TARGET = "y"
WEIGHT_RANGE = (0.5, 1.5)   # |raw edge weight| before scaling; signs are random
NOISE_SD = 0.5              # own noise of every non-root variable; its signal is scaled to sd ~1
CONFOUNDING = 0.5           # share of signal variance from hidden parents, for nodes with both kinds of parent
TANH_GAIN = 1.5             # sd of the pre-activation of "tanh" mechanisms (so they bend)
MLP_UNITS = 8               # hidden units of an "mlp" mechanism (the target: half causal, half confounding)
MLP_GAIN = 1.5
# Training domains: every hidden confounder ~ N(mean, sd).
DOMAINS = (("calm", -0.5, 0.5), ("turbulent", 0.5, 1.5))
PILOT_UNITS = 4096          # fixed-seed units used to scale mechanisms at construction
QUAD_STEP, QUAD_RANGE = 0.01, 12.0   # trapezoid rule for E[tanh(m + s Z)] (error < 1e-13)


def _sig6(x: float) -> float:
    """Round a pilot-derived constant to 6 significant digits, so parameters agree across machines."""
    return float(f"{float(x):.6g}")


def gauss_tanh_mean(m: np.ndarray | float, s: float) -> np.ndarray:
    """E[tanh(m + s Z)], Z ~ N(0, 1), by the trapezoid rule (exponentially accurate for this analytic integrand)."""
    h = min(QUAD_STEP, 0.05 / s) if s > 0 else QUAD_STEP
    z = np.arange(-QUAD_RANGE, QUAD_RANGE + h / 2, h)
    w = np.exp(-0.5 * z * z) * (h / math.sqrt(2 * math.pi))
    m = np.asarray(m, dtype=float)
    return np.tanh(m[..., None] + s * z) @ w


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
    edges = np.triu(gen.random((len(order), len(order))) < density, 1)  # edges[i, j]: order[i] -> order[j], i < j
    children, parent_rows = np.nonzero(edges.T)
    for j, i in zip(children.tolist(), parent_rows.tolist()):
        parents[order[j]].add(order[i])
    has_child = edges[:n_up, :n_up + 1].any(axis=1)  # an upstream node already feeds a later upstream node or y
    for i, u in enumerate(up):
        if not has_child[i]:
            later = order[i + 1:n_up + 1]
            parents[later[gen.integers(len(later))]].add(u)
    if not edges[n_up, n_up + 1:].any():
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


def derive_roles(parents: Mapping[str, Sequence[str]], hidden: set[str], target: str) -> dict[str, str]:
    """causal = observed ancestors of the target through observed paths; spurious = observed nodes
    reachable from the target or from its hidden parents without passing a causal node (exactly the
    non-causes d-connected to the target given the causal set, when hidden nodes are roots that never
    hit a cause); other = the rest. `parents`: node -> its parents (every node a key). Linear in edges."""
    children: dict[str, list[str]] = {v: [] for v in parents}
    for v, ps in parents.items():
        for p in ps:
            children[p].append(v)
    causal = _reach([target], parents, lambda v: v not in hidden)
    sources = [target] + [h for h in parents[target] if h in hidden]
    linked = _reach(sources, children, lambda v: v not in causal)
    return {v: "target" if v == target else "causal" if v in causal else "spurious" if v in linked else "other"
            for v in parents if v not in hidden}


def _reach(sources: Sequence[str], step: Mapping[str, Sequence[str]], allowed: Any) -> set[str]:
    """Nodes reached from `sources` by one or more steps through nodes satisfying `allowed` (sources excluded
    unless reached again), like the union of networkx `descendants` over `sources` in the allowed subgraph."""
    seen: set[str] = set()
    stack = [v for s in sources for v in step[s] if allowed(v)]
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            stack.extend(u for u in step[v] if allowed(u) and u not in seen)
    return seen


class RandomSCM(CausalEnv):
    """A seeded random DAG of nonlinear mechanisms with hidden confounders; roles follow from the graph.

    ## Description
    A generator family for scaling studies (more variables, more confounders,
    denser graphs, stronger nonlinearity). Options (all keyword, recorded in every
    dataset spec; the SCM is a pure function of them):
    `n_nodes` = 8 observed non-target variables (>= 2), `n_hidden` = 2 hidden
    confounders (>= 1), `density` = 0.3 edge probability, `nonlinearity` in
    {"linear", "tanh", "mlp"} = "tanh", `graph_seed` = 0. The graph depends only on
    (n_nodes, n_hidden, density, graph_seed), so the three nonlinearities of one
    seed share a graph. Half the observed nodes (rounded up) sit upstream of the
    target `y` and all become its causes; the rest sit downstream. Hidden roots hit
    only `y` and downstream nodes, so the downstream nodes they share with `y` are
    confounded siblings, and children of `y` are anti-causal: both look predictive.

    ## Variables
    - `h0`, `h1`, ... hidden confounders, N(0, 1) in the base SCM.
    - `x0`, `x1`, ... observed (names shuffled: the index says nothing about the role).
      Roots are N(0, 1); every other node is signal + N(0, 0.5^2), the signal scaled on a
      fixed-seed pilot to mean ~0, sd ~1 (about half of its variance from hidden parents when
      it has both kinds). "linear": a weighted sum; "tanh": 1.5-gain tanh of a weighted sum;
      "mlp": `MLP.random` with 8 units. Weights have random signs and |w| in [0.5, 1.5].
    - `y` (target, real): "linear" as above; otherwise an MLP that is *additive* in a causal
      part and a confounding part, y = f(causal parents) + g(hidden parents) + N(0, 0.5^2),
      each part tanh units ("tanh": one unit each; "mlp": four each).

    ## Roles
    Derived from the graph (`derive_roles`): causal = observed ancestors of `y` (all upstream
    nodes); spurious = nodes reachable from `y` or its hidden parents without passing a cause
    (descendants of `y`, confounded siblings and their descendants); other = the rest
    (e.g. downstream nodes driven only by causes). There is always >= 1 of each of causal
    and spurious (forced edges, see `random_layout`).

    ## Known answers
    No hidden node is an ancestor of a cause, so the causes have no back-door path to `y`
    and the oracle is E[y | C = c] = E[y | do(C = c)]. "linear": computed exactly by the base
    class. Otherwise exact in closed form: f(c) + the mean over domains of E[g(H)], where each
    g unit's pre-activation is Gaussian and E[tanh(m + s Z)] is integrated by the trapezoid
    rule (error < 1e-13). `true_effect`: exact for "linear"; for "tanh"/"mlp" it returns None
    and the scorer uses paired Monte-Carlo estimates (their standard errors are recorded).

    ## Domains
    Soft interventions on every hidden confounder: `calm` N(-0.5, 0.5^2), `turbulent` N(0.5, 1.5^2).
    The confounding is stronger in `turbulent`, so the spurious correlations differ by domain.

    ## Shifts
    Link edges are the edges from `y` or from a hidden parent of `y` into an observed node:
    they carry every spurious association.
    - `confounder_shift@s` (confounder): every hidden confounder ~ N(s, 1), s in {1, 2}.
    - `spurious_break@s` (spurious_break): link inputs enter their child's mechanism scaled
      by 1 - s, s in {0.5, 1} (at 1 the spurious features carry nothing beyond the causes).
    - `spurious_reversal@c` (spurious_reversal): link inputs enter scaled by -c, c in {0.5, 1}.
    - `causal_shift@s` (causal_covariate): root causes ~ N(s, 1), s in {1, 2}.
    No shift touches y's mechanism, and only `causal_shift` moves the causes' law: on every test set
    the oracle's risk is E Var(y | C) plus a bias it shares with the null predictor (the confounder
    shift's), so the oracle beats the null predictor whenever the causes matter (tested: gap > 0.1).

    ## Version History
    - v0: initial version.
    """

    id = "RandomSCM-v0"
    summary = "A random nonlinear SCM family with hidden confounders, for scaling studies."

    def __init__(self, n_nodes: int = 8, n_hidden: int = 2, density: float = 0.3, nonlinearity: str = "tanh",
                 graph_seed: int = 0) -> None:
        def integer(name: str, value: Any, low: int) -> int:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
                raise SCMError(f"{self.id}: {name} must be an integer >= {low}, got {value!r}")
            return int(value)

        n_nodes, n_hidden, graph_seed = integer("n_nodes", n_nodes, 2), integer("n_hidden", n_hidden, 1), \
            integer("graph_seed", graph_seed, 0)
        if isinstance(density, bool) or not isinstance(density, (int, float)) or not 0.0 <= density <= 1.0:
            raise SCMError(f"{self.id}: density must be a number in [0, 1], got {density!r}")
        if nonlinearity not in NONLINEARITIES:
            raise SCMError(f"{self.id}: nonlinearity must be one of {', '.join(NONLINEARITIES)}, got {nonlinearity!r}")
        super().__init__(n_nodes=n_nodes, n_hidden=n_hidden, density=float(density), nonlinearity=nonlinearity,
                         graph_seed=graph_seed)

    # ---------------------------------------------------------- the model

    @cached_property
    def layout(self) -> Layout:
        o = self.options
        return random_layout(o["n_nodes"], o["n_hidden"], o["density"], o["graph_seed"])

    def build_scm(self) -> SCM:
        lay, kind = self.layout, self.options["nonlinearity"]
        hidden = set(lay.hidden)
        roles = derive_roles(lay.parents, hidden, TARGET)
        mechs = build_mechanisms(lay, kind, self.options["graph_seed"], self.id)
        describe = {"causal": "a cause of y", "spurious": "associated with y, not a cause", "other": "unrelated to y"}
        variables = [Variable(h, mechs[h], hidden=True, description="hidden confounder") for h in lay.hidden]
        variables += [Variable(x, mechs[x], role=roles[x], description=describe[roles[x]])
                      for x in sorted(lay.upstream + lay.downstream)]
        variables.append(Variable(TARGET, mechs[TARGET], role="target", description="target"))
        scm = SCM(variables, name=self.id)
        causal = [v for v, r in roles.items() if r == "causal"]
        if not exact.backdoor_free(scm, causal, TARGET):  # pragma: no cover - guaranteed by random_layout
            raise SCMError(f"{self.id}: generated graph confounds the causes with the target")
        return scm

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
        return [Domain(name, {h: Soft(mean=m, std=s) for h in self.layout.hidden},
                       f"hidden confounders ~ N({m:g}, {s:g}^2)") for name, m, s in DOMAINS]

    def build_shifts(self) -> Sequence[Shift]:
        roots = [v for v in self.layout.upstream if not self.scm.parents(v)]
        return [
            Shift("confounder_shift", "confounder", (1.0, 2.0),
                  lambda s: {h: Soft(mean=s) for h in self.layout.hidden}, "hidden confounders ~ N(s, 1)"),
            Shift("spurious_break", "spurious_break", (0.5, 1.0), lambda s: self._scale_links(1.0 - s),
                  "links from y and its confounders scaled by 1 - s"),
            Shift("spurious_reversal", "spurious_reversal", (0.5, 1.0), lambda c: self._scale_links(-c),
                  "links from y and its confounders scaled by -c"),
            Shift("causal_shift", "causal_covariate", (1.0, 2.0), lambda s: {r: Soft(mean=s) for r in roots},
                  "root causes ~ N(s, 1)"),
        ]

    def _scale_links(self, factor: float) -> dict[str, Soft]:
        """Each link child sees factor * (link parent) in place of the link parent."""
        out = {}
        for v, links in self.link_edges.items():
            mech = self.scm.mechanism(v)
            if isinstance(mech, MLP):
                cols = np.array([factor if p in links else 1.0 for p in mech.inputs])
                out[v] = Soft(W1=mech.W1 * cols)
            else:
                out[v] = Soft(weights={p: w * factor if p in links else w for p, w in mech.weights.items()})
        return out

    # ---------------------------------------------------------- ground truth

    def oracle(self, V: np.ndarray) -> np.ndarray:
        """E[y | causes = c]: the base class's exact form ("linear"), else f(c) + E[g(H)] (see docstring)."""
        if self.options["nonlinearity"] == "linear":
            return super().oracle(V)
        V = np.asarray(V, dtype=float)
        cols, W, b, w2, const = self._causal_part
        return np.tanh(V[:, cols] @ W.T + b) @ w2 + const

    @cached_property
    def _causal_part(self) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray, float]:
        """(columns of the causal parents in `variables`, their units' W1, b1, w2, constant) of the target."""
        mech = self.scm.mechanism(self.target)
        assert isinstance(mech, MLP)
        hid = np.array([self.scm[p].hidden for p in mech.inputs])
        hid_units = np.any(mech.W1[:, hid] != 0, axis=1)
        if np.any(mech.W1[np.ix_(hid_units, ~hid)] != 0):  # pragma: no cover - guaranteed by construction
            raise SCMError(f"{self.id}: the target is not additive in its causes and confounders")
        hid_names = [p for p, h in zip(mech.inputs, hid) if h]
        confounding = []
        for scm in self.domain_scms:
            laws = [scm.mechanism(h) for h in hid_names]
            mean = np.array([law.mean for law in laws])  # type: ignore[attr-defined]
            sd = np.array([law.std for law in laws])  # type: ignore[attr-defined]
            total = 0.0
            for u in np.flatnonzero(hid_units):
                a = mech.W1[u, hid]
                total += mech.w2[u] * float(gauss_tanh_mean(mech.b1[u] + a @ mean, float(np.sqrt(a**2 @ sd**2))))
            confounding.append(total)
        cols = [self.variables.index(p) for p, h in zip(mech.inputs, hid) if not h]
        obs_units = ~hid_units
        return (cols, mech.W1[np.ix_(obs_units, ~hid)], mech.b1[obs_units], mech.w2[obs_units],
                float(mech.b2 + np.mean(confounding)))


# ---------------------------------------------------------------- mechanism builders


def _signed_weights(gen: np.random.Generator, k: int) -> np.ndarray:
    return gen.choice([-1.0, 1.0], size=k) * gen.uniform(*WEIGHT_RANGE, size=k)


def build_mechanisms(lay: Layout, kind: str, graph_seed: int, env_id: str) -> dict[str, Mechanism]:
    """Every variable's mechanism, scaled on fixed-seed pilot units: one pass over each node's parents."""
    n, half = PILOT_UNITS, PILOT_UNITS // 2
    hidden = set(lay.hidden)
    pilot = _Pilot(lay.hidden + lay.upstream + (TARGET,) + lay.downstream, n)
    mechs: dict[str, Mechanism] = {}
    for v in pilot.names:
        noise = rng(graph_seed, env_id, "pilot", v).standard_normal(n)
        ps = lay.parents[v]
        if v in hidden:
            (_, m0, s0), (_, m1, s1) = DOMAINS
            pilot.set(v, np.concatenate([m0 + s0 * noise[:half], m1 + s1 * noise[half:]]))
            mechs[v] = Normal(0.0, 1.0)
            continue
        if not ps:
            mechs[v] = Normal(0.0, 1.0)
            pilot.set(v, noise)
            continue
        gen = rng(graph_seed, env_id, "weights", kind, v)
        obs, hid = [p for p in ps if p not in hidden], [p for p in ps if p in hidden]
        if v == TARGET and kind != "linear":
            mechs[v], signal = _separable_target(obs, hid, pilot, gen, kind)
        else:
            mechs[v], signal = _mechanism(obs, hid, pilot, gen, kind)
        noise *= NOISE_SD
        noise += signal
        pilot.set(v, noise)
    return mechs


class _Pilot:
    """The fixed-seed pilot units of every variable as rows of one matrix, with each row's sd computed once.

    Parents are gathered as a (k, n) row block (contiguous copies), so a mechanism's pilot signal is one
    matrix-vector product instead of k column operations: building an SCM is linear in its edges.
    """

    def __init__(self, names: Sequence[str], n: int) -> None:
        self.names = tuple(names)
        self.row = {v: i for i, v in enumerate(self.names)}
        self.values = np.empty((len(self.names), n))
        self.sd: dict[str, float] = {}

    def set(self, name: str, column: np.ndarray) -> None:
        self.values[self.row[name]] = column
        self.sd[name] = column.std()  # the same reduction as `pilot[name].std()` on the column itself

    def rows(self, names: Sequence[str]) -> np.ndarray:
        return np.take(self.values, [self.row[p] for p in names], axis=0)


def _combine(W: np.ndarray, Xt: np.ndarray) -> np.ndarray:
    """W @ Xt (weights times parent rows) without BLAS: multi-threaded BLAS products stall on a busy 2-core box."""
    return np.einsum("i,ij->j" if W.ndim == 1 else "ki,ij->kj", W, Xt)


def _input_scale(obs: Sequence[str], hid: Sequence[str], sd: Mapping[str, float]) -> np.ndarray:
    """Per-parent factors making each input unit-variance and splitting variance CONFOUNDING : rest."""
    share = {True: CONFOUNDING, False: 1.0 - CONFOUNDING} if obs and hid else {True: 1.0, False: 1.0}
    n_hid, n_obs = len(hid), len(obs)
    hidden = set(hid)
    return np.array([_sig6(math.sqrt(share[p in hidden] / (n_hid if p in hidden else n_obs)) / sd[p])
                     for p in (*obs, *hid)])


def _mechanism(obs: Sequence[str], hid: Sequence[str], pilot: _Pilot, gen: np.random.Generator,
               kind: str) -> tuple[Mechanism, np.ndarray]:
    """A non-target mechanism on parents obs + hid, scaled on the pilot to a signal of mean ~0 and sd ~1,
    and that signal (its noiseless output on the pilot units)."""
    parents = (*obs, *hid)
    Xt = pilot.rows(parents)
    f = _input_scale(obs, hid, pilot.sd)
    if kind == "mlp":
        net = MLP.random(parents, MLP_UNITS, int(gen.integers(2**62)), NOISE_SD, MLP_GAIN)
        W1 = net.W1 * (f * math.sqrt(len(parents)))
        H = np.tanh(_combine(W1, Xt) + net.b1[:, None])
        z = _combine(net.w2, H)
        c = _sig6(1.0 / z.std())
        mech = MLP(parents, W1, net.b1, net.w2 * c, -_sig6(z.mean() * c), NOISE_SD)
        return mech, _combine(mech.w2, H) + mech.b2
    w = _signed_weights(gen, len(parents)) * f
    z = _combine(w, Xt)
    if kind == "linear":
        c = _sig6(1.0 / z.std())
        mech = Linear(dict(zip(parents, w * c)), intercept=-_sig6(z.mean() * c), std=NOISE_SD)
        return mech, c * z + mech.intercept  # = (w c) . x: one pass over the parents per node
    g = _sig6(TANH_GAIN / z.std())
    bias = _sig6(gen.uniform(-1.0, 1.0) - z.mean() * g)
    t = np.tanh(g * z + bias)
    scale = _sig6(1.0 / t.std())
    offset = -_sig6(t.mean() * scale)
    return Additive(dict(zip(parents, w * g)), intercept=bias, fn="tanh", scale=scale, offset=offset,
                    std=NOISE_SD), scale * t + offset


def _separable_target(obs: Sequence[str], hid: Sequence[str], pilot: _Pilot, gen: np.random.Generator,
                      kind: str) -> tuple[MLP, np.ndarray]:
    """y = f(obs) + g(hid) + noise as one MLP with block-diagonal first layer (tanh: one unit per block),
    and its noiseless output on the pilot units."""
    blocks = []
    for names, share in ((obs, 1.0 - CONFOUNDING), (hid, CONFOUNDING)):
        Xt = pilot.rows(names)
        f = _input_scale(names, (), pilot.sd)
        if kind == "mlp":
            net = MLP.random(names, MLP_UNITS // 2, int(gen.integers(2**62)), NOISE_SD, MLP_GAIN)
            W, b, w2 = net.W1 * (f * math.sqrt(len(names))), net.b1, net.w2
        else:
            w = _signed_weights(gen, len(names)) * f
            z = _combine(w, Xt)
            g = _sig6(TANH_GAIN / z.std())
            W = (w * g)[None, :]
            b = np.array([_sig6(gen.uniform(-1.0, 1.0) - z.mean() * g)])
            w2 = np.ones(1)
        out = _combine(w2, np.tanh(_combine(W, Xt) + b[:, None]))
        c = _sig6(math.sqrt(share) / out.std())
        blocks.append((W, b, w2 * c, out.mean() * c))
    (Wo, bo, vo, mo), (Wh, bh, vh, mh) = blocks
    W1 = np.block([[Wo, np.zeros((len(Wo), len(hid)))], [np.zeros((len(Wh), len(obs))), Wh]])
    mech = MLP((*obs, *hid), W1, np.concatenate([bo, bh]), np.concatenate([vo, vh]), -_sig6(mo + mh), NOISE_SD)
    H = np.tanh(_combine(mech.W1, pilot.rows(mech.inputs)) + mech.b1[:, None])
    return mech, _combine(mech.w2, H) + mech.b2
