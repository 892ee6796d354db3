"""Full-batch linear models over groups (training domains): the IRM paper's phi @ w parametrisation, trained by Adam.

Arjovsky et al.'s synthetic experiment (code/experiment_synthetic/models.py) fits f(x) = x @ phi @ w
with phi a d x d matrix (initialised to I) and w a fixed all-ones dummy, by full-batch Adam on
every domain's rows at every step. The domain risks of such a linear model, their gradients and
the IRMv1 penalty have closed forms in a few per-group statistics, so here one step costs a few
small matrix products, independent of n, and several penalty weights train side by side
(a leading batch axis B). Numerically this is the paper's autograd loop in float64 (tested
step by step against a torch port of it). numpy only: no torch, no global RNG (nothing is random).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from causalbench.errors import CausalBenchError

LINEAR = "linear"               # the `form` hyper-parameter value that selects this trainer
DOMAINBED = "domainbed-mlp"     # the minibatch MLP trainer of `grouped.py`
FORMS = (DOMAINBED, LINEAR)
PARAMETRIZATIONS = {"matrix": lambda d: d, "vector": lambda d: 1}   # phi's width m: d x d (IRM paper) or d x 1


@dataclass(frozen=True)
class LinearFormParams:
    """`form`: "domainbed-mlp" (DomainBed's minibatch MLP, `grouped.py`) or "linear" (full-batch linear model
    x @ phi @ w, w = 1, trained by Adam with `lr` for `steps` steps). Linear form only: `parametrization`
    "matrix" (phi d x d, init I: the IRM paper) or "vector" (phi d x 1, init 1); `intercept` appends a constant
    feature and `standardize` scales features to unit sd on the training rows (the paper: neither)."""

    form: str = DOMAINBED
    parametrization: str = "matrix"
    intercept: bool = True
    standardize: bool = True


@dataclass(frozen=True)
class GroupTerms:
    """Per penalty weight b and group g, at the linear predictor v = phi @ 1: the gradient a = dR/dv (B, G, d)
    of the group risk R, and when asked the risks (B, G) and Hessians d^2 R / dv^2 ((1 or B), G, d, d)."""

    grads: np.ndarray
    risks: np.ndarray | None = None
    hessians: np.ndarray | None = None


class GroupRisks:
    """Risks of linear predictors v on each group's rows; squared error from moments, logistic loss from rows."""

    def __init__(self, X: np.ndarray, y: np.ndarray, labels: np.ndarray, kind: str) -> None:
        self.kind = kind
        groups = np.unique(labels)
        if kind == "real":
            rows = [labels == g for g in groups]
            # MSE(v) = v' S v - 2 v' c + m with S = X'X / n, c = X'y / n, m = y'y / n (per group).
            self.S2 = np.stack([2 * X[r].T @ X[r] / r.sum() for r in rows])    # 2 S: the Hessian
            self.c2 = np.stack([2 * X[r].T @ y[r] / r.sum() for r in rows])
            self.m = np.array([y[r] @ y[r] / r.sum() for r in rows])
        elif kind == "binary":
            self.parts = [(X[labels == g], y[labels == g]) for g in groups]
        else:
            raise CausalBenchError(f"the linear form supports real and binary targets, not {kind!r}")
        self.n_groups = len(groups)

    def terms(self, V: np.ndarray, risks: bool = True, hessians: bool = False) -> GroupTerms:
        """Gradients (and risks, Hessians) at the predictors V (B, d)."""
        if self.kind == "real":
            A = np.einsum("gij,bj->bgi", self.S2, V) - self.c2                   # 2 (S v - c)
            R = 0.5 * np.einsum("bgi,bi->bg", A - self.c2, V) + self.m if risks else None
            return GroupTerms(A, R, self.S2[None] if hessians else None)
        R, A, H = [], [], []
        for X, y in self.parts:
            out = X @ V.T                                            # (n_g, B) logits
            p = 0.5 * (1 + np.tanh(0.5 * out))                       # sigmoid
            R.append(np.mean(np.logaddexp(0, out) - y[:, None] * out, axis=0))
            A.append(((p - y[:, None]).T @ X) / len(y))
            if hessians:
                H.append(np.einsum("ni,nb,nj->bij", X, p * (1 - p), X) / len(y))
        return GroupTerms(np.stack(A, 1), np.stack(R, 1), np.stack(H, 1) if hessians else None)


