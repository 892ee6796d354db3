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
from ..scm import SCM, Bernoulli, Categorical, Intervention, Mechanism, Normal, Sample
from ..seeding import check_n, check_seed, derive
from . import stream
from .ids import ENV_ID, ID_TEST_SET, parse_test_set, test_set_name
from .instances import ColumnMap, Instance, InstanceSpace, column_map, draw_instance, stream_key
from .mixture import Mixture
from .roles import CAUSAL_ROLES, SPURIOUS_ROLES, graph_roles
from .truth import GroundTruth

SHIFT_KINDS = ("confounder", "spurious_break", "spurious_reversal", "causal_covariate", "noise", "mechanism")
# Kinds of shift that break or reverse a non-causal link: the test sets `ood_link` averages over.
LINK_SHIFT_KINDS = ("spurious_break", "spurious_reversal")
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
        return test_set_name(self.name, severity)

    @property
    def breaks_link(self) -> bool:
        """Does this shift break or reverse a non-causal link (a test set of `ood_link`)?"""
        return self.kind in LINK_SHIFT_KINDS


class CausalEnv:
    """Base class of benchmark environments (subclass it; see `envs/ice_cream.py`).

    Subclasses define `id`, `summary`, `build_scm()` and usually `build_domains()`
    and `build_shifts()`; decision environments also set `action` and `utility`. A family's
    `instance_space` declares what varies between its hidden instances (`make(id, instance=s)`);
    builders read those values with `self.param(name)` (the public values by default).
    """

    id: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    action: ClassVar[str | None] = None
    episodic: ClassVar[bool] = False   # a multi-step gymnasium task whose observation is the feature row
    test_size: ClassVar[int] = 5000
    Truth: ClassVar[type[GroundTruth]] = GroundTruth   # an env with closed forms of its own subclasses it
    instance_space: ClassVar[InstanceSpace] = InstanceSpace()   # what hidden instances randomise (env.instances)

    def __init__(self, *, instance: int | None = None, **options: Any) -> None:
        self.instance: Instance = draw_instance(self.instance_space, self.id, instance)
        self.options = dict(options) if self.instance.public else {**options, "instance": self.instance.seed}
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
        """Observed variables (n, k) -> feature matrix X: the identity for a public instance, the
        instance's anonymised column layout otherwise; high-dimensional envs embed."""
        return V if self.columns is None else self.columns.apply(V)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.variables if self.columns is None else self.columns.names

    # ---------------------------------------------------------- instances

    def param(self, name: str) -> Any:
        """The value of parameter `name` of this instance (the family's `instance_space`)."""
        try:
            return self.instance.params[name]
        except KeyError:
            raise SCMError(f"{self.id} declares no instance parameter {name!r}") from None

    @property
    def stream(self) -> str:
        """What this instance's random streams are keyed by: the env id (public), or the id and the instance seed."""
        return stream_key(self.id, self.instance)

    @cached_property
    def columns(self) -> ColumnMap | None:
        """The anonymised column layout of a hidden instance (None: features are the variables, or rendered)."""
        if self.instance.public or not self.instance_space.columns:
            return None
        cards = [self.scm[v].cardinality for v in self.variables]
        fixed = [self.variables.index(self.action)] if self.action is not None else []
        assert self.instance.seed is not None
        return column_map(self.instance.seed, self.id, cards, fixed)

    @property
    def columnar(self) -> bool:
        """Is every feature column one observed variable (as is, or in a hidden instance's layout)?"""
        return self.columns is not None or tuple(self.feature_names) == tuple(self.variables)

    def feature_of(self, variable: str) -> str | None:
        """The feature column showing observed `variable` (None when features are a rendering of all of them)."""
        if self.columns is not None:
            return self.columns.names[self.columns.column_of(self.variables.index(variable))]
        return variable if variable in self.feature_names else None

    @cached_property
    def context_features(self) -> tuple[str, ...]:
        """The feature columns of the context variables, in feature order: what a decision-maker observes."""
        if self.columns is None:
            return self.context_variables
        return tuple(f for i, f in enumerate(self.columns.names)
                     if self.variables[self.columns.order[i]] in self.context_variables)

    def observe_context(self, ctx: np.ndarray) -> np.ndarray:
        """Context rows (columns = `context_variables`) -> the same rows as `context_features` show them."""
        if self.columns is None:
            return ctx
        ctx = np.asarray(ctx)
        cols = []
        for i, j in enumerate(self.columns.order):
            if self.variables[j] in self.context_variables:
                x = ctx[..., self.context_variables.index(self.variables[j])]
                cols.append(self.columns.flip[i] - x if self.columns.flip[i] else x)
        return np.stack(cols, axis=-1).astype(ctx.dtype)

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
            y, a = np.array([0.0, 1.0, 2.0]), np.full(3, self.action_values[0])
            u = np.asarray(self.utility(y, a), dtype=float)
            if not np.isclose(u[2] - u[1], u[1] - u[0]):
                raise SCMError(f"{self.id}: utility must be affine in the outcome (decision values are exact for "
                               "affine utilities only)")

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
        """Role of every observed non-target variable, computed from the graph (see `env.roles`)."""
        return graph_roles(self.scm.graph, self.variables, self.target, self.action)

    @cached_property
    def causal_variables(self) -> tuple[str, ...]:
        """Observed ancestors of the target (roles 'causal' and 'action')."""
        return tuple(v for v in self.variables if self.roles[v] in CAUSAL_ROLES)

    @cached_property
    def spurious_variables(self) -> tuple[str, ...]:
        """Observed variables linked to the target through a hidden confounder or the wrong way."""
        return tuple(v for v in self.variables if self.roles[v] in SPURIOUS_ROLES)

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
        return [ID_TEST_SET] + [s.test_name(sev) for s in self.shifts for sev in s.severities]

    def shift(self, name: str) -> tuple[Shift, float]:
        """The (shift, severity) named "<shift>@<severity>"."""
        parsed = parse_test_set(name) if "@" in str(name) else None
        for s in self.shifts:
            for sev in s.severities:
                if parsed == (s.name, sev):
                    return s, sev
        raise DataError(f"{self.id} has no test set {name!r}; test sets: {', '.join(self.test_set_names())}")

    def test_scm(self, name: str) -> SCM:
        """The SCM of a shifted test set "<shift>@<severity>" (the base SCM under the shift's intervention)."""
        shift, sev = self.shift(name)
        return self.scm.do(shift.intervention(sev))

    def shift_links(self, name: str) -> tuple[str, ...]:
        """The non-causal variables whose link to the target a link shift breaks or reverses: the proxies
        and anti-causal variables at or downstream of what the shift intervenes on (empty for other kinds)."""
        shift, sev = self.shift(name)
        if not shift.breaks_link:
            return ()
        touched = set(shift.intervention(sev))
        reach = touched.union(*(nx.descendants(self.scm.graph, v) for v in touched))
        return tuple(v for v in self.spurious_variables if v in reach)

    @cached_property
    def domain_scms(self) -> tuple[SCM, ...]:
        return tuple(self.scm.do(d.intervention) if d.intervention else self.scm for d in self.domains)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}{'' if self.instance.public else ' (hidden instance)'}>"

    # ---------------------------------------------------------- sampling

    def mixture(self, n: int, seed: Any, *context: str, paired: bool = False) -> Mixture:
        """n units of the training mixture (split evenly over the domains), streams keyed by (`stream`, *context)."""
        return Mixture(self.domain_scms, [d.name for d in self.domains], n, seed, (self.stream, *context), paired)

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
        scm = self.test_scm(name)
        return scm.sample(n, derive(seed, self.stream, "test", name)), scm

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
        """A large fixed sample of the training mixture (seed-independent) for grids and declared bounds."""
        return self.mixture(PILOT_SIZE, 0, "pilot").sample()

    @cached_property
    def truth(self) -> GroundTruth:
        """References, true effects and decision values, exact from the SCM (see `env.truth`)."""
        return self.Truth(self)

    @property
    def null_prediction(self) -> float:
        """Training mean (real target) or prior P(Y = 1) (binary target)."""
        return self.truth.null

    @property
    def target_scale(self) -> float:
        """sd(Y) under the training distribution."""
        return self.truth.target_scale

    # ---------------------------------------------------------- text

    def describe(self) -> str:
        """Story, graph, roles, hidden variables, domains, shifts and the published ground truth."""
        from .describe import describe_env

        return describe_env(self)


def _round3(x: float) -> float:
    return float(f"{x:.3g}") if x != 0 and math.isfinite(x) else x
