"""What the default run must show, asserted on a reduced run (issue: the main job).

These are findings about the benchmark, not tuned targets. Where the data disagree with
the causal-confusion thesis (ERM's *averaged* OOD score beats the oracle's on
IceCreamShorts, because ice cream proxies the hidden temperature and the heatwave shift
leaves that proxy intact), the test asserts what is found and the README explains it.
"""

from __future__ import annotations

import numpy as np
import pytest

import causalbench as cb
from causalbench.reports.records import final_stage, group
from causalbench.experiments.config import RunConfig
from causalbench.experiments.results import read_records
from causalbench.experiments.sweep import run

ENVS = ("IceCreamShorts-v0", "IRMLinear-v0", "LabelFlip-v0", "RandomSCM-v0")
METHODS = ("erm-linear", "causal-oracle", "erm-linear-int", "continual", "online-bandit")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    config = RunConfig(envs=ENVS, methods=METHODS, seeds=(0, 1), n_train=3000, n_test=2000, budget=10_000)
    records = read_records(run(config, out=tmp_path_factory.mktemp("findings"), jobs=2, progress=False))
    final = group(final_stage(records), "env_id", "method")
    return records, final


def mean(final, env: str, method: str, fn) -> float:
    return float(np.mean([fn(r["scores"]) for r in final[(env, method)]]))


def link_shift_ood(env_id: str):
    """Mean normalised OOD risk over the shifts that break or reverse the spurious link (checked
    against the scorer's own `ood_link`)."""
    env = cb.make(env_id)
    names = [s.test_name(v) for s in env.shifts if s.kind in ("spurious_break", "spurious_reversal") for v in s.severities]

    def fn(scores: dict) -> float:
        value = float(np.mean([scores["ood"][k] for k in names]))
        assert value == pytest.approx(scores["ood_link"])
        return value

    return fn


@pytest.mark.parametrize("env", ENVS)
def test_erm_leans_on_spurious_features_and_fails_when_the_link_breaks(results, env) -> None:
    _, final = results
    spur = lambda s: s["spurious_reliance"]  # noqa: E731
    assert mean(final, env, "erm-linear", spur) > mean(final, env, "causal-oracle", spur) + 0.3
    assert mean(final, env, "erm-linear", link_shift_ood(env)) > 0.25
    assert abs(mean(final, env, "causal-oracle", link_shift_ood(env))) < 0.15


def test_averaged_ood_score_is_worse_for_erm_except_where_a_proxy_survives(results) -> None:
    _, final = results
    ood = lambda s: s["ood_score"]  # noqa: E731
    for env in ("IRMLinear-v0", "LabelFlip-v0", "RandomSCM-v0"):
        assert mean(final, env, "erm-linear", ood) > mean(final, env, "causal-oracle", ood) + 0.1
    # Found, not tuned: on IceCreamShorts the spurious feature tracks the hidden temperature, and the
    # confounder (heatwave) and covariate shifts keep that link, so ERM's average beats the oracle's.
    assert mean(final, "IceCreamShorts-v0", "erm-linear", ood) < mean(final, "IceCreamShorts-v0", "causal-oracle", ood)


@pytest.mark.parametrize("env", ENVS)
def test_interventional_data_reduces_reliance_and_effect_error(results, env) -> None:
    _, final = results
    for metric in ("spurious_reliance", "effect_error"):
        fn = lambda s, m=metric: s[m]  # noqa: E731
        assert mean(final, env, "erm-linear-int", fn) < 0.7 * mean(final, env, "erm-linear", fn)
    assert mean(final, env, "erm-linear-int", link_shift_ood(env)) < mean(final, env, "erm-linear", link_shift_ood(env))


def test_online_interaction_fixes_decisions(results) -> None:
    _, final = results
    env = "IceCreamShorts-v0"
    assert mean(final, env, "erm-linear", lambda s: s["regret"]) == pytest.approx(1.0)
    assert mean(final, env, "online-bandit", lambda s: s["regret"]) < 0.05
    spur = lambda s: s["spurious_reliance"]  # noqa: E731
    assert mean(final, env, "online-bandit", spur) < 0.3 * mean(final, env, "erm-linear", spur)
    # The bandit's effect error is the sampling error (and selection bias) of the arms it rarely plays:
    # at this budget 0.03-0.18 over bandit seeds 0-11 (median 0.07-0.09), against ERM's 0.53.
    effect = lambda s: s["effect_error"]  # noqa: E731
    assert mean(final, env, "online-bandit", effect) < 0.5 * mean(final, env, "erm-linear", effect)


def test_continual_fine_tuning_stays_confused_at_every_stage(results) -> None:
    records, _ = results
    stages = [r for r in records if r["method"] == "continual" and r["env_id"] == "IceCreamShorts-v0"]
    assert {r["stage"] for r in stages} == {0, 1}
    assert all(r["scores"]["spurious_reliance"] > 0.6 for r in stages)
