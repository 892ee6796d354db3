"""Shared torch pieces for neural baselines: seeded MLPs, standardisation, losses, minibatches.

Imported only by baselines that need torch, never by `import causalbench`.
All randomness comes from a `torch.Generator` seeded by the harness's seed:
no global torch RNG state is read or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from causalbench.methods.selection import Choice, IntLogUniform, LogUniform


@dataclass(frozen=True)
class MLPParams:
    """Architecture and optimiser defaults shared by the MLP baselines (no tuning on OOD test sets)."""

    width: int = 64
    depth: int = 2
    lr: float = 3e-3
    weight_decay: float = 1e-4
    steps: int = 150          # 30 epochs at n = 5,000 in full-size batches: small nets on tabular data are
    batch_size: int = 1024    # overhead-bound per step, so few large steps train as well, 4x faster than 600 x 256

    def search_space(self) -> dict[str, Any]:
        """DomainBed's random search (lr 10^U(-4.5, -2.5), weight decay 10^U(-6, -2)) with batch sizes
        2^U(7, 11) and smaller networks for tabular data (width 32-128, 1-3 layers); the step budget is fixed."""
        return {"lr": LogUniform(10 ** -4.5, 10 ** -2.5), "weight_decay": LogUniform(1e-6, 1e-2),
                "batch_size": IntLogUniform(128, 2048), "width": Choice((32, 64, 128)), "depth": Choice((1, 2, 3))}


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def mlp(d_in: int, width: int, depth: int, gen: torch.Generator, d_out: int = 1) -> nn.Sequential:
    """A ReLU MLP with `depth` hidden layers, initialised from `gen` (PyTorch's default init law)."""
    layers: list[nn.Module] = []
    sizes = [d_in] + [width] * depth + [d_out]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b, dtype=torch.float32)
        with torch.no_grad():
            nn.init.kaiming_uniform_(lin.weight, a=5 ** 0.5, generator=gen)
            bound = 1 / max(a, 1) ** 0.5
            nn.init.uniform_(lin.bias, -bound, bound, generator=gen)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Standardizer:
    """Feature standardisation fitted on training data (constant columns are left centred)."""

    def __init__(self, X: np.ndarray) -> None:
        self.mean = X.mean(axis=0)
        sd = X.std(axis=0)
        self.sd = np.where(sd > 1e-12, sd, 1.0)

    def __call__(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((np.asarray(X, dtype=float) - self.mean) / self.sd, dtype=torch.float32)


def per_sample_loss(kind: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared error (real target) or logistic loss on logits (binary target), one value per sample."""
    if kind == "binary":
        return nn.functional.binary_cross_entropy_with_logits(out, y, reduction="none")
    return (out - y) ** 2


def target_tensor(y: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(y, dtype=float), dtype=torch.float32)


def to_prediction(kind: str, out: torch.Tensor) -> np.ndarray:
    """Network outputs -> numpy predictions (probabilities for binary targets)."""
    out = out.detach().reshape(-1)
    return (torch.sigmoid(out) if kind == "binary" else out).double().numpy()


def minibatches(n: int, batch_size: int, steps: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """`steps` index batches, reshuffling each epoch with `gen`."""
    batch_size = min(batch_size, n)
    perm, pos = torch.randperm(n, generator=gen), 0
    for _ in range(steps):
        if pos + batch_size > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        yield perm[pos:pos + batch_size]
        pos += batch_size


# The fused CPU Adam kernel (torch >= 2.4) is ~20% faster per fit than the for-each loop; same update rule.
_FUSED_CPU_ADAM = tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4)


class MLPModel:
    """A seeded MLP with frozen input (and real-target) standardisation, trained by minibatch Adam.

    The shared training loop of the ERM-style MLP baselines. Standardisation is fitted on the
    data the model is built from and then frozen, so `train` can be called again on new data
    (continual fine-tuning): network weights, Adam state and the shuffling generator carry over.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, kind: str, params: MLPParams, seed: int) -> None:
        self.kind, self.params = kind, params
        self.gen = generator(seed)
        self.scale_x = Standardizer(np.asarray(X, dtype=float))
        y = np.asarray(y, dtype=float)
        sd = float(y.std()) if kind == "real" else 1.0
        self.y_mean = float(y.mean()) if kind == "real" else 0.0
        self.y_sd = sd if sd > 1e-12 else 1.0
        self.net = mlp(np.asarray(X).shape[1], params.width, params.depth, self.gen)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=params.lr, weight_decay=params.weight_decay,
                                    fused=_FUSED_CPU_ADAM or None)

    def train(self, X: np.ndarray, y: np.ndarray, steps: int | None = None) -> "MLPModel":
        """`steps` (default params.steps) minibatch Adam steps on mean loss over (X, y)."""
        Xt = self.scale_x(X)
        yt = target_tensor((np.asarray(y, dtype=float) - self.y_mean) / self.y_sd)
        steps = self.params.steps if steps is None else steps
        for idx in minibatches(len(Xt), self.params.batch_size, steps, self.gen):
            loss = per_sample_loss(self.kind, self.net(Xt[idx]).reshape(-1), yt[idx]).mean()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions on the original target scale (probabilities for binary targets)."""
        with torch.no_grad():
            pred = to_prediction(self.kind, self.net(self.scale_x(X)))
        return pred * self.y_sd + self.y_mean if self.kind == "real" else pred
