"""The isolating executor: the same scores as in-process training, arrays only, and clear failures at the limits."""

from __future__ import annotations

import importlib
import sys

import pytest

from causalbench.experiments.config import Job
from causalbench.experiments.isolation import Isolated, IsolationError
from causalbench.experiments.job import run_job
from causalbench.leaderboard.evaluate import evaluate_method
from causalbench.leaderboard.format import SuiteSpec
from causalbench.testing import one_line_error

QUICK = dict(n_train=300, n_test=200, budget=1500, num_envs=32, hparams=(("steps", 30),))


@pytest.mark.parametrize("env_id, method", [
    ("IRMLinear-v0", "erm-linear"),              # static
    ("IceCreamShorts-v1", "continual"),          # one worker, two stages
    ("TreatmentRecovery-v0", "online-bandit"),   # a vector env proxy
    ("Copycat-v0", "tabular-q"),                 # a single multi-step env proxy
    ("LabelFlip-v0", "vrex-int"),                # interventional data: the mask crosses as an array
])
def test_isolated_training_scores_exactly_as_in_process(env_id, method) -> None:
    job = Job(env_id, method, 1, env_options=(("instance", 424242),), **QUICK)
    here = run_job(job).records
    there = run_job(job, executor=Isolated()).records
    assert len(here) == len(there)
    for a, b in zip(here, there):
        assert b["isolated"] is True and a["scores"] == b["scores"]
        assert a.get("train_fingerprint") == b.get("train_fingerprint") and a["stage_domain"] == b["stage_domain"]


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """Methods that break the rules, importable here and in the workers (which get our sys.path)."""
    folder = tmp_path_factory.mktemp("broken")
    (folder / "cbtest_broken.py").write_text('''
import time
import numpy as np
from causalbench.methods import Method


class Fine(Method):
    def fit(self, data):
        self.mean_ = float(np.mean(data.y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class Sleeper(Fine):
    def fit(self, data):
        time.sleep(600)


class Hog(Fine):
    def fit(self, data):
        self.hog_ = np.ones(1 << 29)   # 4 GiB


class Crasher(Fine):
    def fit(self, data):
        raise ValueError("the method broke")


class Exiter(Fine):
    def fit(self, data):
        import os
        os._exit(3)


def _ridge():
    from sklearn.linear_model import Ridge
    from causalbench.methods import from_sklearn

    return from_sklearn(Ridge(alpha=1.0))


SkRidge = _ridge()
''')
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    yield "cbtest_broken"
    sys.path.remove(str(folder))


@pytest.mark.parametrize("cls, limits, message", [
    ("Sleeper", Isolated(seconds=3), "exceeded the time limit of 3 s"),
    ("Hog", Isolated(memory=1 << 30), "MemoryError: the method ran out of its memory limit"),
    ("Crasher", Isolated(), "ValueError: the method broke"),
    ("Exiter", Isolated(), "the worker process died (exit code 3"),
])
def test_a_job_over_its_limits_is_a_one_line_failure_record(broken, cls, limits, message) -> None:
    suite = SuiteSpec("one-v1", ("IRMLinear-v0",), (0,), 50, n_train=100, instances=1)
    entry = evaluate_method(f"{broken}:{cls}", suite, executor=limits, jobs=1)
    assert entry["coverage"] == [0, 1] and set(entry["failures"]) == {"IRMLinear-v0"}
    why = entry["failures"]["IRMLinear-v0"]
    assert message in why and "\n" not in why and why.startswith(f"{broken}:{cls} on IRMLinear-v0 (seed 0)"), why


def test_the_same_limits_let_an_honest_method_through(broken) -> None:
    job = Job("IRMLinear-v0", f"{broken}:Fine", 0, n_train=100, n_test=50, env_options=(("instance", 7),))
    assert run_job(job, executor=Isolated(seconds=3, memory=1 << 30)).records[-1]["isolated"] is True
    with one_line_error("ValueError: the method broke", kind=IsolationError):
        run_job(Job("IRMLinear-v0", f"{broken}:Crasher", 0, n_train=100, n_test=50), executor=Isolated())


def test_sklearn_methods_and_their_limits_of_importability(broken) -> None:
    """A from_sklearn class at module level runs isolated by its "module:name" spec; a class that exists only in
    the harness process cannot reach a worker, which is a one-line failure, not a crash."""
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install scikit-learn)")
    from causalbench.methods import METHODS, Method, register_method

    suite = SuiteSpec("one-v1", ("IRMLinear-v0",), (0,), 50, n_train=100, instances=1)
    assert evaluate_method(f"{broken}:SkRidge", suite, jobs=1)["coverage"] == [1, 1]

    class Local(Method):
        def fit(self, data):
            return self

    register_method("test-local-only", Local, summary="exists only in this process", track="observational")
    try:
        entry = evaluate_method("test-local-only", suite, jobs=1)
    finally:
        METHODS.unregister("test-local-only")
    assert "cannot import the method in an isolated worker" in entry["failures"]["IRMLinear-v0"]
