"""Structural causal models: a DAG of variables, one mechanism each, vectorised sampling.

Reproducibility: every variable draws its exogenous noise from its own
`numpy.random.SeedSequence` stream keyed by (seed, variable name), never by
sampling order. So a dataset is a pure function of (SCM, n, seed), and
`sample(n, seed)` / `sample(n, seed, do=...)` are unit-level counterfactual
pairs: the same units, the same noise, a different world.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

import networkx as nx
import numpy as np

from ..errors import InterventionError, SCMError
from ..resources import check_memory
from ..seeding import Streams, check_n, check_seed
from .distributions import CPT
from .interventions import Intervention, PerSample, Soft
from .linear import LinearSystem, compile_linear, sample_linear
from .mechanisms import KINDS, NORMAL, Constant, Masked, Mechanism, NoiseSource, Scratch

ROLES = ("target", "other")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class _VariableNoise(NoiseSource):
    """Noise for one variable of one sampling call; optionally cached for counterfactual reuse."""

    __slots__ = ("streams", "name", "cache")

    def __init__(self, streams: Streams, name: str, cache: dict | None) -> None:
        self.streams, self.name, self.cache = streams, name, cache

    def fill(self, out: np.ndarray, kind: str, sub: str = "") -> None:
        key = (self.name, sub, kind)
        if self.cache is not None and key in self.cache:
            np.copyto(out, self.cache[key])
            return
        gen = self.streams.generator(self.name, sub) if sub else self.streams.generator(self.name)
        if kind == NORMAL:
            gen.standard_normal(out=out)
        else:
            gen.random(out=out)
        if self.cache is not None:
            self.cache[key] = out.copy()


# ---------------------------------------------------------------- data types


@dataclass(frozen=True)
class Variable:
    """One node: its mechanism and its attributes (hidden, role, kind)."""

    name: str
    mechanism: Mechanism
    hidden: bool = False
    role: str = "other"
    description: str = ""

    @property
    def kind(self) -> str:
        return self.mechanism.kind

    @property
    def cardinality(self) -> int | None:
        return self.mechanism.cardinality


@dataclass(frozen=True)
class Sample:
    """n draws of every variable: a Fortran-ordered (n, p) float64 matrix plus column names."""

    data: np.ndarray
    names: tuple[str, ...]
    index: Mapping[str, int] = field(repr=False, compare=False)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.data[:, self.index[name]]
        except KeyError:
            raise SCMError(f"no variable {name!r} in sample; variables: {', '.join(self.names)}") from None

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """The named columns as a C-ordered (n, k) array."""
        out = np.empty((self.n, len(names)))
        for j, name in enumerate(names):
            out[:, j] = self[name]
        return out

    @property
    def n(self) -> int:
        return self.data.shape[0]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: self[name] for name in self.names}


# ---------------------------------------------------------------- the SCM


class SCM:
    """A structural causal model over named variables (validated at construction, immutable)."""

    def __init__(self, variables: Iterable[Variable], name: str = "", *, check_roles: bool = True) -> None:
        self.name = name
        vars_ = list(variables)
        self.variables: dict[str, Variable] = {}
        for v in vars_:
            if not isinstance(v, Variable):
                raise SCMError(f"expected Variable, got {type(v).__name__}")
            if not isinstance(v.name, str) or not _NAME.match(v.name):
                raise SCMError(f"invalid variable name {v.name!r}: use letters, digits, '_', '.', '-'")
            if v.name in self.variables:
                raise SCMError(f"duplicate variable {v.name!r}")
            if not isinstance(v.mechanism, Mechanism):
                raise SCMError(f"variable {v.name!r}: mechanism must be a Mechanism, got {type(v.mechanism).__name__}")
            self.variables[v.name] = v
        self._validate_graph()
        self.order: tuple[str, ...] = tuple(
            nx.lexicographical_topological_sort(self._graph, key={v: i for i, v in enumerate(self.variables)}.__getitem__)
        )
        self._index = MappingProxyType({name: i for i, name in enumerate(self.order)})
        self._validate_mechanisms()
        if check_roles:
            self._validate_roles()

    # ---------------------------------------------------------- validation

    def _validate_graph(self) -> None:
        g = nx.DiGraph()
        for v in self.variables.values():
            g.add_node(v.name, hidden=v.hidden, role=v.role, kind=v.kind, cardinality=v.cardinality,
                       mechanism=v.mechanism.type)
        for v in self.variables.values():
            for p in v.mechanism.parents:
                if p not in self.variables:
                    raise SCMError(f"variable {v.name!r}: unknown parent {p!r}")
                g.add_edge(p, v.name)
        if not nx.is_directed_acyclic_graph(g):  # linear time; find_cycle only to name the cycle
            cycle = nx.find_cycle(g)
            raise SCMError("graph has a cycle: " + " -> ".join([e[0] for e in cycle] + [cycle[0][0]]))
        self._graph = nx.freeze(g)

    def _validate_mechanisms(self) -> None:
        cards = {name: v.cardinality for name, v in self.variables.items()}
        for v in self.variables.values():
            if v.kind not in KINDS:
                raise SCMError(f"variable {v.name!r}: unknown kind {v.kind!r}")
            v.mechanism.check(v.name, cards)

    def _validate_roles(self) -> None:
        """A variable's role only marks the target: every other role is computed from the graph by the env."""
        for v in self.variables.values():
            if v.role not in ROLES:
                raise SCMError(f"variable {v.name!r}: unknown role {v.role!r}; an SCM marks only its target "
                               f"(roles: {', '.join(ROLES)}); environments derive the others from the graph")
            if v.hidden and v.role == "target":
                raise SCMError(f"variable {v.name!r}: the target cannot be hidden")
        targets = [v.name for v in self.variables.values() if v.role == "target"]
        if len(targets) > 1:
            raise SCMError(f"an SCM has at most one target, got {', '.join(targets)}")

    # ---------------------------------------------------------- structure

    @property
    def graph(self) -> nx.DiGraph:
        """The DAG (frozen networkx DiGraph) with node attributes hidden, role, kind, cardinality, mechanism."""
        return self._graph

    def __getitem__(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise SCMError(f"unknown variable {name!r}; variables: {', '.join(self.variables)}") from None

    def mechanism(self, name: str) -> Mechanism:
        return self[name].mechanism

    def parents(self, name: str) -> tuple[str, ...]:
        return self[name].mechanism.parents

    def downstream(self, names: Iterable[str]) -> frozenset[str]:
        """`names` and every descendant of them: what an intervention on `names` can change."""
        out = set(names)
        for v in self.order:   # topological: a child is reached after all its parents
            if v not in out and any(p in out for p in self.variables[v].mechanism.parents):
                out.add(v)
        return frozenset(out)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.variables)

    @property
    def observed(self) -> tuple[str, ...]:
        return tuple(n for n, v in self.variables.items() if not v.hidden)

    @property
    def hidden(self) -> tuple[str, ...]:
        return tuple(n for n, v in self.variables.items() if v.hidden)

    @cached_property
    def target(self) -> str | None:
        return next((n for n, v in self.variables.items() if v.role == "target"), None)

    @property
    def roles(self) -> dict[str, str]:
        return {n: v.role for n, v in self.variables.items() if not v.hidden}

    def __repr__(self) -> str:
        return f"SCM({self.name!r}, {len(self.variables)} variables, {self._graph.number_of_edges()} edges)"

    # ---------------------------------------------------------- interventions

    def resolve(self, do: Intervention | None) -> dict[str, Mechanism]:
        """Turn a user intervention mapping into replacement mechanisms, validating every entry."""
        if not do:
            return {}
        if not isinstance(do, Mapping):
            raise InterventionError(f"do= must be a mapping variable -> value/mechanism, got {type(do).__name__}")
        out: dict[str, Mechanism] = {}
        for name, spec in do.items():
            if name not in self.variables:
                raise InterventionError(f"cannot intervene on unknown variable {name!r}; variables: {', '.join(self.variables)}")
            var = self.variables[name]
            if isinstance(spec, Soft):
                try:
                    mech = var.mechanism.soft(**spec.changes)
                except SCMError as err:
                    raise InterventionError(f"soft intervention on {name!r}: {err}") from None
            elif isinstance(spec, PerSample):
                mech = Masked(var.mechanism, self._check_kind(name, self._as_mechanism(name, spec.replacement)),
                              spec.mask)
            else:
                mech = self._as_mechanism(name, spec)
            out[name] = self._check_kind(name, mech)
        return out

    def _as_mechanism(self, name: str, spec: Any) -> Mechanism:
        """A mechanism as given, or a Constant (hard do) carrying the variable's kind."""
        var = self.variables[name]
        if isinstance(spec, Constant) and spec.kind != var.kind:
            spec = spec.value
        if isinstance(spec, Mechanism):
            return spec
        try:
            return Constant(spec, var.kind, var.cardinality if var.kind == "categorical" else None)
        except SCMError as err:
            raise InterventionError(f"do({name}=...): {err}") from None

    def _check_kind(self, name: str, mech: Mechanism) -> Mechanism:
        var = self.variables[name]
        if isinstance(mech, Constant):
            if not mech.values_ok(var.kind, var.cardinality):
                shown = mech.value if np.ndim(mech.value) == 0 else "array"
                states = "a finite number" if var.kind == "real" else f"an integer in 0..{(var.cardinality or 2) - 1}"
                raise InterventionError(f"do({name}={shown}): {var.kind} variable {name!r} needs {states}")
        elif mech.kind != var.kind or (var.kind != "real" and mech.cardinality != var.cardinality):
            raise InterventionError(f"intervention on {name!r} replaces a {var.kind} variable with a {mech.kind} mechanism")
        return mech

    def do(self, do: Intervention) -> "SCM":
        """A new SCM with the intervention applied (the original is never mutated). Composable.

        Roles keep the meaning they have in the original model, so they are not re-checked
        against the mutilated graph (do(spurious) cuts the spurious feature's links).
        """
        resolved = self.resolve(do)
        variables = [Variable(v.name, resolved.get(v.name, v.mechanism), v.hidden, v.role, v.description)
                     for v in self.variables.values()]
        try:
            return SCM(variables, name=self.name, check_roles=False)
        except SCMError as err:
            raise InterventionError(f"intervention makes an invalid SCM: {err}") from None

    # ---------------------------------------------------------- sampling

    def _plan(self, do: Intervention | None) -> tuple[tuple[str, ...], dict[str, Mechanism]]:
        """Topological order and mechanisms to use under `do`; skips re-validation when order is unchanged."""
        resolved = self.resolve(do)
        if not resolved:
            return self.order, {}
        if all(set(m.parents) <= set(self.variables[n].mechanism.parents) for n, m in resolved.items()):
            cards = {name: v.cardinality for name, v in self.variables.items()}
            for name, m in resolved.items():
                m.check(name, cards)
            return self.order, resolved
        mutated = self.do(do)
        return mutated.order, {n: mutated.variables[n].mechanism for n in mutated.order}

    def _run(self, n: int, ss: np.random.SeedSequence, do: Intervention | None, cache: dict | None) -> Sample:
        streams = Streams(ss)
        order, replaced = self._plan(do)
        streams.prefetch(order)  # a fresh seed's streams derived in one pass, before the numpy work
        return self._fill(n, order, replaced, lambda name: _VariableNoise(streams, name, cache))

    def _fill(self, n: int, order: tuple[str, ...], replaced: Mapping[str, Mechanism],
              noise: Callable[[str], NoiseSource], base: Sample | None = None,
              affected: frozenset[str] | None = None) -> Sample:
        """Sample n units in `order`, every variable drawing from `noise(name)`.

        With `base` (a sample of the same units in the same order) only the `affected` variables are
        computed; the others are copied from it, which is exact when they are unaffected by `replaced`."""
        check_memory(n * (len(order) + 4) * 8, f"sampling {n:,} units of {len(order)} variables")
        data = np.empty((n, len(order)), order="F") if base is None else np.array(base.data, order="F")
        scratch = Scratch(n)
        values: dict[str, np.ndarray] = {}
        variables, coded = self.variables, self._table_parents
        for i, name in enumerate(order):
            col = data[:, i]
            if affected is not None and name not in affected:
                values[name] = col
                continue
            mech = replaced.get(name) or variables[name].mechanism
            mech.sample_into(col, values, scratch, noise(name))
            values[name] = col
            if name in coded:  # its children's CPTs index by its states: code them while the column is in cache
                scratch.code(col, coded[name])
        return Sample(data, order, self._indices(order))

    @cached_property
    def _table_parents(self) -> dict[str, int]:
        """Variables some CPT is indexed by -> their number of states."""
        return {p: int(card) for v in self.variables.values() if isinstance(v.mechanism, CPT)
                for p, card in zip(v.mechanism.evidence, v.mechanism.evidence_card)}

    def _indices(self, order: tuple[str, ...]) -> Mapping[str, int]:
        return self._index if order == self.order else {name: i for i, name in enumerate(order)}

    def sample(self, n: int, seed: Any = 0, do: Intervention | None = None) -> Sample:
        """Draw n units (float64), optionally under an intervention `do` (hard, random, soft or per-sample)."""
        return self._run(check_n(n), check_seed(seed), do, None)

    def sample_linear(self, n: int, seed: Any = 0) -> Sample:
        """A linear-Gaussian SCM's units in one triangular matrix product: the units (noise) and law of
        `sample(n, seed)`, whose bytes it matches to float rounding (~1e-12), not bit for bit; many
        times faster on large graphs. Observational only."""
        n, streams = check_n(n), Streams(check_seed(seed))
        check_memory(n * len(self.order) * 8, f"sampling {n:,} units of {len(self.order)} variables")
        data = sample_linear(self._linear_system, n, lambda name: _VariableNoise(streams, name, None))
        return Sample(data, self.order, self._index)

    @cached_property
    def _linear_system(self) -> LinearSystem:
        return compile_linear(self.order, {v: self.variables[v].mechanism.linear_form() if self.variables[v].kind == "real"
                                           else None for v in self.order})

    def rows(self, seed: Any = 0) -> "RowSampler":
        """The units of `sample(n, seed)` in consecutive blocks of rows, in bounded memory (streaming)."""
        return RowSampler(self, check_seed(seed))

    def units(self, n: int, seed: Any = 0) -> "Units":
        """n fixed units whose noise is drawn once and reused under every intervention."""
        return Units(self, check_n(n), check_seed(seed))

    def counterfactual(self, n: int, seed: Any = 0, do: Intervention | None = None) -> tuple[Sample, Sample]:
        """(factual, counterfactual) worlds for the same n units: identical noise, `do` applied to the second."""
        u = self.units(n, seed)
        return u.sample(), u.sample(do)

    # ---------------------------------------------------------- serialisation

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-able dict that `SCM.from_dict` turns back into an identical SCM."""
        return {
            "name": self.name,
            "variables": [
                {"name": v.name, "mechanism": v.mechanism.to_dict(), "hidden": v.hidden, "role": v.role,
                 "description": v.description}
                for v in self.variables.values()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SCM":
        try:
            variables = [
                Variable(d["name"], Mechanism.from_dict(d["mechanism"]), bool(d.get("hidden", False)),
                         d.get("role", "other"), d.get("description", ""))
                for d in data["variables"]
            ]
        except (KeyError, TypeError) as err:
            raise SCMError(f"malformed SCM dict: missing or bad field {err}") from None
        return cls(variables, name=data.get("name", ""))

    @cached_property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the model (descriptions excluded): a stable content id."""
        d = self.to_dict()
        for v in d["variables"]:
            v.pop("description", None)
        d.pop("name", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    # ---------------------------------------------------------- interop

    def to_pgmpy(self, latents: bool = True) -> Any:
        """A pgmpy DiscreteBayesianNetwork (all-discrete SCM) or LinearGaussianBayesianNetwork (linear-Gaussian
        SCM) with the same joint law; hidden variables are pgmpy latents unless `latents=False`, the target is
        pgmpy's outcome. Any other SCM raises SCMError naming the variable and mechanism that prevent it."""
        from .pgmpy_io import to_pgmpy

        return to_pgmpy(self, latents)

    @classmethod
    def from_pgmpy(cls, model: Any, hidden: Iterable[str] = (), name: str = "", *, target: Any = ...) -> "SCM":
        """An SCM from a pgmpy discrete (states become codes 0..K-1) or linear-Gaussian network.

        `target` names the target node; without it the network's single pgmpy outcome is used,
        or SCMError asks for one (`target=None` imports a network without a target).
        """
        from .pgmpy_io import from_pgmpy

        return from_pgmpy(model, cls, Variable, target=target, hidden=hidden, name=name)

    @property
    def is_discrete(self) -> bool:
        return all(v.kind != "real" for v in self.variables.values())

    @property
    def is_linear_gaussian(self) -> bool:
        return all(v.kind == "real" and v.mechanism.linear_form() is not None for v in self.variables.values())


class _RowNoise(NoiseSource):
    """A variable's noise streams kept open across blocks, so consecutive blocks continue them."""

    __slots__ = ("streams", "name", "open")

    def __init__(self, streams: Streams, name: str, open_: dict) -> None:
        self.streams, self.name, self.open = streams, name, open_

    def fill(self, out: np.ndarray, kind: str, sub: str = "") -> None:
        gen = self.open.get((self.name, sub))
        if gen is None:
            gen = self.open[(self.name, sub)] = self.streams.generator(self.name, *((sub,) if sub else ()))
        if kind == NORMAL:
            gen.standard_normal(out=out)
        else:
            gen.random(out=out)


class RowSampler:
    """Consecutive blocks of the units of `scm.sample(n, seed, do)`: concatenating `next(m_1, do_1)`,
    `next(m_2, do_2)`, ... gives exactly the bytes of one call, when each `do_i` is `do` restricted to
    the block's rows (per-sample arrays sliced) and every block intervenes on the same variables.
    Each variable's stream stays open between blocks, so memory is one block's, whatever n.
    (Elementwise mechanisms match for any block sizes; the MLP mechanism's BLAS product matches
    for blocks of >= ~100 rows under one BLAS thread, as `stream.block_rows` guarantees.)"""

    def __init__(self, scm: SCM, ss: np.random.SeedSequence) -> None:
        self.scm, self.streams, self._open = scm, Streams(ss), {}

    def next(self, n: int, do: Intervention | None = None) -> Sample:
        order, replaced = self.scm._plan(do)
        return self.scm._fill(check_n(n), order, replaced, lambda name: _RowNoise(self.streams, name, self._open))


class Units:
    """A fixed set of units: noise is drawn on first use and reused, so every `sample(do)` is paired.

    The units' unintervened sample is kept, and `sample(do)` recomputes only the intervened variables
    and their descendants (the rest cannot change: same noise, same parents), with the same bytes as a
    full pass; an intervention that reorders the graph takes the full pass."""

    def __init__(self, scm: SCM, n: int, ss: np.random.SeedSequence) -> None:
        self.scm, self.n, self.ss = scm, n, ss
        self._cache: dict = {}
        self._base: Sample | None = None

    def sample(self, do: Intervention | None = None) -> Sample:
        scm = self.scm
        if self._base is None:
            self._base = scm._run(self.n, self.ss, None, self._cache)
            self._base.data.flags.writeable = False   # shared by every call without an intervention
        order, replaced = scm._plan(do)
        if not replaced:
            return self._base
        if order != scm.order:
            return scm._run(self.n, self.ss, do, self._cache)
        streams = Streams(self.ss)
        return scm._fill(self.n, order, replaced, lambda name: _VariableNoise(streams, name, self._cache),
                         base=self._base, affected=scm.downstream(replaced))
