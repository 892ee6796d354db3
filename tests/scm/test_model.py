"""SCM engine: sampling, interventions, validation errors, serialisation, determinism."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from causalbench.scm import (CPT, MLP, SCM, Additive, Bernoulli, Categorical, Constant, Linear, Logistic, Normal,
                             PerSample, Soft, Threshold, Uniform, Variable)
from causalbench.seeding import check_seed
from causalbench.testing import one_line_error


def ice_cream(a: float = 2.0, b: float = 1.5) -> SCM:
    return SCM([
        Variable("T", Normal(), hidden=True),
        Variable("I", Linear({"T": a})),
        Variable("S", Linear({"T": b}), role="target"),
    ])


def mixed() -> SCM:
    """One variable of every mechanism type."""
    return SCM([
        Variable("u", Uniform(-1, 1)),
        Variable("n", Normal(1.0, 2.0)),
        Variable("b", Bernoulli(0.3)),
        Variable("c", Categorical((0.2, 0.3, 0.5))),
        Variable("l", Linear({"u": 1.0, "n": -0.5}, intercept=0.2, std=0.5, interactions=[(0.3, ("u", "n"))])),
        Variable("a", Additive({"l": 1.0}, fn="sin", scale=2.0, std=0.1)),
        Variable("g", Logistic({"a": 1.5, "b": -1.0})),
        Variable("t", Threshold({"n": 1.0}, threshold=1.0, std=0.5)),
        Variable("m", MLP.random(("u", "a"), hidden=4, seed=3, std=0.2)),
        Variable("k", CPT(("b", "c"), np.array([[0.9, 0.1, 0.5, 0.2, 0.7, 0.4], [0.1, 0.9, 0.5, 0.8, 0.3, 0.6]]), (2, 3))),
    ])


def test_sample_shapes_kinds_and_values() -> None:
    s = mixed().sample(5000, seed=1)
    assert s.data.shape == (5000, 10) and s.data.flags.f_contiguous and s.data.dtype == np.float64
    assert set(np.unique(s["b"])) <= {0.0, 1.0} and set(np.unique(s["c"])) <= {0.0, 1.0, 2.0}
    assert set(np.unique(s["k"])) <= {0.0, 1.0} and set(np.unique(s["g"])) <= {0.0, 1.0}
    assert s["u"].min() >= -1 and s["u"].max() <= 1
    assert np.all(np.isfinite(s.data))


def test_categorical_and_bernoulli_frequencies_within_5_se() -> None:
    n = 200_000
    s = mixed().sample(n, seed=2)
    for value, p in enumerate((0.2, 0.3, 0.5)):
        assert abs(np.mean(s["c"] == value) - p) < 5 * np.sqrt(p * (1 - p) / n)
    assert abs(s["b"].mean() - 0.3) < 5 * np.sqrt(0.21 / n)


def test_cpt_rows_follow_table_within_5_se() -> None:
    n = 300_000
    s = mixed().sample(n, seed=3)
    table = mixed().mechanism("k").table
    for b in (0, 1):
        for c in (0, 1, 2):
            rows = (s["b"] == b) & (s["c"] == c)
            p = table[1, b * 3 + c]
            assert abs(s["k"][rows].mean() - p) < 5 * np.sqrt(p * (1 - p) / rows.sum())


def test_same_seed_same_bytes_different_seed_different_data() -> None:
    scm = mixed()
    a, b, c = scm.sample(1000, seed=7), scm.sample(1000, seed=7), scm.sample(1000, seed=8)
    assert a.data.tobytes() == b.data.tobytes()
    assert not np.array_equal(a["n"], c["n"])


def test_identical_bytes_in_a_fresh_process() -> None:
    """The same spec and seed give the same bytes in another interpreter (no hidden process state)."""
    code = ("import hashlib, json, sys; from causalbench.scm import SCM; "
            "s = SCM.from_dict(json.load(sys.stdin)).sample(2000, seed=11); "
            "print(hashlib.sha256(s.data.tobytes()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(mixed().to_dict()),
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == hashlib.sha256(mixed().sample(2000, seed=11).data.tobytes()).hexdigest()


def test_prefix_property_and_stream_independence_of_other_variables() -> None:
    scm = ice_cream()
    big, small = scm.sample(1000, seed=5), scm.sample(100, seed=5)
    assert np.array_equal(big.data[:100], small.data)
    # Adding a variable elsewhere does not change the noise of existing ones (streams keyed by name).
    bigger = SCM([*scm.variables.values(), Variable("Z", Normal())])
    assert np.array_equal(bigger.sample(100, seed=5)["S"], small["S"])


def test_hard_do_is_a_unit_level_counterfactual() -> None:
    scm = ice_cream()
    fact, cf = scm.counterfactual(1000, seed=0, do={"I": 3.0})
    assert np.all(cf["I"] == 3.0)
    assert np.array_equal(fact["T"], cf["T"]) and np.array_equal(fact["S"], cf["S"])
    assert np.array_equal(scm.sample(1000, seed=0, do={"I": 3.0}).data, cf.data)


def test_per_sample_array_and_random_do() -> None:
    scm = ice_cream()
    vals = np.arange(10, dtype=float)
    assert np.array_equal(scm.sample(10, 0, do={"I": vals})["I"], vals)
    rnd = scm.sample(100_000, 0, do={"I": Normal(5.0, 0.1)})["I"]
    assert abs(rnd.mean() - 5.0) < 5 * 0.1 / np.sqrt(100_000)


def test_soft_interventions_compose_and_never_mutate() -> None:
    scm = ice_cream()
    before = scm.hash
    shifted = scm.do({"T": Soft(mean=2.0)}).do({"T": Soft(std=0.5)})
    mech = shifted.mechanism("T")
    assert (mech.mean, mech.std) == (2.0, 0.5)
    assert scm.hash == before and scm.mechanism("T").mean == 0.0
    # Same noise stream: the shifted temperature is an affine map of the original unit's temperature.
    t0 = scm.sample(100, 1)["T"]
    t1 = shifted.sample(100, 1)["T"]
    np.testing.assert_allclose(t1, 2.0 + 0.5 * t0)


def test_per_sample_intervention_keeps_untouched_units() -> None:
    scm = ice_cream()
    mask = np.arange(1000) % 2 == 0
    base = scm.sample(1000, 4)
    s = scm.sample(1000, 4, do={"I": PerSample(mask, Normal(0, 10))})
    assert np.array_equal(s["I"][~mask], base["I"][~mask])
    assert not np.any(s["I"][mask] == base["I"][mask])


def test_serialisation_round_trip_same_hash_and_samples() -> None:
    scm = mixed()
    data = json.loads(json.dumps(scm.to_dict()))
    back = SCM.from_dict(data)
    assert back.hash == scm.hash
    assert np.array_equal(back.sample(500, 9).data, scm.sample(500, 9).data)


def test_hash_changes_with_any_parameter() -> None:
    assert ice_cream(2.0).hash != ice_cream(2.0000001).hash


# ---------------------------------------------------------------- bad input -> one-line errors


@pytest.mark.parametrize("build, match", [
    (lambda: SCM([Variable("a", Linear({"b": 1.0})), Variable("b", Linear({"a": 1.0}))]), "cycle"),
    (lambda: SCM([Variable("a", Linear({"zz": 1.0}))]), "unknown parent"),
    (lambda: SCM([Variable("a", Normal()), Variable("a", Normal())]), "duplicate"),
    (lambda: SCM([Variable("a b", Normal())]), "invalid variable name"),
    (lambda: SCM([Variable("x", Normal(), role="spurious"), Variable("y", Linear({"x": 1.0}), role="target")]),
     "derive the others from the graph"),
    (lambda: SCM([Variable("b", Bernoulli(0.5)), Variable("k", CPT(("b",), [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], (2,)))]),
     "shape"),
    (lambda: SCM([Variable("b", Bernoulli(0.5)), Variable("k", CPT(("b",), [[0.5, 0.2], [0.6, 0.8]], (2,)))]), "sum to 1"),
    (lambda: SCM([Variable("b", Normal()), Variable("k", CPT(("b",), [[0.5, 0.2], [0.5, 0.8]], (2,)))]), "states"),
    (lambda: SCM([Variable("b", Bernoulli(1.5))]), "probability"),
    (lambda: SCM([Variable("b", Normal(0, -1))]), "std"),
    (lambda: SCM([Variable("a", Additive({}, fn="cosh"))]), "nonlinearity"),
    (lambda: SCM([Variable("h", Normal(), hidden=True, role="target")]), "cannot be hidden"),
    (lambda: SCM([Variable("a", Normal(), role="boss")]), "unknown role"),
    (lambda: SCM([Variable("a", Normal(), role="target"), Variable("b", Normal(), role="target")]), "at most one"),
])
def test_invalid_scm_one_line_error(build, match) -> None:
    with one_line_error(match):
        build()


@pytest.mark.parametrize("do, match", [
    ({"nope": 1.0}, "unknown variable"),
    ({"I": "hot"}, "number"),
    ({"I": np.ones((2, 2))}, "1-d"),
    ({"I": np.ones(7)}, "length"),
    ({"I": float("nan")}, "finite"),
    ({"T": Soft(banana=1)}, "no parameter"),
    ({"I": Bernoulli(0.5)}, "replaces a real variable"),
    (["I"], "mapping"),
])
def test_bad_interventions_one_line_error(do, match) -> None:
    with one_line_error(match):
        ice_cream().sample(5, 0, do=do)


def test_binary_do_values_checked() -> None:
    scm = SCM([Variable("b", Bernoulli(0.5)), Variable("y", Logistic({"b": 1.0}))])
    with one_line_error("integer in 0..1"):
        scm.sample(3, 0, do={"b": 0.5})
    assert np.all(scm.sample(3, 0, do={"b": Constant(1.0)})["b"] == 1)


def test_intervention_creating_a_cycle_is_rejected() -> None:
    with one_line_error("cycle"):
        ice_cream().do({"T": Linear({"S": 1.0})})


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_bad_seed(seed) -> None:
    with one_line_error("seed"):
        check_seed(seed)


@pytest.mark.parametrize("n", [0, -5, 2.5, "10"])
def test_bad_n(n) -> None:
    with one_line_error("n must be"):
        ice_cream().sample(n)


def test_masked_intervention_is_runtime_only() -> None:
    scm = ice_cream().do({"I": PerSample(np.ones(3, bool), Normal())})
    with one_line_error("cannot be serialised"):
        scm.to_dict()
