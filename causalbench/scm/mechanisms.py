"""The closed, serialisable vocabulary of structural mechanisms.

A mechanism maps (parent values, exogenous noise) -> value for one variable.
Sampling is column-wise and in place: the engine draws the variable's noise
straight into its output column (standard normal or uniform(0, 1), as the
mechanism's `noise` says) and `apply` transforms that column with a handful of
numpy ops. No per-sample Python, no per-node matmul for linear terms.

Discrete values (binary, categorical) are stored as float codes 0..K-1 so a
sample is one float64 matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np

from ..errors import SCMError
from ..registry import Registry

NORMAL = "normal"
UNIFORM = "uniform"
KINDS = ("real", "binary", "categorical")

MECHANISMS: Registry[type["Mechanism"]] = Registry("mechanism")
ValueMap = Mapping[str, np.ndarray]


class NoiseSource:
    """Protocol: fills a column with this variable's exogenous noise ("normal" or "uniform").

    `sub` names an independent sub-stream of the same variable (used by per-sample
    interventions), so extra draws never disturb the variable's main noise.
    """

    def fill(self, out: np.ndarray, kind: str, sub: str = "") -> None:  # pragma: no cover - protocol
        raise NotImplementedError


class Scratch:
    """Reusable length-n work buffers (three float, one index, one mask), so mechanisms allocate nothing per node."""

    def __init__(self, n: int) -> None:
        self.a = np.empty(n)
        self.b = np.empty(n)
        self.c = np.empty(n)
        self.index = np.empty(n, dtype=np.int32)
        self.hit = np.empty(n, dtype=bool)
        self.codes: dict[int, np.ndarray] = {}  # id(column) -> its discrete states as int8 (CPT parents)

    def code(self, column: np.ndarray) -> np.ndarray:
        """A discrete column's states as int8, computed once per column and shared by its children."""
        key = id(column)
        if key not in self.codes:
            self.codes[key] = column.astype(np.int8)
        return self.codes[key]


def _frozen_weights(weights: Mapping[str, float] | None) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in (weights or {}).items()})


def _frozen_interactions(terms: Sequence[tuple[float, Sequence[str]]]) -> tuple[tuple[float, tuple[str, ...]], ...]:
    return tuple((float(c), tuple(str(p) for p in ps)) for c, ps in terms or ())


def _linear_into(buf: np.ndarray, tmp: np.ndarray, intercept: float, weights: Mapping[str, float],
                 interactions: tuple[tuple[float, tuple[str, ...]], ...], values: ValueMap) -> None:
    """buf <- intercept + sum_j w_j x_j + sum_k c_k prod(x in term_k), using tmp as work space."""
    buf.fill(intercept)
    for parent, w in weights.items():
        np.multiply(values[parent], w, out=tmp)
        buf += tmp
    for coef, names in interactions:
        np.multiply(values[names[0]], coef, out=tmp)
        for other in names[1:]:
            tmp *= values[other]
        buf += tmp


