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
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from ..data import Dataset
from ..errors import CausalBenchError

TRACKS = ("observational", "observational+domains", "interventional", "online")
PROTOCOLS = ("static", "continual", "online")
# The dataset kind each static/continual track trains on.
TRACK_DATA = {"observational": "observational", "observational+domains": "domains", "interventional": "interventional"}


@dataclass(frozen=True)
class Task:
    """What a method is told about the problem. `roles` is given only to privileged methods (erm-causal-features)."""

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
    utility: tuple[tuple[float, float], ...] = ()   # per action value: reward = slope * outcome + intercept

    @property
    def d(self) -> int:
        return len(self.feature_names)

    def reward(self, outcome: np.ndarray, action_index: np.ndarray) -> np.ndarray:
        """The decision task's reward of outcomes under actions (indices into `action_values`)."""
        coefs = np.asarray(self.utility, dtype=float)
        if not len(coefs):
            raise CausalBenchError(f"{self.env_id} has no decision task")
        k = np.asarray(action_index, dtype=np.intp)
        return coefs[k, 0] * np.asarray(outcome, dtype=float) + coefs[k, 1]

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
    warm_start: ClassVar[bool] = False   # a second fit() continues from the fitted state (staged jobs need it)

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

    def training_info(self) -> dict[str, Any]:
        """What training cost, for the records (e.g. parameters, updates, FLOPs); empty if not reported."""
        return {}

    def check_fitted(self) -> None:
        if not any(k.endswith("_") and not k.startswith("_") for k in vars(self)):
            raise CausalBenchError(f"{type(self).__name__} is not fitted yet; call fit() first")

    def hparams(self) -> dict[str, Any]:
        return dataclasses.asdict(self.params) if dataclasses.is_dataclass(self.params) else {}


ANONYMOUS_TARGET = "y"   # a hidden instance's target name (the public one would name the family)


def make_task(env: Any, track: str, privileged: bool = False) -> Task:
    """The Task the harness shows a method for `env` on `track`.

    For a hidden instance everything refers to its anonymised feature columns: the target is "y",
    the action and context are feature names, and a privileged method's roles are keyed by column
    (none for rendered observations, whose roles belong to latent variables no column shows).
    """
    if track not in TRACKS:
        raise CausalBenchError(f"unknown track {track!r}; tracks: {', '.join(TRACKS)}")
    common = dict(env_id=env.id, track=track, feature_names=tuple(env.feature_names), target_kind=env.target_kind,
                  n_domains=len(env.domains) if track == "observational+domains" else 1,
                  action_values=tuple(env.action_values), episodic=bool(getattr(env, "episodic", False)),
                  utility=_utility_coefficients(env))
    if env.instance.public:
        return Task(**common, target=env.target, variables=tuple(env.variables),
                    roles=dict(env.roles) if privileged else None, action=env.action,
                    context=tuple(env.context_variables) if env.action else ())
    columns = env.columnar
    roles = {env.feature_of(v): r for v, r in env.roles.items()} if columns else {}
    action = env.feature_of(env.action) if env.action is not None else None
    return Task(**common, target=ANONYMOUS_TARGET, variables=tuple(env.feature_names) if columns else (),
                roles=roles if privileged else None, action=action,
                context=tuple(env.context_features) if action is not None else ())


def _utility_coefficients(env: Any) -> tuple[tuple[float, float], ...]:
    """(slope, intercept) of the env's utility per action value (utilities are affine in the outcome)."""
    out = []
    for a in env.action_values if env.action is not None else ():
        u0, u1 = np.asarray(env.utility(np.array([0.0, 1.0]), np.full(2, a)), dtype=float)
        out.append((float(u1 - u0), float(u0)))
    return tuple(out)
