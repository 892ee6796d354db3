"""scaled-mlp: the schedule it documents, exact compute accounting, determinism, data order, warm starts."""

from __future__ import annotations

import numpy as np
import pytest

import causalbench as cb
from causalbench.errors import CausalBenchError
from causalbench.methods import make_task, method_spec
from causalbench.testing import one_line_error

ENV = "IceCreamShorts-v1"


def build(seed: int = 0, **hp):
    env = cb.make(ENV)
    return method_spec("scaled-mlp").build(make_task(env, "observational"), seed=seed, **hp), env


def test_compute_is_counted_exactly_and_early_stopping_stops() -> None:
    m, env = build(width=16, depth=2)
    d = env.dataset("observational", n=600, seed=0)
    m.fit(d)
    info = m.training_info()
    p = 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1        # 2 inputs -> 16 -> 16 -> 1
    assert info["params"] == p and (info["width"], info["depth"]) == (16, 2)
    stage = info["stage_compute"]
    assert stage["val_rows"] == 60 and stage["train_rows"] == 540
    assert info["samples_seen"] == stage["samples_seen"] and stage["samples_seen"] <= stage["updates"] * 256
    assert info["train_flops"] == 6.0 * p * info["samples_seen"]
    assert stage["stopped"] == "early" and stage["updates"] < m.params.max_updates
    assert stage["updates"] - stage["best_update"] == m.params.patience * 25   # `patience` checks, 25 updates apart


def test_same_seed_same_predictions_other_data_order_other_model() -> None:
    env = cb.make(ENV)
    d = env.dataset("observational", n=400, seed=1)
    X = env.test_sets(seed=3, n=50)["id"].X
    a = build(width=8)[0].fit(d).predict(X)
    b = build(width=8)[0].fit(d).predict(X)
    c = build(width=8, shuffle_seed=7)[0].fit(d).predict(X)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_a_second_fit_continues_from_the_fitted_weights() -> None:
    env = cb.make(ENV)
    m, _ = build(width=8)
    m.fit(env.dataset("observational", n=400, seed=0))
    before = {k: v.clone() for k, v in m.net_.state_dict().items()}
    second = env.dataset("interventional", n=300, seed=5, p=1.0, fraction=1.0)
    m.fit(second)
    info = m.training_info()
    assert info["stage_compute"]["stage"] == 1 and len(m.stages_) == 2
    assert info["updates"] == sum(s["updates"] for s in m.stages_)
    assert not all(np.array_equal(before[k].numpy(), v.numpy()) for k, v in m.net_.state_dict().items())
    fresh, _ = build(width=8)
    fresh.fit(second)
    assert not np.allclose(fresh.predict(second.X), m.predict(second.X))   # not a restart from scratch


def test_bad_settings_are_one_line_errors() -> None:
    env = cb.make(ENV)
    with one_line_error("bad hyper-parameters"):
        build(width=0)[0].fit(env.dataset("observational", n=50, seed=0))
    if not __import__("torch").cuda.is_available():
        with one_line_error("torch sees no GPU"):
            build(device="cuda")[0].fit(env.dataset("observational", n=50, seed=0))


def test_method_is_registered_with_a_warm_start() -> None:
    spec = method_spec("scaled-mlp")
    assert spec.cls.warm_start and spec.protocol == "static" and spec.track == "observational"
    with pytest.raises(CausalBenchError):
        build()[0].predict(np.zeros((2, 2)))
