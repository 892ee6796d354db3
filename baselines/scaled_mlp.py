"""Scaled MLP: ERM with a ReLU MLP of any width and depth, trained to convergence (early stopping), with its compute.

The model-scale axis of the scaling study. One schedule for every size, documented here and
in `ScaledMLPParams`, so that a curve over parameters compares converged models, not budgets:

- inputs standardised (and a real target too) on the first training stage, then frozen;
- a validation split of `val_fraction` of the training rows (at least `MIN_VAL` rows, seeded),
  carved from the rows the method is given (the split is seeded by the job's seed): it only sees ID data;
- minibatch Adam (`lr`, `weight_decay`), batches of `batch_size` rows, reshuffled every epoch
  from the data-order stream (`shuffle_seed`, default: the job's seed);
- the validation loss is checked every epoch (at least 25, at most 250 updates apart); training stops after
  `patience` checks without improvement, or at `max_updates`; the best checked weights are kept.

Staged jobs (fine-tuning): a second `fit` continues from the fitted weights with a fresh Adam
and the same schedule on the new rows (the starting weights count as the first check, so
fine-tuning never ends worse on its own validation split than it started).

Compute: `training_info()` reports the parameter count, updates, samples seen and approximate
training FLOPs = 6 x parameters x samples seen (forward + backward of a dense net; validation
passes, 2 x parameters x rows, are counted separately), per stage and in total.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError
from causalbench.methods import Method

from .nets import mlp, per_sample_loss

MIN_VAL = 8                 # validation rows at least (and at least one training row is left)
CHECK_RANGE = (25, 250)     # a validation check every epoch, but at least 25 and at most 250 updates apart
PREDICT_CHUNK = 32_768      # rows per forward pass when predicting (bounds memory on large suites)


@dataclass(frozen=True)
class ScaledMLPParams:
    """Width x depth (hidden layers) ReLU MLP; Adam 1e-3, no weight decay, 256-row batches, early stopping
    with patience 8 checks, at most 20,000 updates, 10% of the training rows for validation."""

    width: int = 64
    depth: int = 2
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 256
    max_updates: int = 20_000
    patience: int = 8
    val_fraction: float = 0.1
    shuffle_seed: int = -1      # data order (minibatch shuffling and the validation split); -1 = the job's seed
    device: str = "cpu"


def parameter_count(d_in: int, width: int, depth: int) -> int:
    """Parameters of a d_in -> width^depth -> 1 MLP (weights and biases)."""
    sizes = [d_in] + [width] * depth + [1]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def torch_device(name: str) -> torch.device:
    """The torch device `name`, or a one-line error when torch cannot use it."""
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CausalBenchError(f"device {name!r}: torch sees no GPU (torch.cuda.is_available() is False); "
                               "use device 'cpu'")
    try:
        return torch.device(name)
    except RuntimeError as err:
        raise CausalBenchError(f"unknown torch device {name!r}: {err}") from None


class ScaledMLP(Method):
    """ERM with an MLP of chosen width and depth, trained to convergence by early stopping: the model-scale axis."""

    Params = ScaledMLPParams
    warm_start = True

    @classmethod
    def applicable(cls, task: Any) -> str | None:
        return None

    def fit(self, data: Dataset) -> "ScaledMLP":
        p = self.params
        if p.width < 1 or p.depth < 0 or p.batch_size < 1 or p.max_updates < 1 or p.patience < 1 \
                or not 0.0 < p.val_fraction < 1.0:
            raise CausalBenchError(f"scaled-mlp: bad hyper-parameters {p}")
        X = np.asarray(data.X, dtype=np.float64)
        y = np.asarray(data.y, dtype=np.float64)
        if len(y) < 2:
            raise CausalBenchError("scaled-mlp needs at least 2 training rows (one for validation)")
        if not hasattr(self, "net_"):
            self._build(X, y)
        self.stages_.append(self._train(X, y, len(self.stages_)))
        return self

    def _build(self, X: np.ndarray, y: np.ndarray) -> None:
        p = self.params
        self.device_ = torch_device(p.device)
        order = self.seed if p.shuffle_seed < 0 else p.shuffle_seed
        self.init_gen_ = torch.Generator().manual_seed(int(self.seed))
        self.order_gen_ = torch.Generator().manual_seed(int(order) + 0x5EED)
        self.x_mean_ = X.mean(axis=0)
        sd = X.std(axis=0)
        self.x_sd_ = np.where(sd > 1e-12, sd, 1.0)
        real = self.task.target_kind == "real"
        self.y_mean_ = float(y.mean()) if real else 0.0
        ysd = float(y.std()) if real else 1.0
        self.y_sd_ = ysd if ysd > 1e-12 else 1.0
        self.net_ = mlp(X.shape[1], p.width, p.depth, self.init_gen_).to(self.device_)
        self.n_params_ = sum(t.numel() for t in self.net_.parameters())
        self.stages_: list[dict[str, Any]] = []

    def _tensor(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((np.asarray(X, dtype=np.float64) - self.x_mean_) / self.x_sd_,
                               dtype=torch.float32).to(self.device_)

    def _loss(self, X: torch.Tensor, y: torch.Tensor) -> float:
        with torch.no_grad():
            total = sum(float(per_sample_loss(self.task.target_kind, self.net_(X[i:i + PREDICT_CHUNK]).reshape(-1),
                                              y[i:i + PREDICT_CHUNK]).sum()) for i in range(0, len(X), PREDICT_CHUNK))
        return total / max(len(X), 1)

    def _train(self, X: np.ndarray, y: np.ndarray, stage: int) -> dict[str, Any]:
        """One stage of the schedule; returns its compute record."""
        p, n = self.params, len(y)
        n_val = min(max(MIN_VAL, int(round(p.val_fraction * n))), n - 1)
        perm = np.random.default_rng([int(self.seed), stage, 0x7A1]).permutation(n)
        val, train = perm[:n_val], perm[n_val:]
        yt = (y - self.y_mean_) / self.y_sd_ if self.task.target_kind == "real" else y
        Xtr, ytr = self._tensor(X[train]), torch.as_tensor(yt[train], dtype=torch.float32).to(self.device_)
        Xva, yva = self._tensor(X[val]), torch.as_tensor(yt[val], dtype=torch.float32).to(self.device_)
        opt = torch.optim.Adam(self.net_.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        batch = min(p.batch_size, len(train))
        per_epoch = math.ceil(len(train) / batch)
        check_every = min(max(per_epoch, CHECK_RANGE[0]), CHECK_RANGE[1])
        best, best_state, best_update = self._loss(Xva, yva), None, 0
        since, checks, updates, seen, stop = 0, 1, 0, 0, "max_updates"
        order, pos = torch.randperm(len(train), generator=self.order_gen_), 0
        self.net_.train()
        while updates < p.max_updates:
            if pos + batch > len(train):
                order, pos = torch.randperm(len(train), generator=self.order_gen_), 0
            idx = order[pos:pos + batch].to(self.device_)
            pos += batch
            loss = per_sample_loss(self.task.target_kind, self.net_(Xtr[idx]).reshape(-1), ytr[idx]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            updates, seen = updates + 1, seen + len(idx)
            if updates % check_every == 0:
                checks += 1
                current = self._loss(Xva, yva)
                if current < best:
                    best, since, best_update = current, 0, updates
                    best_state = copy.deepcopy(self.net_.state_dict())
                else:
                    since += 1
                    if since >= p.patience:
                        stop = "early"
                        break
        if best_state is not None:
            self.net_.load_state_dict(best_state)
        self.net_.eval()
        P = self.n_params_
        return {"stage": stage, "train_rows": len(train), "val_rows": n_val, "updates": updates,
                "best_update": best_update, "samples_seen": seen, "epochs": round(seen / len(train), 3),
                "checks": checks, "stopped": stop, "val_loss": best,
                "train_flops": 6.0 * P * seen, "val_flops": 2.0 * P * n_val * checks}

    def training_info(self) -> dict[str, Any]:
        """Parameters and compute so far (totals over stages, and the last stage's own record)."""
        self.check_fitted()
        total = {k: sum(s[k] for s in self.stages_) for k in ("updates", "samples_seen", "train_flops", "val_flops")}
        return {"params": self.n_params_, "width": self.params.width, "depth": self.params.depth, **total,
                "stage_compute": self.stages_[-1]}

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        X = np.asarray(X)
        out = np.empty(len(X))
        with torch.no_grad():
            for i in range(0, len(X), PREDICT_CHUNK):
                z = self.net_(self._tensor(X[i:i + PREDICT_CHUNK])).reshape(-1)
                z = torch.sigmoid(z) if self.task.target_kind == "binary" else z
                out[i:i + PREDICT_CHUNK] = z.double().cpu().numpy()
        return out * self.y_sd_ + self.y_mean_ if self.task.target_kind == "real" else out
