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


def test_oracle_beats_null_on_id_and_most_shifts(env) -> None:
    s = cb.score(env.oracle, env, seed=0) if env.feature_names == env.variables else cb.score(
        lambda X: np.full(len(X), env.null_prediction), env, seed=0)  # the gap uses the scorer's own references
    gaps = {k: s.null_risk[k] - s.oracle_risk[k] for k in s.null_risk}
    positive = [k for k, g in gaps.items() if g > 0]
    assert len(positive) >= 0.6 * len(gaps), f"{env.id}: oracle no better than null on {gaps}"


def test_oracle_is_a_conditional_expectation(env) -> None:
    """E[(Y - oracle(C)) g(C)] = 0 for test functions g of the causal features (within 5 SE)."""
    n = 40_000
    sample = env.mixture(n, 123, "oracle-check").sample()
    V = sample.columns(env.variables)
    r = sample[env.target] - env.oracle(V)
    C = sample.columns(env.causal_variables)
    tests = [np.ones(n)] + [C[:, j] for j in range(C.shape[1])] + [np.sign(C[:, j] - np.median(C[:, j])) for j in range(C.shape[1])]
    for g in tests:
        g = (g - g.mean()) / (g.std() or 1.0) if g.std() > 0 else g
        prod = r * g
        assert abs(prod.mean()) < 5 * prod.std() / np.sqrt(n) + 1e-12


def _exact_effect_cases() -> list:
    """(env id, variable) pairs with an exact E[Y | do(X = a)]: only what can be checked is parametrised."""
    cases = []
    for env_id in ENV_IDS:
        env = cb.make(env_id)
        cases += [pytest.param(env_id, v, id=f"{env_id}-{v}") for v in env.variables
                  if env.true_effect(v, env.effect_grid(v)[:1]) is not None]
    return cases


EXACT_EFFECT_CASES = _exact_effect_cases()


def test_most_envs_publish_exact_effects() -> None:
    assert len({c.values[0] for c in EXACT_EFFECT_CASES}) >= len(ENV_IDS) - 1


@pytest.mark.parametrize("env_id, variable", EXACT_EFFECT_CASES)
def test_exact_effects_match_paired_monte_carlo(env_id, variable) -> None:
    from causalbench.env.effects import estimate_effect

    env = cb.make(env_id)
    grid = env.effect_grid(variable)[:3]
    truth = env.true_effect(variable, grid)
    assert truth is not None
    mc, se = estimate_effect(env, variable, grid, n=50_000)
    assert np.all(np.abs(mc - truth) < 5 * se + 1e-9), (variable, mc, truth, se)


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


def test_native_vector_env(env) -> None:
    if ENVS.entry(env.id).meta.get("gym_entry_point"):
        pytest.skip(f"{env.id} is a multi-step env with its own gymnasium class (SyncVectorEnv)")
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
