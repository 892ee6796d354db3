"""Benchmark environments: an SCM with roles, training domains, named OOD shifts and ground truth.

A new environment is one subclass of `CausalEnv` in its own file under `envs/`
plus one `register_env` line. Everything else (datasets, test sets, scoring,
gymnasium adaptors, tests) works from what the subclass declares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, ClassVar, Mapping, Sequence

import networkx as nx
import numpy as np

from ..data import DATASET_KINDS, Dataset, DatasetSpec
from ..errors import DataError, SCMError
from ..scm import SCM, Bernoulli, Categorical, Intervention, Mechanism, Normal, Sample, exact
from ..seeding import check_n, check_seed, derive
from . import stream
from .ids import ENV_ID
from .mixture import Mixture

SHIFT_KINDS = ("confounder", "spurious_break", "spurious_reversal", "causal_covariate", "noise", "mechanism")
TARGET_KINDS = ("real", "binary")
PILOT_SIZE = 200_000


@dataclass(frozen=True)
class Domain:
    """A training environment: one (soft) intervention on the SCM."""

    name: str
    intervention: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Shift:
    """A named OOD test distribution family: severity -> intervention on the base SCM."""

    name: str
    kind: str
    severities: tuple[float, ...]
    intervention: Callable[[float], Intervention]
    description: str = ""

    def test_name(self, severity: float) -> str:
        return f"{self.name}@{severity:g}"


class CausalEnv:
    """Base class of benchmark environments (subclass it; see `envs/ice_cream.py`).

    Subclasses define `id`, `summary`, `build_scm()` and usually `build_domains()`
    and `build_shifts()`; decision environments also set `action` and `utility`.
    """

    id: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    action: ClassVar[str | None] = None
    episodic: ClassVar[bool] = False   # a multi-step gymnasium task whose observation is the feature row
    test_size: ClassVar[int] = 5000
    # Number of Monte-Carlo units per row for E[Y | do(C = c)] when no exact form exists.
    oracle_mc_units: ClassVar[int] = 256

    def __init__(self, **options: Any) -> None:
        self.options = dict(options)
        self.scm = self.build_scm()
        self.domains: tuple[Domain, ...] = tuple(self.build_domains())
        self.shifts: tuple[Shift, ...] = tuple(self.build_shifts())
        self._validate()

    # ---------------------------------------------------------- to override

    def build_scm(self) -> SCM:
        raise NotImplementedError

    def build_domains(self) -> Sequence[Domain]:
        return [Domain("base")]

    def build_shifts(self) -> Sequence[Shift]:
        return []

    def utility(self, y: np.ndarray, action: np.ndarray) -> np.ndarray:
        """Reward of outcome y under action (decision envs); default: the outcome itself."""
        return np.asarray(y, dtype=float)

    def render(self, V: np.ndarray) -> np.ndarray:
        """Observed variables (n, k) -> feature matrix X; identity except for high-dimensional envs."""
        return V

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.variables

    # ---------------------------------------------------------- structure

    def _validate(self) -> None:
        if not ENV_ID.match(self.id or ""):
            raise SCMError(f"environment id {self.id!r} must look like Name-v0")
        if self.target is None:
            raise SCMError(f"{self.id}: the SCM declares no target variable")
        if self.target_kind not in TARGET_KINDS:
            raise SCMError(f"{self.id}: target kind {self.target_kind!r} not supported; use one of {TARGET_KINDS}")
        if not self.domains:
            raise SCMError(f"{self.id}: at least one training domain is required")
        names = [d.name for d in self.domains]
        if len(set(names)) != len(names):
            raise SCMError(f"{self.id}: duplicate domain names {names}")
        for d in self.domains:
            self.scm.resolve(d.intervention)
        seen = set()
        for s in self.shifts:
            if s.kind not in SHIFT_KINDS:
                raise SCMError(f"{self.id}: shift {s.name!r} has unknown kind {s.kind!r}; kinds: {', '.join(SHIFT_KINDS)}")
            if len(s.severities) < 1 or s.name in seen or "@" in s.name or s.name == "id":
                raise SCMError(f"{self.id}: shift {s.name!r} needs a unique name and at least one severity")
            seen.add(s.name)
            for sev in s.severities:
                self.scm.resolve(s.intervention(sev))
        if self.action is not None:
            if self.action not in self.variables:
                raise SCMError(f"{self.id}: action {self.action!r} must be an observed, non-target variable")
            if self.scm[self.action].kind == "real" and not self.action_values:
                raise SCMError(f"{self.id}: a real-valued action needs explicit action_values")

    @property
    def target(self) -> str:
        return self.scm.target  # type: ignore[return-value]

    @property
    def target_kind(self) -> str:
        return self.scm[self.target].kind

    @cached_property
    def variables(self) -> tuple[str, ...]:
        """Observed non-target variables, in declaration order: what roles and masks refer to."""
        return tuple(v for v in self.scm.observed if v != self.target)

    @cached_property
    def roles(self) -> dict[str, str]:
        return {v: self.scm[v].role for v in self.variables}

    @cached_property
    def causal_variables(self) -> tuple[str, ...]:
        """Observed causes of the target the oracle may use (roles 'causal' and 'action')."""
        return tuple(v for v in self.variables if self.roles[v] in ("causal", "action"))

    @cached_property
    def spurious_variables(self) -> tuple[str, ...]:
        return tuple(v for v in self.variables if self.roles[v] == "spurious")

    @property
    def action_values(self) -> tuple[float, ...]:
        """The finite grid of actions (gym Discrete(K) index -> value)."""
        if self.action is None:
            return ()
        var = self.scm[self.action]
        return tuple(float(k) for k in range(var.cardinality)) if var.cardinality else ()

    @cached_property
    def context_variables(self) -> tuple[str, ...]:
        """Observed pre-action variables: what a decision-maker sees before acting."""
        if self.action is None:
            return self.variables
        after = nx.descendants(self.scm.graph, self.action) | {self.action}
        return tuple(v for v in self.variables if v not in after)

    def test_set_names(self) -> list[str]:
        return ["id"] + [s.test_name(sev) for s in self.shifts for sev in s.severities]

    def shift(self, name: str) -> tuple[Shift, float]:
        """The (shift, severity) named "<shift>@<severity>"."""
        for s in self.shifts:
            for sev in s.severities:
                if s.test_name(sev) == name:
                    return s, sev
        raise DataError(f"{self.id} has no test set {name!r}; test sets: {', '.join(self.test_set_names())}")

    @cached_property
    def domain_scms(self) -> tuple[SCM, ...]:
        return tuple(self.scm.do(d.intervention) if d.intervention else self.scm for d in self.domains)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    # ---------------------------------------------------------- sampling

    def mixture(self, n: int, seed: Any, *context: str, paired: bool = False) -> Mixture:
        """n units of the training mixture (split evenly over the domains), streams keyed by (env id, *context)."""
        return Mixture(self.domain_scms, [d.name for d in self.domains], n, seed, (self.id, *context), paired)

    def _to_dataset(self, sample: Sample, kind: str, n: int, seed: int, options: Mapping[str, Any],
                    domain: np.ndarray | None = None, intervened: np.ndarray | None = None) -> Dataset:
        V = sample.columns(self.variables)
        y = sample[self.target].copy()
        if self.target_kind != "real":
            y = y.astype(np.int64)
        spec = DatasetSpec(self.id, kind, n, int(seed), {**self.options, **options}, self.scm.hash)
        return Dataset(np.ascontiguousarray(self.render(V)), y, self.feature_names, self.roles, self.target,
                       self.target_kind, spec, domain, intervened, self.variables,
                       self.scm[self.target].cardinality)

    def dataset(self, kind: str = "observational", n: int = 10_000, seed: int = 0, *, p: float = 0.5,
                fraction: float = 1.0) -> Dataset:
        """A training dataset; a pure function of (env id, options, kind, n, seed, p, fraction).

        kind: "observational" (pooled domains, no labels), "domains" (with domain
        labels), or "interventional" (on a `fraction` of units, each observed
        non-target variable is independently randomised with probability `p`;
        the `intervened` mask records which).
        """
        if kind == "observational+domains":
            kind = "domains"
        if kind not in DATASET_KINDS:
            raise DataError(f"unknown dataset kind {kind!r}; kinds: {', '.join(DATASET_KINDS)}")
        n = check_n(n)
        check_seed(seed)
        options: dict[str, Any] = {}
        if kind == "interventional":
            if not (0.0 <= p <= 1.0) or not (0.0 <= fraction <= 1.0):
                raise DataError(f"p and fraction must lie in [0, 1], got p={p}, fraction={fraction}")
            options = {"p": p, "fraction": fraction}
        sample, labels, mask = stream.collect(self, kind, n, seed, p, fraction)
        return self._to_dataset(sample, kind, n, seed, options, labels if kind == "domains" else None, mask)

    def randomizer(self, variable: str) -> Mechanism:
        """The distribution a randomised (intervened) variable is drawn from in interventional data.

        Real: normal with the training marginal's mean and sd (3 significant digits);
        binary: Bernoulli(1/2); categorical: uniform. Computed once per variable.
        """
        if variable not in self._randomizers:
            var = self.scm[variable]
            if var.kind == "binary":
                mech: Mechanism = Bernoulli(0.5)
            elif var.kind == "categorical":
                mech = Categorical(tuple([1 / var.cardinality] * var.cardinality))
            else:
                col = self.pilot[variable]
                mech = Normal(_round3(float(col.mean())), _round3(float(col.std())) or 1.0)
            self._randomizers[variable] = mech
        return self._randomizers[variable]

    @cached_property
    def _randomizers(self) -> dict[str, Mechanism]:
        return {}

    def test_sample(self, name: str, seed: int, n: int | None = None) -> tuple[Sample, SCM | None]:
        """The units of test set `name` and the single SCM they come from (None for the domain mixture)."""
        n = check_n(n or self.test_size)
        if name == "id":
            sample = self.mixture(n, seed, "test", "id").sample()
            return sample, (self.domain_scms[0] if len(self.domains) == 1 else None)
        shift, sev = self.shift(name)
        scm = self.scm.do(shift.intervention(sev))
        return scm.sample(n, derive(seed, self.id, "test", name)), scm

    def test_sets(self, seed: int = 0, n: int | None = None) -> dict[str, Dataset]:
        """{"id": i.i.d. test set, "<shift>@<severity>": shifted test set, ...}, each of size n."""
        check_seed(seed)
        out = {}
        for name in self.test_set_names():
            sample, _ = self.test_sample(name, seed, n)
            out[name] = self._to_dataset(sample, f"test:{name}", sample.n, seed, {})
        return out

    # ---------------------------------------------------------- ground truth

    @cached_property
    def pilot(self) -> Sample:
        """A large fixed sample of the training mixture (seed-independent) for moments and grids."""
        return self.mixture(PILOT_SIZE, 0, "pilot").sample()

    @cached_property
    def null_prediction(self) -> float:
        """Training mean (real target) or prior P(Y = 1) (binary): what the null predictor outputs."""
        try:
            return float(np.mean([exact.expectation(s, self.target) for s in self.domain_scms]))
        except SCMError:
            return float(self.pilot[self.target].mean())

    @cached_property
    def target_scale(self) -> float:
        """sd(Y) under the training distribution: the unit of `effect_error`."""
        return float(self.pilot[self.target].std())

    def oracle(self, V: np.ndarray) -> np.ndarray:
        """The causal oracle E[Y | C = c] at observed-variable rows V (columns = `variables`).

        C are the causal features (roles 'causal' and 'action'); the expectation is over
        the training mixture. Computed exactly: as E[Y | do(C = c)] when C has no
        back-door path to Y (and the domains leave C's law alone, or agree on the
        effect), else by enumeration (discrete) or Gaussian conditioning. Subclasses
        without an exact form override this with a closed form.
        """
        V = np.asarray(V, dtype=float)
        cols = [self.variables.index(c) for c in self.causal_variables]
        return self._oracle_fn(V[:, cols])

    @cached_property
    def _oracle_fn(self) -> Callable[[np.ndarray], np.ndarray]:
        C, scms = self.causal_variables, self.domain_scms
        if all(exact.backdoor_free(s, C, self.target) for s in scms):
            try:
                fns = [exact.interventional_mean_fn(s, self.target, C) for s in scms]
            except SCMError:
                fns = None
            if fns is not None and (len(fns) == 1 or not self._domains_touch(C) or self._agree(fns)):
                return exact.mixture_mean_fn(fns)
            if fns is None and (len(scms) == 1 or not self._domains_touch(C)):
                return self._mc_oracle
        try:
            return exact.mixture_conditional_mean_fn(scms, self.target, C)
        except SCMError:
            raise SCMError(f"{self.id}: no exact E[Y | causal features]; override `oracle` with a closed form") from None

    def _domains_touch(self, variables: Sequence[str]) -> bool:
        """Do the domain interventions change the law of `variables` (touch them or their ancestors)?"""
        upstream = set(variables).union(*(nx.ancestors(self.scm.graph, v) for v in variables))
        return any(set(d.intervention) & upstream for d in self.domains)

    def _agree(self, fns: Sequence[Callable[[np.ndarray], np.ndarray]]) -> bool:
        probe = self.pilot.columns(self.causal_variables)[:256]
        ref = fns[0](probe)
        return all(np.allclose(f(probe), ref, rtol=1e-9, atol=1e-9) for f in fns[1:])

    def _mc_oracle(self, C: np.ndarray) -> np.ndarray:
        m, out = self.oracle_mc_units, np.empty(len(C))
        chunk = max(1, 2_000_000 // (m * max(1, len(self.domains))))
        for start in range(0, len(C), chunk):
            block = C[start:start + chunk]
            do = {c: np.repeat(block[:, j], m) for j, c in enumerate(self.causal_variables)}
            means = [s.sample(len(block) * m, derive(0, self.id, "oracle-mc", str(start)), do=do)[self.target]
                     .reshape(len(block), m).mean(axis=1) for s in self.domain_scms]
            out[start:start + len(block)] = np.mean(means, axis=0)
        return out

    def true_effect(self, variable: str, values: Sequence[float]) -> np.ndarray | None:
        """Exact E[Y | do(variable = a)] for each a (training mixture), or None when no exact form exists."""
        try:
            return np.array([np.mean([exact.expectation(s, self.target, {variable: float(a)}) for s in self.domain_scms])
                             for a in values])
        except SCMError:
            return None

    def decision_values(self, ctx: np.ndarray) -> np.ndarray:
        """E[utility | do(action = a), context] for each context row (columns = `context_variables`)
        and each a in `action_values`, under the training mixture: an (n, K) array.

        Exact by enumeration for discrete SCMs; for discrete contexts otherwise, cell means
        of paired potential outcomes over a fixed pilot of PILOT_SIZE units.
        Subclasses with real-valued contexts override this with a closed form.
        """
        if self.action is None:
            raise SCMError(f"{self.id} has no action variable")
        ctx = np.asarray(ctx, dtype=float)
        cards = [self.scm[c].cardinality for c in self.context_variables]
        if any(c is None for c in cards):
            raise SCMError(f"{self.id}: real-valued context; override decision_values with a closed form")
        table = self._decision_table
        flat = np.ravel_multi_index(tuple(ctx[:, j].astype(np.intp) for j in range(len(cards))), cards) if cards \
            else np.zeros(len(ctx), np.intp)
        return table[flat]

    @cached_property
    def _decision_table(self) -> np.ndarray:
        ctx_vars, A, acts = self.context_variables, self.action, self.action_values
        cards = [int(self.scm[c].cardinality) for c in ctx_vars]
        size = int(np.prod(cards)) if cards else 1
        mass, moment = np.zeros((size, len(acts))), np.zeros((size, len(acts)))
        for dom, scm_k in zip(self.domains, self.domain_scms):
            for j, a in enumerate(acts):
                model = scm_k.do({A: a})
                try:
                    keep = set().union(*(nx.ancestors(model.graph, v) for v in (*ctx_vars, self.target)))
                    keep |= {*ctx_vars, self.target}
                    names, states, probs = exact.discrete_joint(model, [v for v in model.order if v in keep])
                    cols = [names.index(c) for c in ctx_vars]
                    y = states[:, names.index(self.target)]
                except SCMError:
                    sample = model.sample(PILOT_SIZE, derive(0, self.id, "decision-pilot", dom.name))
                    names, states = sample.names, sample.data
                    cols, y = [names.index(c) for c in ctx_vars], sample[self.target]
                    probs = np.full(len(y), 1.0 / len(y))
                flat = np.ravel_multi_index(tuple(states[:, c].astype(np.intp) for c in cols), cards) if cards \
                    else np.zeros(len(y), np.intp)
                mass[:, j] += np.bincount(flat, probs, minlength=size)
                moment[:, j] += np.bincount(flat, probs * y, minlength=size)
        mean_y = np.divide(moment, mass, out=np.zeros_like(moment), where=mass > 0)
        return np.column_stack([self.utility(mean_y[:, j], np.full(size, a)) for j, a in enumerate(acts)])

    def policy_inputs(self) -> np.ndarray | None:
        """Multi-step gym tasks with a finite observation grid: every observation cell (rows = feature
        rows). A predictor's outputs there define its greedy policy (action 1 where P > 1/2). None otherwise."""
        return None

    def policy_regret(self, actions: np.ndarray, seed: int) -> float:
        """Expert return minus the return of the policy `actions` (one per `policy_inputs` row), per
        episode, over paired episodes of the gym task seeded by `seed`. Multi-step envs override."""
        raise SCMError(f"{self.id} has no multi-step gym task")

    def effect_grid(self, variable: str) -> tuple[float, ...]:
        """Values a for the world-level interventions do(variable = a) used by `effect_error`."""
        var = self.scm[variable]
        if var.cardinality:
            return tuple(float(k) for k in range(var.cardinality))
        qs = np.quantile(self.pilot[variable], [0.1, 0.3, 0.5, 0.7, 0.9])
        return tuple(float(np.round(q, 2)) + 0.0 for q in qs)

    # ---------------------------------------------------------- text

    def describe(self) -> str:
        """Story, graph, roles, hidden variables, domains, shifts and the published ground truth."""
        from .describe import describe_env

        return describe_env(self)


def _round3(x: float) -> float:
    return float(f"{x:.3g}") if x != 0 and math.isfinite(x) else x