@dataclass(frozen=True)
class Objective:
    """(phi (B, d, m), group terms at v = phi @ 1) -> (loss (B,) or None, dloss/dphi (B, d, m)), with the terms
    it needs; the loss is computed only when asked (training needs the gradient alone). The dummy w is 1."""

    fn: Callable[[np.ndarray, GroupTerms, bool], tuple[np.ndarray | None, np.ndarray]]
    needs_risks: bool = False
    needs_hessians: bool = False

    def __call__(self, phi: np.ndarray, terms: GroupTerms, with_loss: bool = False
                 ) -> tuple[np.ndarray | None, np.ndarray]:
        return self.fn(phi, terms, with_loss)


def risk_weighted(coef: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> Objective:
    """An objective that is a function of the risks only: coef(R) -> (loss (B,), dloss/dR (B, G))."""

    def objective(phi: np.ndarray, t: GroupTerms, with_loss: bool = False) -> tuple[np.ndarray | None, np.ndarray]:
        loss, dR = coef(t.risks)
        # dR_g/dphi = a_g 1' (v = phi 1), so dloss/dphi = (sum_g dloss/dR_g a_g) 1'.
        return loss, np.broadcast_to((dR[:, :, None] * t.grads).sum(axis=1)[:, :, None], phi.shape)

    return Objective(objective, needs_risks=True)


def irmv1_paper(regs: np.ndarray) -> Objective:
    """The IRM paper's loss per penalty weight reg: reg * sum_e R_e + (1 - reg) * sum_e mean_j (dR_e/dw_j)^2.

    With g_e = dR_e/dw = phi' a_e (at w = 1): d|g_e|^2/dphi = 2 (a_e g_e' + H_e phi g_e 1'), dR_e/dphi = a_e 1'.
    (Batched matrix products: a three-operand einsum here costs 10x more per step.)
    """
    regs = np.asarray(regs, dtype=float)
    r_error = regs[:, None, None]

    def objective(phi: np.ndarray, t: GroupTerms, with_loss: bool = False) -> tuple[np.ndarray | None, np.ndarray]:
        m, A, H = phi.shape[2], t.grads, t.hessians
        g = A @ phi                                                      # (B, G, m): g_e' = a_e' phi
        phi_g = g @ phi.transpose(0, 2, 1)                               # (B, G, d): (phi g_e)'
        H_phi_g = (np.einsum("gij,bgj->bgi", H[0], phi_g) if len(H) == 1  # type: ignore[arg-type, index]
                   else np.einsum("bgij,bgj->bgi", H, phi_g))
        r_penalty = (1 - regs)[:, None, None] * (2 / m)
        grad = r_error * A.sum(axis=1)[:, :, None] + r_penalty * (A.transpose(0, 2, 1) @ g
                                                                    + H_phi_g.sum(axis=1)[:, :, None])
        loss = regs * t.risks.sum(axis=1) + (1 - regs) * (g * g).sum(axis=(1, 2)) / m if with_loss else None
        return loss, grad

    return Objective(objective, needs_risks=False, needs_hessians=True)


class Adam:
    """torch.optim.Adam's update rule (no weight decay, no amsgrad), in numpy, on one array in place."""

    def __init__(self, shape: tuple[int, ...], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m, self.v, self.tmp, self.t = np.zeros(shape), np.zeros(shape), np.empty(shape), 0

    def step(self, param: np.ndarray, grad: np.ndarray) -> None:
        """One update (torch: denom = sqrt(v) / sqrt(1 - b2^t) + eps; param -= lr / (1 - b1^t) * m / denom)."""
        self.t += 1
        m, v, tmp = self.m, self.v, self.tmp
        m *= self.b1
        np.multiply(grad, 1 - self.b1, out=tmp)
        m += tmp
        v *= self.b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - self.b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp /= np.sqrt(1 - self.b2 ** self.t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1 - self.b1 ** self.t)
        param -= tmp


def initial_phi(batch: int, d: int, parametrization: str) -> np.ndarray:
    """phi at the start: I (the IRM paper's d x d featurizer) or a column of ones (d x 1), for each of `batch`."""
    if parametrization not in PARAMETRIZATIONS:
        raise CausalBenchError(f"unknown parametrization {parametrization!r}; use one of {', '.join(PARAMETRIZATIONS)}")
    m = PARAMETRIZATIONS[parametrization](d)
    return np.repeat((np.eye(d) if m == d else np.ones((d, 1)))[None], batch, axis=0)


def train_linear(risks: GroupRisks, objective: Objective, phi: np.ndarray, lr: float, steps: int,
                 callback: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
    """`steps` full-batch Adam steps on phi (B, d, m) in place (w = 1 fixed); returns phi."""
    adam = Adam(phi.shape, lr)
    for step in range(steps):
        if callback is not None:
            callback(step, phi)
        terms = risks.terms(phi.sum(axis=2), risks=objective.needs_risks, hessians=objective.needs_hessians)
        adam.step(phi, objective(phi, terms)[1])
    return phi


@dataclass
class LinearModel:
    """A fitted linear predictor: optional standardisation and intercept, then x @ v (sigmoid for binary)."""

    mean: np.ndarray
    sd: np.ndarray
    intercept: bool
    kind: str
    v: np.ndarray | None = None

    @classmethod
    def for_data(cls, X: np.ndarray, kind: str, standardize: bool, intercept: bool) -> "LinearModel":
        d = X.shape[1]
        if not standardize:
            return cls(np.zeros(d), np.ones(d), intercept, kind)
        sd = X.std(axis=0)
        return cls(X.mean(axis=0), np.where(sd > 1e-12, sd, 1.0), intercept, kind)

    def design(self, X: np.ndarray) -> np.ndarray:
        Z = (np.asarray(X, dtype=float) - self.mean) / self.sd
        return np.column_stack([Z, np.ones(len(Z))]) if self.intercept else Z

    def outputs(self, X: np.ndarray, V: np.ndarray | None = None) -> np.ndarray:
        """Predictions for every row (and every predictor in V (B, d), if given: shape (n, B))."""
        out = self.design(X) @ (self.v if V is None else V.T)
        return 0.5 * (1 + np.tanh(0.5 * out)) if self.kind == "binary" else out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(n,) predictions of the fitted v (probabilities for binary targets)."""
        return self.outputs(X)

    def feature_weights(self) -> np.ndarray:
        """Weights on the original features (the intercept, if any, left out)."""
        return np.asarray(self.v)[:len(self.sd)] / self.sd


def validation_risk(kind: str, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean squared error (real) or log loss (binary) of predictions (n, B) -> (B,)."""
    y = np.asarray(y, dtype=float)[:, None]
    if kind == "binary":
        p = np.clip(pred, 1e-12, 1 - 1e-12)
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=0)
    return np.mean((pred - y) ** 2, axis=0)


@dataclass(frozen=True)
class LinearFit:
    """What `fit_linear_form` learned: the model, the selected penalty weight and every weight's validation risk."""

    model: LinearModel
    weight: float
    validation_risks: np.ndarray | None


def fit_linear_form(X: np.ndarray, y: np.ndarray, groups: np.ndarray, kind: str, params: LinearFormParams,
                    weights: tuple[float, ...], make_objective: Callable[[np.ndarray], Objective], lr: float,
                    steps: int) -> LinearFit:
    """The IRM paper's protocol (models.py, `InvariantRiskMinimization.__init__`) for any penalty.

    One penalty weight: train on every group. Several: the last group (highest label) is the
    validation environment; each weight is trained on the other groups and the one with the lowest
    validation risk is kept (the first on ties; the model is not retrained on the validation rows).
    """
    X, y, labels = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.unique(groups)
    train = np.ones(len(y), dtype=bool)
    if len(weights) > 1:
        if len(labels) < 2:
            raise CausalBenchError("selecting among several penalty weights needs a validation domain: "
                                   f"give >= 2 domains or one weight (got {len(labels)} domain)")
        train = groups != labels[-1]
    model = LinearModel.for_data(X[train], kind, params.standardize, params.intercept)
    Z = model.design(X)
    phi = initial_phi(len(weights), Z.shape[1], params.parametrization)
    phi = train_linear(GroupRisks(Z[train], y[train], groups[train], kind), make_objective(np.array(weights)), phi,
                       lr, steps)
    V = phi.sum(axis=2)
    risks = None
    if len(weights) > 1:
        risks = validation_risk(kind, model.outputs(X[~train], V), y[~train])
        best = int(np.argmin(risks))
    else:
        best = 0
    model.v = V[best]
    return LinearFit(model, float(weights[best]), risks)
