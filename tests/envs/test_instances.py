"""Hidden instances, parametrised over the registry: deterministic in the seed, different from the public
instance, anonymised where observations are plain columns, and with exact truth that passes the same
Monte-Carlo checks as the public instance's (tests/test_envs.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import causalbench as cb
from causalbench.env.instances import INSTANCE_SEED_BOUND, InstanceSpace, Param, column_map
from causalbench.errors import CausalBenchError
from causalbench.methods import make_task
from causalbench.testing import check_bayes_predictors, check_causal_reference, one_line_error

ENV_IDS = cb.list_envs()
SEED = 20240607   # the instance drawn for the truth checks (any seed must pass)


@pytest.fixture(scope="module", params=ENV_IDS)
def pair(request):
    """(public instance, a hidden instance) of one family."""
    return cb.make(request.param), cb.make(request.param, instance=SEED)


def test_an_instance_is_a_pure_function_of_its_seed(pair) -> None:
    public, inst = pair
    again = cb.make(public.id, instance=SEED)
    assert again.instance == inst.instance and again.scm.hash == inst.scm.hash and again.columns == inst.columns
    for kind in ("observational", "domains", "interventional"):
        assert again.dataset(kind, n=200, seed=3).fingerprint == inst.dataset(kind, n=200, seed=3).fingerprint
    other = cb.make(public.id, instance=SEED + 1)
    assert other.dataset(n=200, seed=3).fingerprint != inst.dataset(n=200, seed=3).fingerprint


def test_the_same_instance_in_a_fresh_process(pair) -> None:
    _, inst = pair
    code = ("import causalbench as cb, json, sys; o = json.loads(sys.argv[2]); "
            "e = cb.make(sys.argv[1], **o); print(e.scm.hash, e.dataset('interventional', n=300, seed=7).fingerprint)")
    out = subprocess.run([sys.executable, "-c", code, inst.id, json.dumps(inst.options)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == [inst.scm.hash, inst.dataset("interventional", n=300, seed=7).fingerprint]


def test_an_instance_differs_from_the_public_one(pair) -> None:
    public, inst = pair
    assert public.instance.public and not inst.instance.public and public.options.get("instance") is None
    assert inst.options["instance"] == SEED
    # Its streams are keyed by the secret seed: no public dataset of any seed reproduces its data.
    X = inst.dataset(n=500, seed=0).X
    for seed in range(5):
        assert not np.array_equal(public.dataset(n=500, seed=seed).X, X)
    if inst.instance_space.params and not public.episodic:
        assert inst.scm.hash != public.scm.hash
        assert inst.instance.params != public.instance.params
    assert inst.dataset(n=10, seed=0).X.shape[1] == len(public.feature_names)


def test_columns_are_anonymised_where_observations_are_plain_columns(pair) -> None:
    public, inst = pair
    task = make_task(inst, "observational")
    named = {v for v in public.scm.names if not re.fullmatch(r"x\d+", v)} - {"y"}   # x0, x07, ...: anonymous already
    text = json.dumps({k: v for k, v in vars(task).items() if k != "env_id"}, default=str)
    assert not any(f'"{name}"' in text for name in named), text   # no latent name in what a method is told
    assert task.target == "y" and task.roles is None
    if inst.instance_space.columns:
        assert inst.columns is not None and inst.feature_names == tuple(f"x{i}" for i in range(len(inst.variables)))
        # The layout is the instance's: rendering is a permutation (with reversed codes) of the variables.
        V = inst.dataset(n=50, seed=0)
        latent = inst.test_sample("id", 0, 50)[0].columns(inst.variables)
        X = inst.render(latent)
        for i, j in enumerate(inst.columns.order):
            expect = latent[:, j] if not inst.columns.flip[i] else inst.columns.flip[i] - latent[:, j]
            assert np.array_equal(X[:, i], expect)
        assert V.feature_names == inst.feature_names
        if inst.action is not None:
            assert task.action == inst.feature_of(inst.action) and 0 == inst.columns.flip[
                inst.columns.column_of(inst.variables.index(inst.action))]
    else:
        assert inst.columns is None


def test_instance_truth_is_exact(pair) -> None:
    """The same exact-vs-Monte-Carlo checks as the public instance's truth (tests/test_envs.py)."""
    _, inst = pair
    check_bayes_predictors(inst)
    check_causal_reference(inst)


def test_layouts_cover_every_permutation_and_only_discrete_codes_flip() -> None:
    cards = (None, 2, 3)
    seen, flipped = set(), set()
    for seed in range(60):
        cm = column_map(seed, "Family-v0", cards, fixed=(1,))
        seen.add(cm.order)
        flipped |= {cm.order[i] for i, f in enumerate(cm.flip) if f}
        assert all(cards[j] is not None and f == cards[j] - 1 for j, f in zip(cm.order, cm.flip) if f)
    assert len(seen) == 6 and flipped == {2}   # variable 0 is real, variable 1 is the (fixed) action


def test_parameter_draws_stay_in_their_documented_ranges() -> None:
    for env_id in ENV_IDS:
        space = type(cb.make(env_id)).instance_space
        for seed in range(25):
            drawn = space.draw(seed, env_id)
            for p in space.params:
                value = abs(drawn[p.name]) if p.signed else drawn[p.name]
                assert p.low <= value <= p.high, (env_id, p.name, drawn[p.name])
        assert space.describe()


def test_bad_instance_seeds_are_one_line_errors() -> None:
    for bad in (-1, 1.5, "3", True, INSTANCE_SEED_BOUND):
        with one_line_error("instance must be an integer"):
            cb.make("IRMLinear-v0", instance=bad)
    with one_line_error("duplicate"):
        InstanceSpace((Param("a", 1, 0, 2), Param("a", 1, 0, 2)))
    with pytest.raises(CausalBenchError):
        Param("a", 1, 2, 0)


def test_privileged_roles_name_feature_columns_wherever_features_are_variables(pair) -> None:
    _, inst = pair
    task = make_task(inst, "observational", privileged=True)
    if inst.columnar:
        assert set(task.roles) == set(inst.feature_names) and task.variables == inst.feature_names
        assert [task.feature_names[j] for j in task.causal_columns()] == [
            inst.feature_of(v) for v in inst.variables if inst.roles[v] in ("causal", "action")
            ] or sorted(task.causal_columns()) == sorted(inst.feature_names.index(inst.feature_of(v))
                                                         for v in inst.causal_variables)
    else:   # rendered observations: roles belong to latent variables no column shows
        assert task.roles == {} and inst.feature_of(inst.variables[0]) is None
