"""Hidden environment instances: each env family's parameter space, and the members drawn from it.

An env id (`IceCreamShorts-v1`) names a *family*; its registered meaning is the family's public
development instance, whose data never change. `make(env_id, instance=s)` builds another member
of the family from an instance seed `s`:

- the parameters the family declares in its `InstanceSpace` (coefficients, probabilities of
  CPTs, domain strengths, for RandomSCM the graph itself), each drawn uniformly from a documented
  range (and rounded, so an instance is the same on every machine);
- for families whose observation is plain columns, an anonymised column layout (`ColumnMap`):
  features are named x0..xk, their order is a random permutation of the observed variables,
  and the codes of discrete non-action columns are reversed (k - 1 - x) with probability 1/2,
  so knowing the public SCM does not say which column is which, or what a code means;
- its own random streams: every stream of an instance is keyed by `stream_key`, which contains
  the instance seed, so the instance's data cannot be regenerated without the seed.

Exact ground truth is computed per instance from its own SCM, exactly as for the public one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import CausalBenchError
from ..seeding import rng

INSTANCE_SEED_BOUND = 2**63   # instance seeds are integers in [0, 2^63)


@dataclass(frozen=True)
class Param:
    """One dimension of a family's parameter space: uniform on [low, high], rounded to `digits` decimals
    (an integer when `integer`), with a random sign when `signed`; `public` is the public instance's value."""

    name: str
    public: float
    low: float
    high: float
    signed: bool = False
    integer: bool = False
    digits: int = 3
    description: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low <= self.high):
            raise CausalBenchError(f"parameter {self.name!r}: need finite low <= high, got [{self.low}, {self.high}]")

    def draw(self, gen: np.random.Generator) -> float | int:
        if self.integer:
            value: float | int = int(gen.integers(int(self.low), int(self.high) + 1))
        else:
            value = round(float(gen.uniform(self.low, self.high)), self.digits)
        if self.signed and gen.random() < 0.5:
            value = -value
        return value

    def describe(self) -> str:
        sign = "±" if self.signed else ""
        span = f"{sign}[{self.low:g}, {self.high:g}]" if not self.integer else f"{{{int(self.low)}, ..., {int(self.high)}}}"
        return f"`{self.name}` in {span} (public {self.public:g}){': ' + self.description if self.description else ''}"


@dataclass(frozen=True)
class InstanceSpace:
    """What varies between the members of an env family (declared on the env class as `instance_space`).

    `columns`: anonymise and permute the feature columns (for observations without spatial structure;
    an env that renders its own observation sets False and randomises its rendering instead).
    """

    params: tuple[Param, ...] = ()
    columns: bool = True
    notes: str = ""

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise CausalBenchError(f"instance space has duplicate parameters {names}")

    def public(self) -> dict[str, Any]:
        """The public instance's parameter values."""
        return {p.name: p.public for p in self.params}

    def draw(self, seed: int, family: str) -> dict[str, Any]:
        """The parameters of instance `seed` of `family` (each from its own stream: adding a parameter
        to a family does not change the others' draws)."""
        seed = check_instance_seed(seed)
        return {p.name: p.draw(rng(seed, family, "instance", "param", p.name)) for p in self.params}

    def describe(self) -> list[str]:
        """One line per randomised aspect, for docs and `describe`."""
        lines = [p.describe() for p in self.params]
        if self.columns:
            lines.append("feature columns anonymised (x0, x1, ...) and permuted; codes of discrete non-action "
                         "columns reversed with probability 1/2")
        if self.notes:
            lines.append(self.notes)
        return lines


@dataclass(frozen=True)
class ColumnMap:
    """An instance's observation layout: feature column i shows observed variable `order[i]`, as c - x
    when `flip[i] = c > 0` (reversed codes of a discrete variable with c + 1 states), else as is."""

    order: tuple[int, ...]
    flip: tuple[int, ...]
    names: tuple[str, ...]

    def apply(self, V: np.ndarray) -> np.ndarray:
        """Rows over the observed variables (declaration order) -> feature rows."""
        X = np.asarray(V, dtype=float)[..., list(self.order)]
        flip = np.asarray(self.flip, dtype=float)
        return np.where(flip > 0, flip - X, X) if flip.any() else X

    def column_of(self, index: int) -> int:
        """The feature column showing observed variable number `index`."""
        return self.order.index(index)


@dataclass(frozen=True)
class Instance:
    """One member of an env family: its seed (None = the public instance) and parameter values."""

    seed: int | None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        return self.seed is None


def check_instance_seed(seed: Any) -> int:
    """An instance seed: a non-negative integer below 2^63 (one-line error otherwise)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= int(seed) < INSTANCE_SEED_BOUND:
        raise CausalBenchError(f"instance must be an integer in [0, 2^63), got {seed!r}")
    return int(seed)


def draw_instance(space: InstanceSpace, family: str, seed: int | None) -> Instance:
    """The public instance (seed None) or instance `seed` of `family`."""
    if seed is None:
        return Instance(None, space.public())
    seed = check_instance_seed(seed)
    return Instance(seed, space.draw(seed, family))


def column_map(seed: int, family: str, cardinalities: Sequence[int | None], fixed: Sequence[int] = ()) -> ColumnMap:
    """A random anonymised layout of observed variables with these cardinalities (None = real-valued);
    variables in `fixed` (e.g. the action) keep their codes."""
    gen = rng(check_instance_seed(seed), family, "instance", "columns")
    order = tuple(int(i) for i in gen.permutation(len(cardinalities)))
    reverse = gen.random(len(cardinalities)) < 0.5
    flip = tuple(int(cardinalities[j] - 1) if cardinalities[j] and reverse[i] and j not in fixed else 0
                 for i, j in enumerate(order))
    width = len(str(len(cardinalities) - 1))
    return ColumnMap(order, flip, tuple(f"x{i:0{width}d}" for i in range(len(order))))


def stream_key(family: str, instance: Instance) -> str:
    """The name every random stream of an env instance is keyed by: the env id for the public instance
    (its data never change), the id and the secret seed for any other."""
    return family if instance.public else f"{family}#instance={instance.seed}"


def instance_table(spaces: Mapping[str, InstanceSpace]) -> list[str]:
    """Markdown lines describing what each family randomises (for the leaderboard's documentation)."""
    out = []
    for family, space in spaces.items():
        out.append(f"- `{family}`: " + "; ".join(space.describe() or ["nothing (only its random streams)"]) + ".")
    return out
