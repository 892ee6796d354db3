"""Methods the leaderboard tests install as an outside package (copied to a temporary folder outside the repo as
`cbtest_outside/methods.py`): honest ones, a cheater, a probe, and ones that break the limits."""

from __future__ import annotations

import gc
import json
import time
from dataclasses import asdict, dataclass

import numpy as np

import causalbench as cb
from causalbench.methods import Method


class TrainingMean(Method):
    """Predicts the training mean (P(Y = 1) for binary targets)."""

    def fit(self, data):
        self.mean_ = float(np.mean(data.y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


@dataclass(frozen=True)
class CopierParams:
    env_id: str = "IceCreamShorts-v1"   # the family the cheater knows it is evaluated on


class OracleCopier(Method):
    """A cheater: builds the public env (by the task's env id, or the family it knows) and returns its exact
    causal reference: E[Y | do(X = x)] of the public instance."""

    Params = CopierParams

    def fit(self, data):
        known = self.task.env_id if self.task.env_id in cb.list_envs() else self.params.env_id
        self.env_ = cb.make(known)
        return self

    def predict(self, X):
        return self.env_.truth.causal_reference(np.asarray(X, dtype=float))


@dataclass(frozen=True)
class ProbeParams:
    report: str = ""


class Probe(Method):
    """Writes down everything it is handed (task fields, dataset attributes, what lives in its process) to
    `report`, then predicts the training mean."""

    Params = ProbeParams

    def fit(self, data):
        from causalbench.env.base import CausalEnv
        from causalbench.scm import SCM

        seen = {
            "task": asdict(self.task),
            "dataset": {"feature_names": list(data.feature_names), "variables": list(data.variables),
                        "roles": dict(data.roles), "target": data.target, "spec": data.spec.to_dict(),
                        "repr": repr(data), "attributes": sorted(a for a in dir(data) if not a.startswith("__"))},
            "envs_in_process": sum(isinstance(o, (CausalEnv, SCM)) for o in gc.get_objects()),
            "seed": self.seed,
        }
        with open(self.params.report, "a") as fh:
            fh.write(json.dumps(seen, default=str) + "\n")
        self.mean_ = float(np.mean(data.y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class Sleeper(TrainingMean):
    """Never finishes fitting in time."""

    def fit(self, data):
        time.sleep(600)
        return super().fit(data)


class Hog(TrainingMean):
    """Allocates far more memory than a job may use."""

    def fit(self, data):
        self.hog_ = np.ones((1 << 31) // 8 * 4)   # 4 GiB
        return super().fit(data)


class Crasher(TrainingMean):
    """Raises inside fit."""

    def fit(self, data):
        raise ValueError("the method broke")
