"""Model selection as a protocol (DomainBed, Gulrajani & Lopez-Paz 2021): random search over each method's declared
hyper-parameter distribution, the same number of trials for every method, and selection on training data only.

A method declares its search space beside its `Params` dataclass: an instance method
`search_space(self) -> {field: Distribution}` (the registered params are the base, so a form
of a method can declare its own space). Trial 0 is the base (DomainBed's hparams_seed 0 = the
defaults); trial i >= 1 draws every declared field from the stream `rng(seed, "selection",
method, "trial", i)`. Strategies are classes in a registry:

- `training-domain`: every training domain (or the whole dataset when it has no domain labels)
  keeps a random `HOLDOUT` share of its rows for validation; the score is the mean over domains
  of the validation risk (DomainBed's "training-domain validation set").
- `leave-one-domain-out`: for each training domain, train on the others and validate on it;
  the score is the mean over domains (needs >= 3 domains, so that >= 2 remain for training).
- `auto` picks leave-one-domain-out when the data have >= 3 domains, else training-domain.

Risk: mean squared error (real targets) or log loss (binary). Lower is better; the first
trial with the lowest score wins. Everything is a pure function of (method, data, trials, seed).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ..data import Dataset
from ..errors import CausalBenchError
from ..registry import Registry
from ..seeding import check_seed, rng
from .base import Task
from .registry import method_spec

HOLDOUT = 0.2          # DomainBed's holdout_fraction
DEFAULT_TRIALS = 20    # DomainBed's n_hparams


# ---------------------------------------------------------------- distributions


@dataclass(frozen=True)
class LogUniform:
    """10 ** U(log10 low, log10 high): DomainBed's `10**r.uniform(a, b)`."""

    low: float
    high: float

    def sample(self, gen: np.random.Generator) -> float:
        return float(10 ** gen.uniform(math.log10(self.low), math.log10(self.high)))


@dataclass(frozen=True)
class Uniform:
    """U(low, high)."""

    low: float
    high: float

    def sample(self, gen: np.random.Generator) -> float:
        return float(gen.uniform(self.low, self.high))


@dataclass(frozen=True)
class IntLogUniform:
    """int(10 ** U(log10 low, log10 high)): DomainBed's `int(10**r.uniform(a, b))`, clipped to [low, high]."""

    low: int
    high: int

    def sample(self, gen: np.random.Generator) -> int:
        return int(min(self.high, max(self.low, int(10 ** gen.uniform(math.log10(self.low), math.log10(self.high))))))


@dataclass(frozen=True)
class Choice:
    """One of `values`, uniformly."""

    values: tuple[Any, ...]

    def sample(self, gen: np.random.Generator) -> Any:
        value = self.values[int(gen.integers(len(self.values)))]
        return value.item() if isinstance(value, np.generic) else value


Distribution = LogUniform | Uniform | IntLogUniform | Choice


def search_space(params: Any) -> dict[str, Distribution]:
    """The space a Params instance declares (empty when it declares none), checked against its fields."""
    space = dict(params.search_space()) if hasattr(params, "search_space") else {}
    unknown = set(space) - {f.name for f in dataclasses.fields(params)}
    if unknown:
        raise CausalBenchError(f"{type(params).__name__}.search_space names unknown fields {sorted(unknown)}")
    return space


def draw(params: Any, trial: int, method: str, seed: int) -> Any:
    """Trial 0: `params` itself; trial i: every field of its search space drawn from its own stream."""
    space = search_space(params)
    if trial == 0 or not space:
        return params
    gen = rng(seed, "selection", method, "trial", str(trial))
    return dataclasses.replace(params, **{name: dist.sample(gen) for name, dist in sorted(space.items())})


# ---------------------------------------------------------------- strategies


