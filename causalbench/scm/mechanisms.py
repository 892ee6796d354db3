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
from dataclasses import dataclass, fields, replace
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
    """Reusable length-n work buffers (three float, one mask), allocated on first use, so mechanisms
    allocate nothing per node and a tiny sample pays for no buffer it does not touch."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._buffers: dict[str, np.ndarray] = {}
        self.codes: dict[int, np.ndarray] = {}  # id(column) -> its discrete states as small ints (CPT parents)

    def _buffer(self, name: str, dtype: Any = float) -> np.ndarray:
        buf = self._buffers.get(name)
        if buf is None:
            buf = self._buffers[name] = np.empty(self.n, dtype=dtype)
        return buf

    @property
    def a(self) -> np.ndarray:
        return self._buffer("a")

    @property
    def b(self) -> np.ndarray:
        return self._buffer("b")

    @property
    def c(self) -> np.ndarray:
        return self._buffer("c")

    @property
    def hit(self) -> np.ndarray:
        return self._buffer("hit", bool)

    def index(self, dtype: Any) -> np.ndarray:
        """A parent-configuration index buffer of the given integer type."""
        return self._buffer(f"index:{np.dtype(dtype).str}", dtype)

    def code(self, column: np.ndarray, card: int = 2) -> np.ndarray:
        """A discrete column's states as uint8 (int32 beyond 256 states), computed once per column and
        shared by its children."""
        key = id(column) if card <= 256 else -id(column)
        codes = self.codes.get(key)
        if codes is None:
            codes = self.codes[key] = column.astype(np.uint8 if card <= 256 else np.int32)
        return codes


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


@dataclass(frozen=True, eq=False)
class Masked(Mechanism):
    """Per-sample intervention: where `mask` is true, X comes from `replacement` instead of `base`.

    The replacement draws its noise from the variable's "do" sub-stream, so the
    base mechanism's noise (and every non-masked unit) is unchanged. Runtime only:
    it carries a mask array and is not part of the serialisable vocabulary.
    """

    type: ClassVar[str] = "masked"
    base: Any = None          # the variable's own mechanism
    replacement: Any = None   # the mechanism of the masked units
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
