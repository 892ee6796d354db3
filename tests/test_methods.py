"""Every registered method passes the conformance check (parametrised over the registry)."""

from __future__ import annotations

import numpy as np
import pytest

import causalbench as cb
from causalbench.methods import METHODS, TRACKS, from_sklearn, make_task, method_spec, register_method
from causalbench.testing import check_method, one_line_error


@pytest.mark.parametrize("name", METHODS.names())
def test_conformance(name: str) -> None:
    check_method(name)


@pytest.mark.parametrize("name", METHODS.names())
def test_registration_is_complete(name: str) -> None:
    spec = method_spec(name)
    assert spec.track in TRACKS and spec.summary
    assert spec.cls.__doc__, f"{name}: a one-line docstring saying what and why"


def test_sklearn_adapter() -> None:
    from sklearn.linear_model import LinearRegression

    register_method("test-sklearn-ols", from_sklearn(LinearRegression()), summary="test", track="observational")
    try:
        check_method("test-sklearn-ols", "IceCreamShorts-v1")
        env = cb.make("IceCreamShorts-v1")
        m = method_spec("test-sklearn-ols").build(make_task(env, "observational")).fit(env.dataset(n=20_000, seed=0))
        assert 0.55 < m.estimator_.coef_[0] < 0.7
    finally:
        METHODS.unregister("test-sklearn-ols")


def test_bad_hyperparameter_and_privileges() -> None:
    env = cb.make("IceCreamShorts-v1")
    with one_line_error("no hyper-parameter"):
        method_spec("erm-linear").build(make_task(env, "observational"), bananas=3)
    with one_line_error("privileged"):
        make_task(env, "observational").causal_columns()
    assert make_task(env, "observational", privileged=True).causal_columns() == [1]


def test_erm_linear_recovers_known_slope() -> None:
    env = cb.make("IceCreamShorts-v1")
    m = method_spec("erm-linear").build(make_task(env, "observational")).fit(env.dataset(n=200_000, seed=0))
    beta = 2 * 1.5 * 1.25 / (4 * 1.25 + 1)
    assert abs(m.weights()[0] - beta) < 0.01 and abs(m.weights()[1] - 2.0) < 0.03
    assert np.all(np.diff(m.predict(np.array([[0.0, 0.0], [1.0, 0.0]]))) > 0)
