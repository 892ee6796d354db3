"""Distributions without a regression: roots (normal, uniform, Bernoulli, categorical) and CPTs.

Each samples by transforming its own standard noise (normal or uniform) in place, as
`mechanisms.Mechanism` describes; CPTs use the inverse CDF of their column per unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from ..errors import SCMError
from .mechanisms import (NORMAL, UNIFORM, Mechanism, NoiseSource, Scratch, ValueMap, _check_parents_real_ok,
                         _check_prob, _register)


@_register
@dataclass(frozen=True)
class Normal(Mechanism):
    """X := mean + std * N(0, 1)."""

    type: ClassVar[str] = "normal"
    mean: float = 0.0
    std: float = 1.0

    @property
    def noise(self) -> str | None:
        return NORMAL if self.std != 0 else None

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        if self.std == 0:
            out.fill(self.mean)
            return
        if self.std != 1.0:
            out *= self.std
        if self.mean != 0.0:
            out += self.mean

    def linear_form(self) -> tuple[float, Mapping[str, float], float]:
        return float(self.mean), {}, float(self.std)

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        if not (self.std >= 0 and math.isfinite(self.std) and math.isfinite(self.mean)):
            raise SCMError(f"variable {name!r}: normal needs a finite mean and std >= 0, got mean={self.mean}, std={self.std}")


@_register
@dataclass(frozen=True)
class Uniform(Mechanism):
    """X := low + (high - low) * U(0, 1)."""

    type: ClassVar[str] = "uniform"
    low: float = 0.0
    high: float = 1.0

    @property
    def noise(self) -> str | None:
        return UNIFORM

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        out *= self.high - self.low
        out += self.low

    def mean_form(self) -> tuple[float, Mapping[str, float]]:
        return 0.5 * (self.low + self.high), {}

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.high > self.low):
            raise SCMError(f"variable {name!r}: uniform needs finite low < high, got [{self.low}, {self.high}]")


@_register
@dataclass(frozen=True)
class Bernoulli(Mechanism):
    """X := 1[U < p]."""

    type: ClassVar[str] = "bernoulli"
    kind: ClassVar[str] = "binary"
    p: float = 0.5

    @property
    def noise(self) -> str | None:
        return UNIFORM

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        np.less(out, self.p, out=out)

    def pmf(self, value: np.ndarray, values: ValueMap) -> np.ndarray:
        value = np.asarray(value, dtype=float)
        return np.where(value == 1, self.p, 1.0 - self.p)

    def mean_form(self) -> tuple[float, Mapping[str, float]]:
        return float(self.p), {}

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        _check_prob(name, self.p)


@_register
@dataclass(frozen=True)
class Categorical(Mechanism):
    """X := k with probability probs[k] (inverse CDF of U)."""

    type: ClassVar[str] = "categorical"
    kind: ClassVar[str] = "categorical"
    probs: tuple[float, ...] = (0.5, 0.5)

    def __post_init__(self) -> None:
        object.__setattr__(self, "probs", tuple(float(p) for p in self.probs))

    @property
    def noise(self) -> str | None:
        return UNIFORM

    @property
    def cardinality(self) -> int:
        return len(self.probs)

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        u = scratch.a
        np.copyto(u, out)
        out.fill(0.0)
        for c in np.cumsum(self.probs)[:-1]:
            out += u >= c

    def pmf(self, value: np.ndarray, values: ValueMap) -> np.ndarray:
        return np.asarray(self.probs)[np.asarray(value, dtype=np.intp)]

    def mean_form(self) -> tuple[float, Mapping[str, float]]:
        return float(np.dot(np.arange(len(self.probs)), self.probs)), {}

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        p = np.asarray(self.probs)
        if p.size < 2 or np.any(p < 0) or not np.isclose(p.sum(), 1.0, atol=1e-9):
            raise SCMError(f"variable {name!r}: categorical probs must be >= 2 non-negative numbers summing to 1, got {list(self.probs)}")


@_register
@dataclass(frozen=True, eq=False)
class CPT(Mechanism):
    """Discrete X ~ table[:, column(parent states)]: a pgmpy-compatible conditional probability table.

    `table` has shape (cardinality, prod(parent_cards)); columns enumerate parent
    states with the first parent varying slowest, exactly as pgmpy's TabularCPD.
    """

    type: ClassVar[str] = "cpt"
    evidence: tuple[str, ...] = ()
    table: Any = ((0.5,), (0.5,))
    evidence_card: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", tuple(self.evidence))
        object.__setattr__(self, "evidence_card", tuple(int(c) for c in self.evidence_card))
        table = np.array(self.table, dtype=float)
        if table.ndim == 1:
            table = table[:, None]
        table.setflags(write=False)
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "_cum", np.cumsum(table, axis=0)[:-1].copy() if table.ndim == 2 else table)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "binary" if self.table.shape[0] == 2 else "categorical"

    @property
    def parents(self) -> tuple[str, ...]:
        return self.evidence

    @property
    def noise(self) -> str | None:
        return UNIFORM

    @property
    def cardinality(self) -> int:
        return int(self.table.shape[0])

    @property
    def _index_dtype(self) -> Any:
        """The smallest integer type that holds every parent-configuration index."""
        size = self.table.shape[1]
        return np.uint8 if size <= 256 else np.uint16 if size <= 65536 else np.intp

    def _column(self, values: ValueMap, scratch: Scratch | None = None) -> np.ndarray | int:
        """Flat parent-configuration index per unit (first parent slowest, as pgmpy), as a small int array."""
        if not self.evidence:
            return 0
        if scratch is None:
            scratch = Scratch(len(values[self.evidence[0]]))
        cards = self.evidence_card
        first = scratch.code(values[self.evidence[0]], cards[0])
        if len(self.evidence) == 1:
            return first
        dtype = self._index_dtype
        out = scratch.index(dtype)
        np.multiply(first, cards[1], out=out, dtype=dtype)
        for i, (parent, card) in enumerate(zip(self.evidence[1:], cards[1:]), 1):
            if i > 1:
                out *= card
            np.add(out, scratch.code(values[parent], card), out=out, dtype=dtype)
        return out

    def sample_into(self, out: np.ndarray, values: ValueMap, scratch: Scratch, noise: NoiseSource,
                    sub: str = "") -> None:
        """Inverse CDF: the state is the number of cumulative thresholds the uniform noise reaches.

        Thresholds are gathered per unit by fancy indexing with a small-int configuration index
        (no int32 -> intp conversion pass); comparisons are exact, so states never depend on the
        evaluation strategy.
        """
        cum = self._cum
        col = self._column(values, scratch) if self.evidence else None
        if self.cardinality == 2:  # noise straight into the output column, one comparison
            noise.fill(out, UNIFORM, sub)
            np.greater_equal(out, cum[0, 0] if col is None else cum[0][col], out=out)
            return
        u, hit = scratch.c, scratch.hit
        noise.fill(u, UNIFORM, sub)
        for k in range(self.cardinality - 1):
            thr = cum[k, 0] if col is None else cum[k][col]
            if k == 0:
                np.greater_equal(u, thr, out=out)
            else:
                np.greater_equal(u, thr, out=hit)
                out += hit

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        """`out` holds uniform noise (as for any mechanism); turns it into states."""
        np.copyto(scratch.c, out)

        class _Given(NoiseSource):
            def fill(self, target: np.ndarray, kind: str, sub: str = "") -> None:
                np.copyto(target, scratch.c)

        self.sample_into(out, values, scratch, _Given())

    def pmf(self, value: np.ndarray, values: ValueMap) -> np.ndarray:
        return self.table[np.asarray(value, dtype=np.intp), self._column(values)]

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        _check_parents_real_ok(name, self, cards)
        if len(self.evidence_card) != len(self.evidence):
            raise SCMError(f"variable {name!r}: {len(self.evidence)} evidence variables but {len(self.evidence_card)} evidence cards")
        for parent, card in zip(self.evidence, self.evidence_card):
            if cards[parent] != card:
                raise SCMError(f"variable {name!r}: CPT expects parent {parent!r} with {card} states, "
                               f"but it has {cards[parent] or 'real'} states")
        expected = (self.table.shape[0], int(np.prod(self.evidence_card, dtype=int)))
        if self.table.ndim != 2 or self.table.shape != expected or self.table.shape[0] < 2:
            raise SCMError(f"variable {name!r}: CPT table has shape {self.table.shape}, expected {expected} "
                           f"(states x parent configurations)")
        if np.any(self.table < 0) or not np.allclose(self.table.sum(axis=0), 1.0, atol=1e-6):
            raise SCMError(f"variable {name!r}: CPT columns must be non-negative and sum to 1")