def _sigmoid_inplace(x: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function, in place: sigmoid(x) = (1 + tanh(x/2)) / 2."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return _sigmoid_inplace(np.array(x, dtype=float, copy=True))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr  # lazy: only exact inference needs it

    return ndtr(x)


# name -> in-place elementwise function; "identity" keeps additive models linear.
NONLINEARITIES: dict[str, Callable[[np.ndarray], Any]] = {
    "identity": lambda x: x,
    "tanh": lambda x: np.tanh(x, out=x),
    "sigmoid": _sigmoid_inplace,
    "relu": lambda x: np.maximum(x, 0.0, out=x),
    "sin": lambda x: np.sin(x, out=x),
    "square": lambda x: np.square(x, out=x),
    "abs": lambda x: np.abs(x, out=x),
}


@dataclass(frozen=True)
class Mechanism:
    """Base class: one variable's structural equation (parents + noise -> value)."""

    type: ClassVar[str] = "mechanism"
    kind: ClassVar[str] = "real"

    @property
    def noise(self) -> str | None:
        """Which standard noise the engine draws into the output column first (or None)."""
        return None

    @property
    def parents(self) -> tuple[str, ...]:
        return ()

    @property
    def cardinality(self) -> int | None:
        """Number of states for discrete outputs, None for real outputs."""
        return 2 if self.kind == "binary" else None

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        """Transform the noise already in `out` into the variable's value, in place."""
        raise NotImplementedError

    def sample_into(self, out: np.ndarray, values: ValueMap, scratch: Scratch, noise: NoiseSource,
                    sub: str = "") -> None:
        """Draw this variable's noise from its own stream, then apply the mechanism."""
        if self.noise is not None:
            noise.fill(out, self.noise, sub)
        self.apply(out, values, scratch)

    def pmf(self, value: np.ndarray, values: ValueMap) -> np.ndarray:
        """P(X = value | parents) for discrete mechanisms (exact inference)."""
        raise SCMError(f"mechanism {self.type!r} has no probability mass function (not discrete)")

    def linear_form(self) -> tuple[float, Mapping[str, float], float] | None:
        """(intercept, weights, noise sd) when the mechanism is linear-Gaussian, else None."""
        return None

    def mean_form(self) -> tuple[float, Mapping[str, float]] | None:
        """(intercept, weights) with E[X | pa] = intercept + sum w pa, when the mean is linear, else None."""
        form = self.linear_form()
        return None if form is None else (form[0], form[1])

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        """Validate against parent cardinalities (None = real); raise SCMError with one line."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Mapping):
                v = dict(v)
            elif isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, tuple):
                v = _plain(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Mechanism":
        data = dict(data)
        kind = data.pop("type", None)
        if kind is None:
            raise SCMError("mechanism dict has no 'type' field")
        klass = MECHANISMS.get(kind)
        try:
            return klass(**data)
        except TypeError as err:
            raise SCMError(f"bad fields for mechanism {kind!r}: {err}") from None

    def soft(self, **changes: Any) -> "Mechanism":
        """A copy with some parameters changed (a soft intervention)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise SCMError(f"mechanism {self.type!r} has no parameter(s) {', '.join(unknown)}; has {', '.join(sorted(known))}")
        return replace(self, **changes)


def _plain(v: Any) -> Any:
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def _register(cls: type[Mechanism]) -> type[Mechanism]:
    MECHANISMS.register(cls.type, cls)
    return cls


def _check_parents_real_ok(name: str, mech: Mechanism, cards: Mapping[str, int | None]) -> None:
    for p in mech.parents:
        if p not in cards:
            raise SCMError(f"variable {name!r}: unknown parent {p!r}")


def _check_prob(name: str, p: float) -> None:
    if not (0.0 <= p <= 1.0) or math.isnan(p):
        raise SCMError(f"variable {name!r}: probability {p} is outside [0, 1]")


# ---------------------------------------------------------------- roots


@_register
@dataclass(frozen=True)
class Constant(Mechanism):
    """X := value (a hard intervention); `value` may be a scalar or a length-n array."""

    type: ClassVar[str] = "constant"
    value: Any = 0.0
    value_kind: str = "real"
    states: int | None = None

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.value_kind

    @property
    def cardinality(self) -> int | None:
        return self.states if self.value_kind == "categorical" else (2 if self.value_kind == "binary" else None)

    def __post_init__(self) -> None:
        v = self.value
        if isinstance(v, (list, tuple, np.ndarray)):
            arr = np.asarray(v, dtype=float)
            if arr.ndim != 1:
                raise SCMError(f"a per-sample do() value must be 1-d, got shape {arr.shape}")
            object.__setattr__(self, "value", arr)
        else:
            try:
                object.__setattr__(self, "value", float(v))
            except (TypeError, ValueError):
                raise SCMError(f"do() value must be a number or 1-d array, got {v!r}") from None

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        if isinstance(self.value, np.ndarray) and self.value.shape[0] != out.shape[0]:
            raise SCMError(f"per-sample do() value has length {self.value.shape[0]}, expected n={out.shape[0]}")
        out[...] = self.value

    def pmf(self, value: np.ndarray, values: ValueMap) -> np.ndarray:
        return (np.asarray(value) == self.value).astype(float)

    def linear_form(self) -> tuple[float, Mapping[str, float], float] | None:
        if isinstance(self.value, np.ndarray):
            return None
        return float(self.value), {}, 0.0

    def values_ok(self, kind: str, card: int | None) -> bool:
        v = np.atleast_1d(self.value)
        if not np.all(np.isfinite(v)):
            return False
        if kind == "real":
            return True
        return bool(np.all((v == np.round(v)) & (v >= 0) & (v < (card or 2))))


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


# ---------------------------------------------------------------- with parents


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
    """X := w2 . tanh(W1 pa + b1) + b2 + std * N(0, 1): a small fixed random network."""

    type: ClassVar[str] = "mlp"
    inputs: tuple[str, ...] = ()
    W1: Any = ()
    b1: Any = ()
    w2: Any = ()
    b2: float = 0.0
    std: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
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
        return self.inputs

    @property
    def noise(self) -> str | None:
        return NORMAL if self.std != 0 else None

    def apply(self, out: np.ndarray, values: ValueMap, scratch: Scratch) -> None:
        X = np.column_stack([values[p] for p in self.inputs]) if self.inputs else np.zeros((out.shape[0], 0))
        H = np.tanh(X @ self.W1.T + self.b1)
        z = H @ self.w2 + self.b2
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

    def _column(self, values: ValueMap, scratch: Scratch | None = None) -> np.ndarray | int:
        """Flat parent-configuration index per unit (first parent slowest, as pgmpy), as int32."""
        if not self.evidence:
            return 0
        if scratch is None:
            scratch = Scratch(len(values[self.evidence[0]]))
        out = scratch.index
        np.copyto(out, scratch.code(values[self.evidence[0]]))
        for parent, card in zip(self.evidence[1:], self.evidence_card[1:]):
            out *= card
            out += scratch.code(values[parent])
        return out

    def sample_into(self, out: np.ndarray, values: ValueMap, scratch: Scratch, noise: NoiseSource,
                    sub: str = "") -> None:
        """Inverse CDF: the state is the number of cumulative thresholds the uniform noise reaches."""
        cum = self._cum
        if self.cardinality == 2:  # noise straight into the output column, one comparison
            noise.fill(out, UNIFORM, sub)
            if not self.evidence:
                np.greater_equal(out, cum[0, 0], out=out)
                return
            np.take(cum[0], self._column(values, scratch), out=scratch.a)
            np.greater_equal(out, scratch.a, out=out)
            return
        u, thr, hit = scratch.c, scratch.a, scratch.hit
        noise.fill(u, UNIFORM, sub)
        col = self._column(values, scratch) if self.evidence else None
        for k in range(self.cardinality - 1):
            if col is None:
                thr_k: Any = cum[k, 0]
            else:
                np.take(cum[k], col, out=thr)
                thr_k = thr
            if k == 0:
                np.greater_equal(u, thr_k, out=out)
            else:
                np.greater_equal(u, thr_k, out=hit)
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


@dataclass(frozen=True, eq=False)
class Masked(Mechanism):
    """Per-sample intervention: where `mask` is true, X comes from `replacement` instead of `base`.

    The replacement draws its noise from the variable's "do" sub-stream, so the
    base mechanism's noise (and every non-masked unit) is unchanged. Runtime only:
    it carries a mask array and is not part of the serialisable vocabulary.
    """

    type: ClassVar[str] = "masked"
    base: Mechanism = field(default_factory=Normal)
    replacement: Mechanism = field(default_factory=Normal)
    mask: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "mask", np.asarray(self.mask, dtype=bool))

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.base.kind

    @property
    def cardinality(self) -> int | None:
        return self.base.cardinality

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.base.parents + self.replacement.parents))

    def sample_into(self, out: np.ndarray, values: ValueMap, scratch: Scratch, noise: NoiseSource,
                    sub: str = "") -> None:
        if self.mask.shape != out.shape:
            raise SCMError(f"intervention mask has shape {self.mask.shape}, expected ({out.shape[0]},)")
        self.base.sample_into(out, values, scratch, noise, sub)
        alt = np.empty_like(out)
        self.replacement.sample_into(alt, values, scratch, noise, sub + "do")
        np.copyto(out, alt, where=self.mask)

    def check(self, name: str, cards: Mapping[str, int | None]) -> None:
        self.base.check(name, cards)
        self.replacement.check(name, cards)

    def to_dict(self) -> dict[str, Any]:
        raise SCMError("a per-sample (masked) intervention is runtime-only and cannot be serialised")
