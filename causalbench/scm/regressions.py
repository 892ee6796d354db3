"""Mechanisms that regress a variable on its parents: linear, additive, logistic, probit, MLP.

The linear predictor is accumulated column by column in place (no per-node matmul), so a
linear-Gaussian SCM samples at close to the cost of drawing its noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ..errors import SCMError
from .mechanisms import (NONLINEARITIES, NORMAL, UNIFORM, Mechanism, Scratch, ValueMap, _check_parents_real_ok,
                         _frozen_interactions, _frozen_weights, _linear_into, _normal_cdf, _register,
                         _sigmoid, _sigmoid_inplace)


@dataclass(frozen=True)
class _LinearPredictor(Mechanism):
    """Shared parts of mechanisms driven by intercept + sum_j w_j x_j (+ interaction terms)."""

    weights: Mapping[str, float] = field(default_factory=dict)
    intercept: float = 0.0
    interactions: tuple[tuple[float, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen_weights(self.weights))
        object.__setattr__(self, "interactions", _frozen_interactions(self.interactions))

    @property
    def parents(self) -> tuple[str, ...]:
        names = list(self.weights)
        for _, ps in self.interactions:
            names.extend(p for p in ps if p not in names)
        return tuple(dict.fromkeys(names))

    def predictor(self, values: ValueMap, scratch: Scratch) -> np.ndarray:
        """The linear predictor, written into scratch.b."""
        _linear_into(scratch.b, scratch.a, self.intercept, self.weights, self.interactions, values)
        return scratch.b

    def predictor_array(self, values: ValueMap) -> np.ndarray:
        """The linear predictor as a fresh array (exact inference, analysis)."""
        n = len(next(iter(values.values()))) if values else 1
        s = Scratch(n)
        return self.predictor(values, s).copy()

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        _check_parents_real_ok(name, self, cards)
        for v in (*self.weights.values(), self.intercept, *(c for c, _ in self.interactions)):
            if not math.isfinite(v):
                raise SCMError(f"variable {name!r}: non-finite coefficient {v}")
        for _, ps in self.interactions:
            if not ps:
                raise SCMError(f"variable {name!r}: empty interaction term")


@_register
@dataclass(frozen=True)
class Linear(_LinearPredictor):
    """X := intercept + sum_j w_j pa_j (+ interactions) + std * N(0, 1)."""

    type: ClassVar[str] = "linear"
    std: float = 1.0

    @property
    def noise(self) -> str | None:
        return NORMAL if self.std != 0 else None

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        if self.std == 0:
            _linear_into(out, scratch.a, self.intercept, self.weights, self.interactions, values)
            return
        if self.std != 1.0:
            out *= self.std
        if self.intercept != 0.0:
            out += self.intercept
        tmp = scratch.a
        for parent, w in self.weights.items():
            np.multiply(values[parent], w, out=tmp)
            out += tmp
        for coef, names in self.interactions:
            np.multiply(values[names[0]], coef, out=tmp)
            for other in names[1:]:
                tmp *= values[other]
            out += tmp

    def linear_form(self) -> tuple[float, Mapping[str, float], float] | None:
        if self.interactions:
            return None
        return float(self.intercept), dict(self.weights), float(self.std)

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        super().check(name, cards)
        if not (self.std >= 0 and math.isfinite(self.std)):
            raise SCMError(f"variable {name!r}: std must be finite and >= 0, got {self.std}")


@_register
@dataclass(frozen=True)
class Additive(_LinearPredictor):
    """X := scale * fn(intercept + sum_j w_j pa_j) + offset + std * N(0, 1): an additive nonlinear model."""

    type: ClassVar[str] = "additive"
    fn: str = "tanh"
    scale: float = 1.0
    offset: float = 0.0
    std: float = 1.0

    @property
    def noise(self) -> str | None:
        return NORMAL if self.std != 0 else None

    def mean_form(self) -> tuple[float, Mapping[str, float]] | None:
        if self.fn != "identity" or self.interactions:
            return None
        return self.scale * self.intercept + self.offset, {k: self.scale * w for k, w in self.weights.items()}

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        z = self.predictor(values, scratch)
        NONLINEARITIES[self.fn](z)
        z *= self.scale
        z += self.offset
        if self.std == 0:
            np.copyto(out, z)
        else:
            out *= self.std
            out += z

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        super().check(name, cards)
        if self.fn not in NONLINEARITIES:
            raise SCMError(f"variable {name!r}: unknown nonlinearity {self.fn!r}; known: {', '.join(NONLINEARITIES)}")
        if not (self.std >= 0 and math.isfinite(self.std)):
            raise SCMError(f"variable {name!r}: std must be finite and >= 0, got {self.std}")


@_register
@dataclass(frozen=True)
class Logistic(_LinearPredictor):
    """Binary X := 1[U < sigmoid(intercept + sum_j w_j pa_j)]."""

    type: ClassVar[str] = "logistic"
    kind: ClassVar[str] = "binary"

    @property
    def noise(self) -> str | None:
        return UNIFORM

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        p = _sigmoid_inplace(self.predictor(values, scratch))
        np.less(out, p, out=out)

    def pmf(self, value: np.ndarray, values: ValueMap) -> np.ndarray:
        p1 = _sigmoid(self.predictor_array(values))
        return np.where(np.asarray(value) == 1, p1, 1.0 - p1)


@_register
@dataclass(frozen=True)
class Threshold(_LinearPredictor):
    """Binary X := 1[intercept + sum_j w_j pa_j + std * N(0, 1) > threshold]."""

    type: ClassVar[str] = "threshold"
    kind: ClassVar[str] = "binary"
    threshold: float = 0.0
    std: float = 1.0

    @property
    def noise(self) -> str | None:
        return NORMAL if self.std != 0 else None

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        z = self.predictor(values, scratch)
        if self.std == 0:
            np.greater(z, self.threshold, out=out)
            return
        out *= self.std
        out += z
        np.greater(out, self.threshold, out=out)

    def pmf(self, value: np.ndarray, values: ValueMap) -> np.ndarray:
        z = self.predictor_array(values) - self.threshold
        p1 = (z > 0).astype(float) if self.std == 0 else _normal_cdf(z / self.std)
        return np.where(np.asarray(value) == 1, p1, 1.0 - p1)

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        super().check(name, cards)
        if not (self.std >= 0 and math.isfinite(self.std)):
            raise SCMError(f"variable {name!r}: std must be finite and >= 0, got {self.std}")


@_register
@dataclass(frozen=True, eq=False)
class MLP(Mechanism):
    """X := w2 . tanh(W1 pa + b1) + b2 + sum_j c_j z_j + std * N(0, 1): a small fixed random network,
    with an optional skip term linear in some parents z (`linear`, name -> coefficient)."""

    type: ClassVar[str] = "mlp"
    inputs: tuple[str, ...] = ()
    W1: Any = ()
    b1: Any = ()
    w2: Any = ()
    b2: float = 0.0
    std: float = 1.0
    linear: Any = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        pairs = self.linear.items() if isinstance(self.linear, Mapping) else self.linear
        object.__setattr__(self, "linear", tuple((str(k), float(v)) for k, v in pairs))
        for name in ("W1", "b1", "w2"):
            arr = np.array(getattr(self, name), dtype=float)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @classmethod
    def random(cls, inputs: Sequence[str], hidden: int = 8, seed: int = 0, std: float = 1.0,
               gain: float = 1.0) -> "MLP":
        """Fixed random weights from `seed` (Glorot-style scale), so the mechanism is reproducible."""
        rng = np.random.default_rng(seed)
        p = len(inputs)
        W1 = rng.normal(0, gain / math.sqrt(max(p, 1)), size=(hidden, p))
        b1 = rng.normal(0, 0.5, size=hidden)
        w2 = rng.normal(0, 1 / math.sqrt(hidden), size=hidden)
        return cls(tuple(inputs), W1, b1, w2, 0.0, std)

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.inputs + tuple(k for k, _ in self.linear)))

    @property
    def noise(self) -> str | None:
        return NORMAL if self.std != 0 else None

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        X = np.column_stack([values[p] for p in self.inputs]) if self.inputs else np.zeros((out.shape[0], 0))
        H = np.tanh(X @ self.W1.T + self.b1)
        z = H @ self.w2 + self.b2
        for parent, c in self.linear:
            z += c * values[parent]
        if self.std == 0:
            np.copyto(out, z)
        else:
            out *= self.std
            out += z

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        _check_parents_real_ok(name, self, cards)
        h, p = self.W1.shape if self.W1.ndim == 2 else (-1, -1)
        if p != len(self.inputs) or self.b1.shape != (h,) or self.w2.shape != (h,):
            raise SCMError(f"variable {name!r}: MLP weight shapes W1{self.W1.shape}, b1{self.b1.shape}, "
                           f"w2{self.w2.shape} do not fit {len(self.inputs)} inputs")
