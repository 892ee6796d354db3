"""The method protocol: what a baseline (or your method) implements, and what the harness gives it.

numpy at the interface (torch stays inside methods). scikit-learn hygiene:
`__init__` only stores its arguments, `fit` does the work and returns self,
learned state ends in `_`. The harness, not the method, owns the data, the
seeds and the protocol:

- static: one `fit(train)` on the track's dataset;
- continual: `fit` once per training domain, in order, each call seeing only
  that stage's data (state carries over); evaluated after every stage;
- online: `interact(vector_env, budget)` instead of a dataset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np

from .data import Dataset
from .errors import CausalBenchError
from .registry import Registry

TRACKS = ("observational", "observational+domains", "interventional", "online")
PROTOCOLS = ("static", "continual", "online")
# The dataset kind each static/continual track trains on.
TRACK_DATA = {"observational": "observational", "observational+domains": "domains", "interventional": "interventional"}


@dataclass(frozen=True)
class Task:
    """What a method is told about the problem. `roles` is given only to privileged methods (the oracle)."""

    env_id: str
    track: str
    feature_names: tuple[str, ...]
    target: str
    target_kind: str
    n_domains: int = 1
    variables: tuple[str, ...] = ()
    roles: Mapping[str, str] | None = None
    action: str | None = None
    action_values: tuple[float, ...] = ()
    context: tuple[str, ...] = ()
    episodic: bool = False   # a multi-step gymnasium task exists (its observation = the feature row)

    @property
    def d(self) -> int:
        return len(self.feature_names)

    def causal_columns(self) -> list[int]:
        """Feature columns whose role is causal or action (privileged; column-level roles only)."""
        if self.roles is None:
            raise CausalBenchError("roles are privileged information this method was not given")
        if tuple(self.variables) != tuple(self.feature_names):
            raise CausalBenchError(f"{self.env_id}: roles refer to latent variables, not feature columns")
        return [j for j, f in enumerate(self.feature_names) if self.roles.get(f) in ("causal", "action")]

    def assemble(self, context: np.ndarray, action_values: np.ndarray) -> np.ndarray:
        """Feature rows from context rows and action values (decision envs whose features are context + action)."""
        X = np.empty((len(context), self.d))
        for j, name in enumerate(self.feature_names):
            X[:, j] = action_values if name == self.action else context[:, self.context.index(name)]
        return X


@dataclass(frozen=True)
class NoParams:
    """Hyper-parameters of a method that has none."""


class Method:
    """Base class of methods. Subclasses set `Params` (a dataclass of hyper-parameters with defaults)."""

    Params: ClassVar[type] = NoParams
    track: ClassVar[str] = "observational"
    protocol: ClassVar[str] = "static"
    privileged: ClassVar[bool] = False

    def __init__(self, task: Task, params: Any = None, seed: int = 0) -> None:
        self.task = task
        self.params = params if params is not None else self.Params()
        self.seed = seed

    @classmethod
    def applicable(cls, task: Task) -> str | None:
        """None if the method can run on `task`, else the reason it cannot (shown in reports)."""
        return None

    def fit(self, data: Dataset) -> "Method":
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(n, d) features -> (n,) predictions (P(Y = 1) for binary targets)."""
        raise NotImplementedError

    def interact(self, env: Any, budget: int) -> "Method":
        """Online protocol: learn from a gymnasium (vector) env within `budget` environment steps."""
        raise NotImplementedError(f"{type(self).__name__} does not learn online")

    def check_fitted(self) -> None:
        if not any(k.endswith("_") and not k.startswith("_") for k in vars(self)):
            raise CausalBenchError(f"{type(self).__name__} is not fitted yet; call fit() first")

    def hparams(self) -> dict[str, Any]:
        return dataclasses.asdict(self.params) if dataclasses.is_dataclass(self.params) else {}


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: its class plus the track and protocol it runs on."""

    name: str
    cls: type[Method]
    track: str
    protocol: str
    summary: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def build(self, task: Task, seed: int = 0, **overrides: Any) -> Method:
        fields = {f.name for f in dataclasses.fields(self.cls.Params)}
        unknown = set(self.params) | set(overrides)
        unknown -= fields
        if unknown:
            raise CausalBenchError(f"method {self.name!r} has no hyper-parameter(s) {sorted(unknown)}; has {sorted(fields)}")
        return self.cls(task, self.cls.Params(**{**self.params, **overrides}), seed)


METHODS: Registry[type[Method]] = Registry("method", plugins=("causalbench.baselines",))


def register_method(name: str, entry_point: str | type[Method], *, summary: str, track: str | None = None,
                    protocol: str | None = None, **params: Any) -> None:
    """Register a method under `name` (lazily, by "module:Class"); track/protocol default to the class's."""
    if track is not None and track not in TRACKS:
        raise CausalBenchError(f"unknown track {track!r}; tracks: {', '.join(TRACKS)}")
    if protocol is not None and protocol not in PROTOCOLS:
        raise CausalBenchError(f"unknown protocol {protocol!r}; protocols: {', '.join(PROTOCOLS)}")
    METHODS.register(name, entry_point, summary=summary, track=track, protocol=protocol, params=params,
                     tracks=(track,) if track else ())