def risk(kind: str, pred: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error (real) or log loss (binary) of predictions."""
    pred, y = np.asarray(pred, dtype=float), np.asarray(y, dtype=float)
    if kind == "binary":
        p = np.clip(pred, 1e-12, 1 - 1e-12)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return float(np.mean((pred - y) ** 2))


@dataclass(frozen=True)
class Split:
    """One train / validation split; the validation risk is averaged over `groups` (domain labels) of its rows."""

    train: Dataset
    validation: Dataset
    name: str


def _groups(data: Dataset) -> np.ndarray:
    return np.zeros(data.n, dtype=np.int64) if data.domain is None else np.asarray(data.domain)


class Strategy:
    """A way to score hyper-parameters on training data: splits, each scored by its validation risk."""

    name: ClassVar[str] = ""

    def splits(self, data: Dataset, seed: int) -> list[Split]:
        raise NotImplementedError


SELECTION_STRATEGIES: Registry[type[Strategy]] = Registry("selection strategy")


@SELECTION_STRATEGIES.register("training-domain", summary="a random 20% of every training domain held out")
class TrainingDomainValidation(Strategy):
    """DomainBed's training-domain validation: a held-out `HOLDOUT` share of every domain (stratified)."""

    name = "training-domain"

    def splits(self, data: Dataset, seed: int) -> list[Split]:
        groups = _groups(data)
        gen = rng(seed, "selection", "split", self.name)
        held = np.zeros(data.n, dtype=bool)
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            held[gen.permutation(rows)[:max(1, int(round(HOLDOUT * len(rows))))]] = True
        if held.all() or not held.any():
            raise CausalBenchError(f"training-domain validation needs more rows, got {data.n}")
        return [Split(data.subset(np.flatnonzero(~held)), data.subset(np.flatnonzero(held)), "holdout")]


@SELECTION_STRATEGIES.register("leave-one-domain-out", summary="train on all but one domain, validate on it")
class LeaveOneDomainOut(Strategy):
    """DomainBed's leave-one-domain-out cross-validation over the training domains (>= 3 of them)."""

    name = "leave-one-domain-out"

    def splits(self, data: Dataset, seed: int) -> list[Split]:
        groups = _groups(data)
        labels = np.unique(groups)
        if data.domain is None or len(labels) < 3:
            raise CausalBenchError(f"leave-one-domain-out needs >= 3 training domains, got {len(labels)}")
        return [Split(data.subset(np.flatnonzero(groups != g)), data.subset(np.flatnonzero(groups == g)),
                      f"domain {g}") for g in labels]


def strategy_for(data: Dataset, name: str = "auto") -> Strategy:
    """The named strategy; "auto" = leave-one-domain-out with >= 3 domains, else training-domain validation."""
    if name == "auto":
        name = "leave-one-domain-out" if data.domain is not None and len(np.unique(data.domain)) >= 3 \
            else "training-domain"
    return SELECTION_STRATEGIES.get(name)()


# ---------------------------------------------------------------- the search


@dataclass(frozen=True)
class Trial:
    """One evaluated configuration: its hyper-parameters, score (mean validation risk) and per-split risks."""

    index: int
    hparams: Mapping[str, Any]
    score: float
    split_risks: tuple[float, ...]
    same_as: int | None = None          # an earlier trial with identical hyper-parameters (not re-trained)

    def to_dict(self) -> dict[str, Any]:
        return {"trial": self.index, "hparams": dict(self.hparams), "score": self.score,
                "split_risks": list(self.split_risks), "same_as": self.same_as}


def _fit(spec: Any, task: Task, params: Any, seed: int, data: Dataset) -> Any:
    method = spec.cls(task, params, seed)
    for stage in (data.by_domain() if spec.protocol == "continual" else [data]):
        method.fit(stage)
    return method


def _score(split: Split, method: Any, kind: str) -> float:
    v = split.validation
    pred = method.predict(v.X)
    groups = _groups(v)
    return float(np.mean([risk(kind, pred[groups == g], v.y[groups == g]) for g in np.unique(groups)]))


def select(method_name: str, task: Task, train_dataset: Dataset, trials: int = DEFAULT_TRIALS, seed: int = 0,
           strategy: str = "auto") -> tuple[Any, list[dict[str, Any]]]:
    """Random search: (the best Params, one JSON-able log entry per trial), a pure function of the arguments.

    Every trial trains the method (with `seed`) on each split's training rows and scores it on the
    validation rows; the engine then trains the returned Params on all of `train_dataset`.
    """
    check_seed(seed)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise CausalBenchError(f"trials must be a positive integer, got {trials!r}")
    spec = method_spec(method_name)
    if spec.protocol == "online":
        raise CausalBenchError(f"{method_name} learns online; model selection needs a training dataset")
    base = spec.cls.Params(**spec.params)
    chosen = strategy_for(train_dataset, strategy)
    splits = chosen.splits(train_dataset, seed)
    done: list[Trial] = []
    for i in range(trials):
        params = draw(base, i, method_name, seed)
        hparams = dataclasses.asdict(params)
        twin = next((t for t in done if t.hparams == hparams), None)
        if twin is not None:
            done.append(Trial(i, hparams, twin.score, twin.split_risks, twin.index))
            continue
        risks = tuple(_score(s, _fit(spec, task, params, seed, s.train), task.target_kind) for s in splits)
        done.append(Trial(i, hparams, float(np.mean(risks)), risks))
    best = min(done, key=lambda t: (t.score if math.isfinite(t.score) else math.inf, t.index))
    log = [{**t.to_dict(), "strategy": chosen.name, "selected": t.index == best.index} for t in done]
    return spec.cls.Params(**best.hparams), log


def selected_hparams(log: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The hyper-parameters a `select` log marks as selected (what a record stores)."""
    return dict(next(t["hparams"] for t in log if t["selected"]))
