"""Model selection as a protocol: distributions, draws, DomainBed's two strategies and `select`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import causalbench as cb
from causalbench.data import Dataset
from causalbench.methods import METHODS, Method, make_task, method_spec, register_method, select
from causalbench.methods.selection import (Choice, IntLogUniform, LeaveOneDomainOut, LogUniform, TrainingDomainValidation,
                                           Uniform, draw, risk, search_space, selected_hparams, strategy_for)
from causalbench.testing import one_line_error


@dataclass(frozen=True)
class OffsetParams:
    """offset added to the training mean."""

    offset: float = 2.5
    unused: int = 0

    def search_space(self) -> dict[str, Any]:
        return {"offset": Uniform(-3.0, 3.0)}


class MeanPlusOffset(Method):
    """Predicts the training mean of y plus `offset`: its validation risk is known in closed form."""

    Params = OffsetParams

    def fit(self, data: Dataset) -> "MeanPlusOffset":
        self.mean_ = float(np.mean(data.y))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return np.full(len(X), self.mean_ + self.params.offset)


@pytest.fixture
def offset_method():
    register_method("test-offset", MeanPlusOffset, summary="test", track="observational+domains")
    yield "test-offset"
    METHODS.unregister("test-offset")


def test_distributions_sample_their_laws() -> None:
    gen = np.random.default_rng(0)
    n = 4000
    lu = np.array([LogUniform(1e-4, 1e2).sample(gen) for _ in range(n)])
    assert lu.min() >= 1e-4 and lu.max() <= 1e2
    # log10 of a log-uniform draw is U(-4, 2): mean -1, sd 6 / sqrt(12); 5 standard errors.
    assert abs(np.log10(lu).mean() + 1) < 5 * (6 / np.sqrt(12)) / np.sqrt(n)
    ints = [IntLogUniform(8, 512).sample(gen) for _ in range(200)]
    assert all(isinstance(i, int) and 8 <= i <= 512 for i in ints)
    assert set(Choice((1, 2, 3)).sample(gen) for _ in range(200)) == {1, 2, 3}
    u = np.array([Uniform(-1.0, 3.0).sample(gen) for _ in range(n)])
    assert abs(u.mean() - 1) < 5 * (4 / np.sqrt(12)) / np.sqrt(n) and u.min() >= -1 and u.max() <= 3


def test_draws_are_deterministic_and_trial_zero_is_the_base() -> None:
    base = method_spec("irm").cls.Params()
    assert draw(base, 0, "irm", seed=0) is base
    a, b, c = draw(base, 3, "irm", seed=0), draw(base, 3, "irm", seed=0), draw(base, 3, "irm", seed=1)
    assert a == b and a != c and a != base
    space = search_space(base)
    for name, value in dataclasses.asdict(a).items():
        if name not in space:
            assert value == getattr(base, name)
    assert 10 ** -4.5 <= a.lr <= 10 ** -2.5 and 1 <= a.anneal_steps <= base.steps


def test_search_spaces_follow_the_form() -> None:
    irm = method_spec("irm").cls.Params
    assert "penalty_weight" in search_space(irm()) and "regs" not in search_space(irm())
    assert set(search_space(irm(form="linear"))) == {"regs", "lr"}
    assert search_space(irm(form="linear", regs=(0.0, 0.1))) == {}   # the paper's own selection
    assert "eta" in search_space(method_spec("groupdro").cls.Params())
    assert search_space(method_spec("online-bandit").cls.Params()) == {}


def test_training_domain_split_is_stratified_and_deterministic() -> None:
    data = cb.make("IRMLinear-v0").dataset("domains", n=1001, seed=0)
    [split] = TrainingDomainValidation().splits(data, seed=5)
    for k, m in enumerate(np.bincount(data.domain)):
        assert (split.validation.domain == k).sum() == round(0.2 * m)
    assert split.train.n + split.validation.n == data.n
    train_rows = {tuple(r) for r in split.train.X}
    assert not train_rows & {tuple(r) for r in split.validation.X}
    [again] = TrainingDomainValidation().splits(data, seed=5)
    assert np.array_equal(again.validation.X, split.validation.X)
    [other] = TrainingDomainValidation().splits(data, seed=6)
    assert not np.array_equal(other.validation.X, split.validation.X)


def test_leave_one_domain_out_needs_three_domains() -> None:
    env = cb.make("IRMSynthetic-v0")
    three = env.paper_environments(100, seed=0)
    assert isinstance(strategy_for(three), LeaveOneDomainOut)
    splits = LeaveOneDomainOut().splits(three, seed=0)
    assert [set(s.validation.domain) for s in splits] == [{0}, {1}, {2}]
    assert all(set(s.train.domain) == {0, 1, 2} - set(s.validation.domain) for s in splits)
    two = env.dataset("domains", n=100, seed=0)
    assert isinstance(strategy_for(two), TrainingDomainValidation)
    with one_line_error(">= 3"):
        LeaveOneDomainOut().splits(two, seed=0)


@pytest.mark.parametrize("strategy", ["training-domain", "leave-one-domain-out"])
def test_select_finds_the_offset_with_the_lowest_validation_risk(offset_method: str, strategy: str) -> None:
    """Known answer: predicting train-mean + c has validation risk Var_val + (c - (mean_val - mean_train))^2,
    so the best trial is the one whose offset is closest to the mean gap, computed here from the splits."""
    env = cb.make("IRMSynthetic-v0")
    data = env.paper_environments(300, seed=1)
    task = make_task(env, "observational+domains")
    best, log = select(offset_method, task, data, trials=12, seed=3, strategy=strategy)
    assert len(log) == 12 and sum(t["selected"] for t in log) == 1 and log[0]["hparams"]["offset"] == 2.5
    splits = strategy_for(data, strategy).splits(data, seed=3)
    for t in log:
        expected = []
        for s in splits:
            gaps = [(t["hparams"]["offset"] + s.train.y.mean() - s.validation.y[s.validation.domain == g]) ** 2
                    for g in np.unique(s.validation.domain)]
            expected.append(np.mean([g.mean() for g in gaps]))
        assert t["score"] == pytest.approx(np.mean(expected), rel=1e-12)
    assert best.offset == min((t["hparams"]["offset"] for t in log),
                              key=lambda c: np.mean([[np.mean((c + s.train.y.mean() - s.validation.y[s.validation.domain == g]) ** 2)
                                                      for g in np.unique(s.validation.domain)] for s in splits]))
    assert selected_hparams(log) == dataclasses.asdict(best)
    assert select(offset_method, task, data, trials=12, seed=3, strategy=strategy)[1] == log


def test_select_runs_every_method_the_same_number_of_trials_and_dedupes() -> None:
    env = cb.make("IceCreamShorts-v1")
    data = env.dataset("observational", n=300, seed=0)
    task = make_task(env, "observational")
    best, log = select("erm-linear", task, data, trials=4, seed=0)
    assert len(log) == 4 and len({t["hparams"]["ridge"] for t in log}) == 4
    assert risk("real", np.zeros(2), np.array([1.0, 3.0])) == 5.0


def test_select_rejects_online_methods_and_bad_trials() -> None:
    env = cb.make("IceCreamShorts-v1")
    data = env.dataset("observational", n=100, seed=0)
    with one_line_error("online"):
        select("online-bandit", make_task(env, "online"), data, trials=2)
    with one_line_error("trials"):
        select("erm-linear", make_task(env, "observational"), data, trials=0)


@dataclass(frozen=True)
class FixedParams:
    """no search space: every trial is the defaults."""

    offset: float = 0.0


class MeanOnly(MeanPlusOffset):
    """MeanPlusOffset without a search space."""

    Params = FixedParams


def test_select_trains_identical_trials_once_and_handles_continual_methods() -> None:
    env = cb.make("IRMLinear-v0")
    data = env.dataset("domains", n=200, seed=0)
    register_method("test-fixed", MeanOnly, summary="test", track="observational+domains")
    try:
        best, log = select("test-fixed", make_task(env, "observational+domains"), data, trials=5, seed=0)
    finally:
        METHODS.unregister("test-fixed")
    assert best == FixedParams() and [t["same_as"] for t in log] == [None, 0, 0, 0, 0]
    assert len({t["score"] for t in log}) == 1 and log[0]["selected"]
    best, log = select("continual", make_task(env, "observational+domains"), data, trials=2, seed=0)
    assert len(log) == 2 and type(best).__name__ == "ContinualParams"
