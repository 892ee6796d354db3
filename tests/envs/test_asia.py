"""Asia-v0: ground truth against pgmpy's exact inference, the published CPTs, and the X-ray story."""

from __future__ import annotations

import gzip
import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest

import causalbench as cb
from causalbench.env.base import Domain
from causalbench.envs.asia import Asia
from causalbench.scm import SCM
from causalbench.scm.exact import discrete_joint

ENV_ID = "Asia-v0"
N_MC = 200_000
# Documented in the env's "Known answers" (training mixture of the two clinics).
PRIOR = 0.43655137
REGRESSION = {0: 0.1325128218, 1: 0.80815404}   # P(dysp = 1 | bronc), documented in the env
EFFECTS = {"asia": (0.4358275, 0.4501375), "bronc": (0.13989796, 0.80664966),
           "xray": (PRIOR, PRIOR)}


class PublishedAsia(Asia):
    """The published network as the only training domain."""

    def build_domains(self):
        return [Domain("published")]


@pytest.fixture(scope="module")
def env():
    return cb.make(ENV_ID)


@pytest.fixture(scope="module")
def pgmpy_inference():
    """pgmpy (slow to import) loaded once: (CausalInference, VariableElimination)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.inference import CausalInference, VariableElimination
    return CausalInference, VariableElimination


def _do_query(CausalInference, model, target: str, variable: str, value: int) -> float:
    """P(target = 1 | do(variable = value)) by pgmpy, adjusting for the variable's parents
    (a valid back-door set in the full model; pgmpy refuses to guess one when parents are latent)."""
    ci = CausalInference(model)
    adjust = set(model.get_parents(variable))
    q = ci.query([target], do={variable: value}, adjustment_set=adjust or None, show_progress=False)
    return float(q.get_value(**{target: 1}))


def test_roles_and_hidden(env):
    assert env.target == "dysp"
    assert set(env.scm.hidden) == {"tub", "smoke", "lung", "either"}
    assert env.roles == {"asia": "causal", "bronc": "causal", "xray": "proxy"}
    assert len({s.kind for s in env.shifts}) >= 3 and all(len(s.severities) >= 2 for s in env.shifts)


def test_true_effect_matches_pgmpy(env, pgmpy_inference):
    CausalInference, _ = pgmpy_inference
    models = [scm.to_pgmpy() for scm in env.domain_scms]
    for v in env.variables:
        ours = env.truth.true_effect(v, [0.0, 1.0])
        theirs = [np.mean([_do_query(CausalInference, m, "dysp", v, a) for m in models]) for a in (0, 1)]
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9, err_msg=v)
        np.testing.assert_allclose(ours, EFFECTS[v], rtol=0, atol=5e-9, err_msg=v)


def test_base_network_effects_match_pgmpy(env, pgmpy_inference):
    """Single-domain check on the published network itself (no mixture)."""
    CausalInference, _ = pgmpy_inference
    single = PublishedAsia()
    model = env.scm.to_pgmpy()
    for v in env.variables:
        theirs = [_do_query(CausalInference, model, "dysp", v, a) for a in (0, 1)]
        np.testing.assert_allclose(single.truth.true_effect(v, [0.0, 1.0]), theirs, rtol=0, atol=1e-9, err_msg=v)


def test_regression_on_bronchitis_and_prior_match_pgmpy(env, pgmpy_inference):
    """P(dysp | bronc) over the equal mixture of clinics (mix the joints P_k(dysp, bronc)) and the prior."""
    from causalbench.scm.conditional import conditional_mean_fn

    _, VariableElimination = pgmpy_inference
    joint = np.zeros((2, 2))  # [bronc, dysp]
    for scm in env.domain_scms:
        q = VariableElimination(scm.to_pgmpy()).query(["bronc", "dysp"], show_progress=False)
        for b, d in itertools.product((0, 1), repeat=2):
            joint[b, d] += 0.5 * q.get_value(bronc=b, dysp=d)
    expected = joint[:, 1] / joint.sum(axis=1)
    ours = conditional_mean_fn([(0.5, s) for s in env.domain_scms], "dysp", ("bronc",))(np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(expected, [REGRESSION[0], REGRESSION[1]], rtol=0, atol=5e-9)
    prior = sum(0.5 * VariableElimination(s.to_pgmpy()).query(["dysp"], show_progress=False).get_value(dysp=1)
                for s in env.domain_scms)
    assert env.null_prediction == pytest.approx(prior, abs=1e-9)
    assert prior == pytest.approx(PRIOR, abs=5e-9)


def test_xray_is_predictive_given_bronchitis(env, pgmpy_inference):
    """Documented P(dysp | bronc = 0, xray): the X-ray adds a lot to the causal feature."""
    _, VariableElimination = pgmpy_inference
    joint = np.zeros((2, 2))  # [xray, dysp] at bronc = 0
    for scm in env.domain_scms:
        q = VariableElimination(scm.to_pgmpy()).query(["bronc", "xray", "dysp"], show_progress=False)
        for x, d in itertools.product((0, 1), repeat=2):
            joint[x, d] += 0.5 * q.get_value(bronc=0, xray=x, dysp=d)
    np.testing.assert_allclose(joint[:, 1] / joint.sum(axis=1), [0.10072282, 0.41737243], rtol=0, atol=5e-9)


def test_confounding_makes_observation_differ_from_intervention(env):
    do = env.truth.true_effect("bronc", [0.0, 1.0])
    obs = np.array([REGRESSION[0], REGRESSION[1]])
    assert obs[0] < do[0] - 0.005 and obs[1] > do[1] + 0.001


def test_sampled_interventions_match_pgmpy(env, pgmpy_inference):
    CausalInference, _ = pgmpy_inference
    model = env.scm.to_pgmpy()
    for v in env.variables:
        for a in (0, 1):
            p = _do_query(CausalInference, model, "dysp", v, a)
            y = env.scm.sample(N_MC, seed=11, do={v: float(a)})["dysp"]
            se = np.sqrt(p * (1 - p) / N_MC)
            assert abs(y.mean() - p) < 5 * se, (v, a, y.mean(), p)


def test_pgmpy_round_trip_gives_identical_samples(env):
    back = SCM.from_pgmpy(env.scm.to_pgmpy())
    assert set(back.hidden) == set(env.scm.hidden)
    for do in (None, {"bronc": 1.0}, {"xray": 0.0}):
        a, b = env.scm.sample(5000, seed=3, do=do), back.sample(5000, seed=3, do=do)
        for name in env.scm.names:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{name} under {do}")


def test_cpts_are_the_published_ones(env):
    """Compare every CPT entry with the .bif file pgmpy ships (read as text, never loaded by the env)."""
    pgmpy = pytest.importorskip("pgmpy")
    path = Path(pgmpy.__file__).parent / "utils" / "example_models" / "asia.bif.gz"
    if not path.exists():
        pytest.skip("pgmpy no longer ships asia.bif.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.readwrite import BIFReader

        published = BIFReader(string=gzip.decompress(path.read_bytes()).decode()).get_model()
    code = {"no": 0, "yes": 1}
    for name in env.scm.names:
        cpd = published.get_cpds(name)
        parents = list(cpd.variables[1:])
        assert tuple(parents) == env.scm.parents(name), name
        mech = env.scm.mechanism(name)
        for states in itertools.product(("no", "yes"), repeat=len(parents)):
            values = {p: np.array([float(code[s])]) for p, s in zip(parents, states)}
            for state in ("no", "yes"):
                theirs = cpd.get_value(**{name: state, **dict(zip(parents, states))})
                ours = mech.pmf(np.array([float(code[state])]), values)[0]
                assert ours == pytest.approx(theirs, abs=1e-12), (name, states, state)


def test_joint_is_a_proper_distribution(env):
    names, states, probs = discrete_joint(env.scm)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    either = states[:, names.index("either")]
    assert np.all(probs[either != np.maximum(states[:, names.index("tub")], states[:, names.index("lung")])] == 0)


def test_logistic_regression_leans_on_the_xray(env):
    """The X-ray has no effect on dyspnoea, yet a fitted model weights it; flipping its coding hurts."""
    from sklearn.linear_model import LogisticRegression

    data = env.dataset("observational", n=50_000, seed=0)
    model = LogisticRegression(C=1e6, max_iter=1000).fit(data.X, data.y)
    coef = dict(zip(data.feature_names, model.coef_[0]))
    assert coef["xray"] > 0.9  # population value ~1.3 on the logit scale
    s = cb.score(lambda X: model.predict_proba(X)[:, 1], env)
    ref = cb.score(env.truth.causal_reference, env)
    assert s.excess_risk_id < ref.excess_risk_id - 0.005                         # better in distribution ...
    assert s.excess_risk["xray_reversed@1"] > ref.excess_risk["xray_reversed@1"] + 0.05   # ... worse when the X-ray flips
    assert s.spurious_reliance > 0.01 and s.spurious_reliance_abs > 0.01
    assert s.effect_error_by_variable["xray"] > 0.05


def test_causal_reference_matches_documented_values(env):
    """P(dysp = 1 | do(asia = a, bronc = b, xray = x)), documented in the env (x has no effect)."""
    rows = np.array([[a, b, x] for a in (0, 1) for b in (0, 1) for x in (0, 1)], dtype=float)
    expected = {(0, 0): 0.13867, (0, 1): 0.806445, (1, 0): 0.16135, (1, 1): 0.810225}
    np.testing.assert_allclose(env.truth.causal_reference(rows), [expected[int(a), int(b)] for a, b, _ in rows],
                               rtol=0, atol=5e-7)
