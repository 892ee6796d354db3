"""Continual fine-tuning: one ERM-MLP trained domain by domain, optionally with a reservoir replay buffer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError
from causalbench.methods import Method

from .nets import MLPModel, MLPParams


@dataclass(frozen=True)
class ContinualParams(MLPParams):
    """ERM-MLP defaults, with `steps` Adam steps per stage: 75 of 1,024 rows, 30 epochs of a stage's 2,500 rows
    at n = 5,000 over two domains, as ERM-MLP's 150 steps are of its 5,000. replay: the buffer of earlier
    stages' rows mixed into a stage is at most `replay` x that stage's size (0 = plain fine-tuning)."""

    steps: int = 75
    replay: float = 0.0


class ContinualFinetune(Method):
    """Sequential fine-tuning across domains: the continual-learning baseline (replay: Rolnick et al., 2019)."""

    Params = ContinualParams
    protocol = "continual"

    def fit(self, data: Dataset) -> "ContinualFinetune":
        """One stage: fine-tune the network (and Adam state) carried over from earlier stages on this stage's rows."""
        if self.params.replay < 0:
            raise CausalBenchError(f"replay must be >= 0, got {self.params.replay}")
        X, y = np.asarray(data.X, dtype=float), np.asarray(data.y, dtype=float)
        if not hasattr(self, "model_"):  # first stage: standardisation is fitted here and then frozen
            self.model_ = MLPModel(X, y, self.task.target_kind, self.params, self.seed)
            self.rng_ = np.random.default_rng(self.seed)
            self.buffer_X_, self.buffer_y_ = np.empty((0, X.shape[1])), np.empty(0)
            self.seen_ = 0
            self.capacity_ = int(np.ceil(self.params.replay * len(X)))
            self.stages_ = 0
        take = min(len(self.buffer_y_), int(self.params.replay * len(X)))
        if take > 0:
            rows = self.rng_.choice(len(self.buffer_y_), size=take, replace=False)
            X_train, y_train = np.vstack([X, self.buffer_X_[rows]]), np.concatenate([y, self.buffer_y_[rows]])
        else:
            X_train, y_train = X, y
        self.model_.train(X_train, y_train)
        self._add_to_reservoir(X, y)
        self.stages_ += 1
        return self

    def _add_to_reservoir(self, X: np.ndarray, y: np.ndarray) -> None:
        """Algorithm R (Vitter, 1985): the buffer stays a uniform sample of every row seen so far."""
        cap = self.capacity_
        if cap == 0:
            self.seen_ += len(y)
            return
        fill = max(0, min(cap - len(self.buffer_y_), len(y)))
        self.buffer_X_ = np.vstack([self.buffer_X_, X[:fill]])
        self.buffer_y_ = np.concatenate([self.buffer_y_, y[:fill]])
        t = self.seen_ + fill + np.arange(len(y) - fill)           # rows already seen before each later row
        slots = np.floor(self.rng_.random(len(t)) * (t + 1)).astype(np.int64)
        hits = np.flatnonzero(slots < cap)
        # Later rows overwrite earlier ones: keep, per slot, the last row that lands there.
        slot_ids, last = np.unique(slots[hits][::-1], return_index=True)
        winners = fill + hits[::-1][last]
        self.buffer_X_[slot_ids] = X[winners]
        self.buffer_y_[slot_ids] = y[winners]
        self.seen_ += len(y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return self.model_.predict(X)