def method_spec(name: str) -> MethodSpec:
    """Resolve a registered method (imports its module on first use)."""
    entry = METHODS.entry(name)
    cls = METHODS.get(name)
    track = entry.meta.get("track") or cls.track
    protocol = entry.meta.get("protocol") or cls.protocol
    return MethodSpec(name, cls, track, protocol, entry.summary, dict(entry.meta.get("params") or {}))


def make_task(env: Any, track: str, privileged: bool = False) -> Task:
    """The Task the harness shows a method for `env` on `track`."""
    if track not in TRACKS:
        raise CausalBenchError(f"unknown track {track!r}; tracks: {', '.join(TRACKS)}")
    return Task(
        env_id=env.id, track=track, feature_names=tuple(env.feature_names), target=env.target,
        target_kind=env.target_kind, n_domains=len(env.domains) if track == "observational+domains" else 1,
        variables=tuple(env.variables), roles=dict(env.roles) if privileged else None, action=env.action,
        action_values=tuple(env.action_values), context=tuple(env.context_variables) if env.action else (),
        episodic=bool(env_meta(env.id).get("gym_entry_point")),
    )


def env_meta(env_id: str) -> dict[str, Any]:
    """Registry metadata of an environment id (e.g. its custom gymnasium entry point)."""
    from .env import ENVS

    return dict(ENVS.entry(env_id).meta)


class SklearnMethod(Method):
    """Adapter: any scikit-learn estimator as a method (predict_proba[:, 1] for binary targets)."""

    _init_attrs = ("estimator",)

    def __init__(self, task: Task, params: Any = None, seed: int = 0, estimator: Any = None) -> None:
        super().__init__(task, params, seed)
        self.estimator = estimator

    def fit(self, data: Dataset) -> "SklearnMethod":
        from sklearn.base import clone

        est = clone(self.estimator)
        if "random_state" in est.get_params():
            est.set_params(random_state=self.seed)
        self.estimator_ = est.fit(data.X, data.y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        X = np.asarray(X, dtype=float)
        if self.task.target_kind == "binary":
            return self.estimator_.predict_proba(X)[:, 1]
        return np.asarray(self.estimator_.predict(X), dtype=float)


def from_sklearn(estimator: Any) -> type[Method]:
    """A Method class wrapping `estimator` (usable with `register_method`)."""

    class Wrapped(SklearnMethod):
        def __init__(self, task: Task, params: Any = None, seed: int = 0) -> None:
            super().__init__(task, params, seed, estimator)

    Wrapped.__name__ = f"Sklearn{type(estimator).__name__}"
    return Wrapped
