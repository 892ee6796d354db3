"""Every registered environment, parametrised over the registry: a new env is covered on registration."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import causalbench as cb
from causalbench.env.registry import ENVS
from causalbench.env.gym_registration import NAMESPACE
from causalbench.testing import check_bayes_predictors, check_causal_reference

ENV_IDS = cb.list_envs()
SECTIONS = ("## Description", "## Variables", "## Roles", "## Domains", "## Shifts", "## Version History")


@pytest.fixture(scope="module", params=ENV_IDS)
def env(request):
    return cb.make(request.param)


def test_registry_has_at_least_eight_versioned_ids() -> None:
    assert len(ENV_IDS) >= 8
    assert all(e.summary for e in ENVS.entries())


def test_structure_and_documentation(env) -> None:
    doc = inspect.getdoc(type(env)) or ""
    missing = [s for s in SECTIONS if s not in doc]
    assert not missing, f"{env.id} docstring lacks {missing}"
    assert len(env.shifts) >= 3 and all(len(s.severities) >= 2 for s in env.shifts)
    kinds = {s.kind for s in env.shifts}
    assert kinds & {"spurious_break", "spurious_reversal"} and "causal_covariate" in kinds
    assert "confounder" in kinds or not env.scm.hidden, "an env with a hidden confounder must shift it"
    assert env.spurious_variables and env.causal_variables
    assert env.scm.hidden or len(env.domains) > 1, "confusion needs a hidden confounder or varying domains"
    assert env.target_kind in ("real", "binary")


def test_datasets_all_kinds(env) -> None:
    for kind in ("observational", "domains", "interventional"):
        d = env.dataset(kind, n=300, seed=1)
        assert d.X.shape[0] == 300 and d.X.shape[1] == len(env.feature_names)
        assert np.all(np.isfinite(d.X)) and np.all(np.isfinite(d.y))
        assert not set(d.feature_names) & set(env.scm.hidden) and env.target not in d.feature_names
        assert d.fingerprint == env.dataset(kind, n=300, seed=1).fingerprint
        assert d.fingerprint != env.dataset(kind, n=300, seed=2).fingerprint
    assert env.dataset("interventional", n=300, seed=1).intervened.any()


def test_identical_dataset_in_a_fresh_process(env) -> None:
    code = ("import causalbench as cb, json, sys; o = json.loads(sys.argv[2]); "
            "print(cb.make(sys.argv[1], **o).dataset('interventional', n=500, seed=7).fingerprint)")
    out = subprocess.run([sys.executable, "-c", code, env.id, json.dumps(env.options)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == env.dataset("interventional", n=500, seed=7).fingerprint


def test_test_sets(env) -> None:
    sets = env.test_sets(seed=0, n=200)
    assert list(sets) == env.test_set_names() and sets["id"].n == 200
    assert len(sets) >= 1 + 2 * 3


def test_bayes_predictor_of_every_test_set_is_a_conditional_expectation(env) -> None:
    """E[(Y - Bayes_t(X)) g(X)] = 0 on a fresh large sample of each test distribution, for test functions g of the
    observed variables (within 5 standard errors): an independent Monte-Carlo check of the exact truth."""
    check_bayes_predictors(env)


def test_causal_reference_matches_monte_carlo_interventions(env) -> None:
    """E[Y | do(X = x)] at a few observed rows x against the mean of Y over paired units under that do()."""
    check_causal_reference(env)


def test_references_in_distribution(env) -> None:
    """The training Bayes predictor has no excess risk in distribution, and no reference beats it there."""
    from causalbench.scoring import get_suite, score_predictions

    suite = get_suite(env, 0, 2000)
    refs = {"bayes": lambda V: env.truth.bayes(V, "id"), "causal": env.truth.causal_reference,
            "null": lambda V: np.full(len(V), env.truth.null)}
    scores = {}
    for name, fn in refs.items():
        preds = {k: np.nan_to_num(fn(V), nan=env.truth.null) for k, V in suite.latents.items()}
        scores[name] = score_predictions(preds, env, 0, 2000)
    assert scores["bayes"].excess_risk_id == 0.0
    assert scores["causal"].excess_risk_id >= 0.0 and scores["null"].excess_risk_id > 0.0
    assert scores["causal"].spurious_reliance == 0.0 and scores["null"].reliance_defined is False


def _exact_effects() -> list[tuple[str, str]]:
    out = []
    for e in ENV_IDS:
        env = cb.make(e)
        out += [(e, v) for v in env.variables if env.truth.true_effect(v, env.truth.effect_grid(v)[:1]) is not None]
    return out


EXACT_EFFECTS = _exact_effects()


@pytest.mark.parametrize("env_id, variable", EXACT_EFFECTS)
def test_exact_effects_match_paired_monte_carlo(env_id, variable) -> None:
    env = cb.make(env_id)
    grid = env.truth.effect_grid(variable)[:3]
    truth = env.truth.true_effect(variable, grid)
    mc, se = env.truth.estimate_effect(variable, grid, n=50_000)
    assert np.all(np.abs(mc - truth) < 5 * se + 1e-9), (variable, mc, truth, se)


def test_only_the_random_family_lacks_exact_effects() -> None:
    """Effects without a closed form are Monte-Carlo estimates with standard errors: say exactly where."""
    without = {e for e in ENV_IDS if not any(env_id == e for env_id, _ in EXACT_EFFECTS)}
    assert without == {e for e in ENV_IDS if e.startswith("RandomSCM")}


def test_describe_mentions_every_variable(env) -> None:
    text = env.describe()
    assert env.id in text and all(v in text for v in env.scm.names)


def test_gym_env_passes_checker_and_is_deterministic(env) -> None:
    g = gym.make(f"{NAMESPACE}/{env.id}")
    check_env(g.unwrapped, skip_render_check=True)

    def rollout(seed: int) -> list:
        g.action_space.seed(seed)
        obs, _ = g.reset(seed=seed)
        out = [obs.tolist()]
        for _ in range(15):
            obs, r, term, trunc, _ = g.step(g.action_space.sample())
            out.append((np.asarray(obs).tolist(), float(r)))
            if term or trunc:
                obs, _ = g.reset()
                out.append(np.asarray(obs).tolist())
        return out

    assert rollout(3) == rollout(3)
    assert rollout(3) != rollout(4)


@pytest.mark.parametrize("env_id", [e for e in ENV_IDS if not cb.make(e).episodic])
def test_native_vector_env(env_id) -> None:
    env = cb.make(env_id)
    v = gym.make_vec(f"{NAMESPACE}/{env.id}", num_envs=64, vectorization_mode="vector_entry_point")
    assert v.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    obs, _ = v.reset(seed=0)
    width = len(env.context_variables) if env.action else len(env.feature_names)
    assert obs.shape == (64, width) and v.observation_space.contains(obs)
    v.action_space.seed(0)
    obs2, r, term, trunc, info = v.step(v.action_space.sample())
    assert r.shape == (64,) and term.all() and not trunc.any() and np.all(np.isfinite(r))
    assert v.observation_space.contains(obs2)
    v2 = gym.make_vec(f"{NAMESPACE}/{env.id}", num_envs=64, vectorization_mode="vector_entry_point")
    again, _ = v2.reset(seed=0)
    assert np.array_equal(obs, again)
