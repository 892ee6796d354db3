"""Group DRO: conformance, the exponentiated-gradient weight update, and its worst-domain behaviour.

Finding (IRMLinear-v0, n = 5,000, seed 0, eta = 1e-2): the weights move from (1/2, 1/2) to about
(0.31, 0.69), towards the noisy s = 2 domain; its held-out risk drops and the other domain's
rises, as the method intends. (Minimising the worst *training* domain is not an invariance
principle: on this env the worst domain is the one where x2 is most predictive.)
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import causalbench as cb
from causalbench.baselines.groupdro import algorithm1_step
from causalbench.baselines.nets import mlp
from causalbench.methods import make_task, method_spec

N = 5000


def test_weight_update_is_exponentiated_gradient() -> None:
    """q_t ∝ q_{t-1} exp(eta R_t), so from uniform q after two steps = softmax(eta (R_1 + R_2))."""
    env = cb.make("IRMLinear-v0")
    method = method_spec("groupdro").build(make_task(env, "observational+domains"), eta=0.5)
    method._start(3)
    r1, r2 = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([0.0, 1.0, 3.0])
    loss = method._objective(0, r1, None, None, None)
    method._objective(1, r2, None, None, None)
    expected = torch.softmax(0.5 * (r1 + r2).double(), 0).numpy()
    assert np.allclose(method.group_weights_, expected, rtol=1e-12)
    assert np.allclose(method.weight_history_[1], expected)
    assert float(loss) == pytest.approx(float(torch.dot(torch.softmax(0.5 * r1, 0), r1)), rel=1e-6)


@pytest.fixture(scope="module")
def irm_linear() -> dict:
    env = cb.make("IRMLinear-v0")
    task = make_task(env, "observational+domains")
    data, held_out = env.dataset("domains", n=N, seed=0), env.dataset("domains", n=20_000, seed=1)

    def domain_risks(model) -> np.ndarray:
        loss = (model.predict(held_out.X) - held_out.y) ** 2
        return np.array([loss[held_out.domain == k].mean() for k in (0, 1)])

    # 600 steps of 256 rows (the algorithm's behaviour over a longer run than the default 150 x 1,024 budget)
    budget = {"steps": 600, "batch_size": 256}
    dro = method_spec("groupdro").build(task, seed=0, **budget).fit(data)
    erm = method_spec("groupdro").build(task, seed=0, eta=0.0, **budget).fit(data)  # q stays uniform: ERM-MLP
    return {"dro": dro, "dro_risks": domain_risks(dro), "erm_risks": domain_risks(erm)}


def test_weights_move_toward_the_worst_domain(irm_linear: dict) -> None:
    dro, history = irm_linear["dro"], irm_linear["dro"].weight_history_
    worst = int(np.argmax(irm_linear["erm_risks"]))  # the s = 2 domain (risk ~0.87 vs ~0.31 under ERM)
    assert worst == 1
    assert np.allclose(history.sum(axis=1), 1.0)
    # Log-odds grow by eta * (risk gap, ~0.13 on the standardised target) ~ 0.0013 per step.
    assert 0.5 < history[99, worst] < history[299, worst] < dro.group_weights_[worst]
    assert dro.group_weights_[worst] > 0.6, dro.group_weights_


def test_worst_domain_risk_falls_at_the_cost_of_the_other(irm_linear: dict) -> None:
    dro, erm = irm_linear["dro_risks"], irm_linear["erm_risks"]
    assert dro.max() < erm.max(), (dro, erm)  # paired on the same 20,000 held-out rows
    assert dro.min() > erm.min(), (dro, erm)


def test_algorithm1_step_is_the_papers_update() -> None:
    """Sagawa et al. (2020), Algorithm 1: q'_g = q_g exp(eta l), q = q' / sum q', theta -= lr q_g grad l
    (plus the weight-decay term of plain SGD)."""
    gen = torch.Generator().manual_seed(0)
    net = mlp(3, 8, 1, gen)
    before = copy.deepcopy(net)
    X, y = torch.randn(16, 3, generator=gen), torch.randn(16, generator=gen)
    lr, wd, eta = 0.1, 1e-3, 0.5
    q0 = np.array([0.2, 0.5, 0.3])
    q = algorithm1_step(net, torch.optim.SGD(net.parameters(), lr=lr, weight_decay=wd), q0, 1, X, y, eta, "real")
    loss = ((before(X).reshape(-1) - y) ** 2).mean()
    expected_q = q0 * np.exp(eta * np.array([0.0, loss.item(), 0.0]))
    np.testing.assert_allclose(q, expected_q / expected_q.sum(), rtol=1e-6)
    grads = torch.autograd.grad(loss, list(before.parameters()))
    for p_new, p_old, g in zip(net.parameters(), before.parameters(), grads):
        expected = p_old - lr * (float(q[1]) * g + wd * p_old)
        assert torch.allclose(p_new, expected, atol=1e-6)


def test_algorithm1_samples_one_group_per_step_uniformly() -> None:
    env = cb.make("IRMSynthetic-v0")
    data = env.paper_environments(200, seed=0)
    steps = 600
    dro = method_spec("groupdro").build(make_task(env, "observational+domains"), form="algorithm1", steps=steps,
                                        lr=0.05).fit(data)
    history = np.vstack([np.full(3, 1 / 3), dro.weight_history_])
    ratio = history[1:] / history[:-1]
    # One coordinate grows (exp(eta * loss) > 1), the other two shrink by the same normalising factor.
    up = np.argmax(ratio, axis=1)
    others = np.sort(ratio, axis=1)[:, :2]
    np.testing.assert_allclose(others[:, 0], others[:, 1], rtol=1e-9)
    counts = np.bincount(up, minlength=3)
    assert np.all(np.abs(counts - steps / 3) < 5 * np.sqrt(steps * (1 / 3) * (2 / 3))), counts
    pred = dro.predict(data.X)
    assert pred.shape == (data.n,) and np.all(np.isfinite(pred))
