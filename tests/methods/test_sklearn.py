"""The scikit-learn adapter: estimator type checked against the target kind, probabilities found by class, hard labels warned."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import causalbench as cb
from causalbench.experiments.config import RunConfig
from causalbench.experiments.sweep import plan_run
from causalbench.methods import METHODS, from_sklearn, make_task, register_method
from causalbench.methods.sklearn import positive_class_probability
from causalbench.testing import one_line_error

sklearn = pytest.importorskip("sklearn", reason="the adapter needs scikit-learn: pip install scikit-learn")
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeClassifier  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

BINARY, REAL = "TreatmentRecovery-v0", "IceCreamShorts-v1"


class NotAnEstimator:
    """fit/predict but no get_params: cannot be cloned per seed."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return X[:, 0]


def _fit(estimator, env_id: str, n: int = 2000):
    env = cb.make(env_id)
    cls = from_sklearn(estimator)
    return env, cls(make_task(env, "observational")).fit(env.dataset(n=n, seed=0))


@pytest.mark.parametrize("estimator, env_id, match", [
    (LinearRegression(), BINARY, "LinearRegression is a regressor; a binary target needs a classifier"),
    (LogisticRegression(), REAL, "LogisticRegression is a classifier; a real-valued target needs a regressor"),
    (NotAnEstimator(), REAL, "NotAnEstimator is not a scikit-learn estimator"),
])
def test_wrong_estimator_type_is_not_applicable_and_never_crashes_a_run(estimator, env_id, match) -> None:
    env = cb.make(env_id)
    cls = from_sklearn(estimator)
    assert match in cls.applicable(make_task(env, "observational"))
    register_method("test-sklearn-mismatch", cls, summary="test", track="observational")
    try:
        jobs, skipped = plan_run(RunConfig(envs=(env_id,), methods=("test-sklearn-mismatch",), seeds=(0,), references=False))
        assert not jobs and match in skipped[0]["reason"]
    finally:
        METHODS.unregister("test-sklearn-mismatch")
    with one_line_error(match):  # fitted directly anyway: a one-line error, not an AttributeError
        cls(make_task(env, "observational")).fit(env.dataset(n=100, seed=0))


def test_matching_estimators_are_applicable() -> None:
    assert from_sklearn(LogisticRegression()).applicable(make_task(cb.make(BINARY), "observational")) is None
    assert from_sklearn(LinearRegression()).applicable(make_task(cb.make(REAL), "observational")) is None


def test_two_column_probabilities_give_p_of_class_one() -> None:
    env, m = _fit(LogisticRegression(), BINARY)
    X = env.dataset(n=500, seed=9).X
    np.testing.assert_array_equal(m.predict(X), m.estimator_.predict_proba(X)[:, 1])
    scores = cb.score(m.predict, env, seed=0, n=500)
    assert np.isfinite(scores.risk_id)

    class Reordered:
        classes_ = np.array([1, 0])

    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    np.testing.assert_array_equal(positive_class_probability(Reordered(), proba, 2), [0.9, 0.2])
    Reordered.classes_ = np.array([0])  # class 1 never seen in training
    np.testing.assert_array_equal(positive_class_probability(Reordered(), proba[:, :1], 2), [0.0, 0.0])


@pytest.mark.parametrize("estimator", [RidgeClassifier(), KNeighborsClassifier(n_neighbors=1)],
                         ids=["no-predict-proba", "one-neighbour"])
def test_hard_label_classifiers_warn_exactly_once(estimator) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env, m = _fit(estimator, BINARY)
        for seed in (1, 2):
            p = m.predict(env.dataset(n=300, seed=seed).X)
    hard = [w for w in caught if issubclass(w.category, UserWarning) and "hard 0/1 labels" in str(w.message)]
    assert len(hard) == 1, [str(w.message) for w in caught]
    assert set(np.unique(p)) <= {0.0, 1.0}


def test_probabilistic_classifier_does_not_warn() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env, m = _fit(LogisticRegression(), BINARY)
        m.predict(env.dataset(n=300, seed=1).X)
    assert not [w for w in caught if "hard 0/1 labels" in str(w.message)]
