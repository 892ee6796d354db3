"""IRM's "linear" form against the paper's own algorithm (code/experiment_synthetic/models.py of
facebookresearch/InvariantRiskMinimization): penalty and gradient vs autograd, Adam vs torch, the whole
training loop and the selection of reg on the validation environment vs a torch port of the paper's code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.autograd import grad

import causalbench as cb
from causalbench.baselines.irm import PAPER_REGS, PAPER_SYNTHETIC
from causalbench.baselines.linear_groups import Adam, GroupRisks, initial_phi, irmv1_paper, train_linear
from causalbench.methods import make_task, method_spec
from causalbench.testing import one_line_error


def paper_loss(envs: list[tuple[torch.Tensor, torch.Tensor]], phi: torch.Tensor, reg: float, kind: str) -> torch.Tensor:
    """`InvariantRiskMinimization.train`'s loss, verbatim except the loss function for binary targets."""
    w = torch.ones(phi.shape[1], 1, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.MSELoss() if kind == "real" else torch.nn.BCEWithLogitsLoss()
    penalty, error = 0, 0
    for x_e, y_e in envs:
        error_e = loss(x_e @ phi @ w, y_e)
        penalty += grad(error_e, w, create_graph=True)[0].pow(2).mean()
        error += error_e
    return reg * error + (1 - reg) * penalty


def toy(kind: str, n: int = 300, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    X = gen.normal(size=(n, d)) * np.array([1.0, 2.0, 0.5, 1.0])[:d]
    logits = X @ np.linspace(1, -1, d) + gen.normal(size=n)
    y = (logits > 0).astype(float) if kind == "binary" else logits
    return X, y, np.repeat([0, 1, 2], n // 3)


@pytest.mark.parametrize("kind", ["real", "binary"])
@pytest.mark.parametrize("parametrization", ["matrix", "vector"])
def test_penalty_and_gradient_match_autograd(kind: str, parametrization: str) -> None:
    X, y, groups = toy(kind)
    regs = np.array([0.0, 1e-3, 0.3])
    gen = np.random.default_rng(1)
    phi = initial_phi(3, 4, parametrization) + 0.3 * gen.normal(size=(3, 4, 4 if parametrization == "matrix" else 1))
    risks = GroupRisks(X, y, groups, kind)
    terms = risks.terms(phi.sum(axis=2), risks=True, hessians=True)
    loss, dphi = irmv1_paper(regs)(phi, terms, True)
    envs = [(torch.as_tensor(X[groups == g]), torch.as_tensor(y[groups == g]).view(-1, 1)) for g in range(3)]
    for b, reg in enumerate(regs):
        p = torch.tensor(phi[b], requires_grad=True)
        value = paper_loss(envs, p, float(reg), kind)
        value.backward()
        assert loss[b] == pytest.approx(value.item(), rel=1e-10)
        np.testing.assert_allclose(dphi[b], p.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_adam_is_torchs_adam() -> None:
    gen = np.random.default_rng(0)
    A, target = gen.normal(size=(5, 5)), gen.normal(size=5)
    x_np, x_t = np.zeros(5), torch.zeros(5, dtype=torch.float64, requires_grad=True)
    ours, theirs = Adam(x_np.shape, lr=1e-2), torch.optim.Adam([x_t], lr=1e-2)
    for _ in range(200):
        ours.step(x_np, 2 * A.T @ (A @ x_np - target))
        theirs.zero_grad()
        ((torch.as_tensor(A) @ x_t - torch.as_tensor(target)) ** 2).sum().backward()
        theirs.step()
    np.testing.assert_allclose(x_np, x_t.detach().numpy(), rtol=1e-12, atol=1e-14)


def paper_irm(environments: list[tuple[torch.Tensor, torch.Tensor]], steps: int, lr: float) -> tuple[float, np.ndarray]:
    """`InvariantRiskMinimization(environments, args)` of the paper (float64): (selected reg, selected phi)."""
    best_reg, best_err, best_phi = 0.0, 1e6, None
    x_val, y_val = environments[-1]
    for reg in PAPER_REGS:
        phi = torch.nn.Parameter(torch.eye(x_val.shape[1], dtype=torch.float64))
        opt = torch.optim.Adam([phi], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            paper_loss(environments[:-1], phi, reg, "real").backward()
            opt.step()
        err = (x_val @ (phi @ torch.ones(x_val.shape[1], 1, dtype=torch.float64)) - y_val).pow(2).mean().item()
        if err < best_err:
            best_err, best_reg, best_phi = err, reg, phi.detach().clone()
    return best_reg, best_phi.numpy()


def test_linear_form_is_the_papers_training_and_selection() -> None:
    """Same data, same steps: the registered `irm` with the paper's overrides lands on the paper's phi and reg."""
    env = cb.make("IRMSynthetic-v0", setting="FOS", sem_seed=0)
    data = env.paper_environments(200, seed=0)
    envs = [(torch.as_tensor(data.X[data.domain == k]), torch.as_tensor(data.y[data.domain == k]).view(-1, 1))
            for k in range(3)]
    steps, lr = 60, 0.05  # a large lr so that 60 steps move far from phi = I and the regs separate
    reg, phi = paper_irm(envs, steps, lr)
    overrides = {**PAPER_SYNTHETIC, "steps": steps, "lr": lr}
    irm = method_spec("irm").build(make_task(env, "observational+domains"), **overrides).fit(data)
    assert irm.reg_ == reg and len(set(np.round(irm.validation_risks_, 6))) == len(PAPER_REGS)
    np.testing.assert_allclose(irm.model_.v, phi.sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(irm.predict(data.X), data.X @ phi.sum(axis=1), rtol=1e-9, atol=1e-12)


def test_full_batch_steps_are_exact_in_the_statistics() -> None:
    """Training from moments equals training on the rows: one step of the paper's loop from phi = I."""
    X, y, groups = toy("real", seed=3)
    phi = train_linear(GroupRisks(X, y, groups, "real"), irmv1_paper(np.array([0.1])), initial_phi(1, 4, "matrix"),
                       1e-3, 1)
    p = torch.nn.Parameter(torch.eye(4, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=1e-3)
    envs = [(torch.as_tensor(X[groups == g]), torch.as_tensor(y[groups == g]).view(-1, 1)) for g in range(3)]
    paper_loss(envs, p, 0.1, "real").backward()
    opt.step()
    np.testing.assert_allclose(phi[0], p.detach().numpy(), atol=1e-15)


def test_linear_form_on_a_binary_target_and_bad_options() -> None:
    env = cb.make("TreatmentRecovery-v0")
    task = make_task(env, "observational+domains")
    data = env.dataset("domains", n=600, seed=0)
    irm = method_spec("irm").build(task, form="linear", steps=200).fit(data)
    pred = irm.predict(data.X)
    assert pred.shape == (600,) and np.all((pred > 0) & (pred < 1))
    with one_line_error("form"):
        method_spec("irm").build(task, form="paper")
    with one_line_error("regs"):
        method_spec("irm").build(task, regs=(2.0,))
    with one_line_error("validation domain"):
        method_spec("irm").build(task, form="linear", regs=(0.1, 0.2), steps=5).fit(data.by_domain()[0])
