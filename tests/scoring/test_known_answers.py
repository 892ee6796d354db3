"""Every metric against answers known in closed form, computed here independently of the scorer.

Predictors: the causal reference, a spurious-only predictor, their 50/50 blend, a constant,
the causal reference plus an offset, and the training Bayes predictor. Truth comes from the
structural equations by hand (IceCreamShorts, IRMLinear: linear-Gaussian formulas) or from
pgmpy's exact inference (the discrete envs: TreatmentRecovery, Asia, GoalMisgen, Copycat).
Scores are estimates on finite test sets: every tolerance is 5 standard errors of the
estimate at the suite's sample size (or exact equality where no sampling is involved).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import causalbench as cb
from causalbench.scoring import get_suite, score_predictions

N = 2000  # rows per test set (the runner's default)


def score_latent(env, fn, n=N):
    """Score a predictor written on the observed-variable rows V (the same as X for non-rendered envs)."""
    suite = get_suite(env, 0, n)
    return score_predictions({k: fn(V) for k, V in suite.latents.items()}, env, 0, n), suite


def contrast_tolerance(suite, fn, variable: str) -> float:
    """5 standard errors (paired units) of the model's contrasts of `variable`, in sd(Y)."""
    probes = [p for p in suite.effects if p.variable == variable]
    base = next(p for p in probes if p.baseline)
    f0 = fn(suite.latents[base.input])
    sds = [np.std(fn(suite.latents[p.input]) - f0) for p in probes if p is not base]
    return 5 * max(sds, default=0.0) / np.sqrt(len(f0)) / suite.target_scale + 1e-12


def grid_rms(suite, variable: str, contrast) -> float:
    """RMS over the grid (a != a0) of contrast(a, a0), in sd(Y)."""
    probes = [p for p in suite.effects if p.variable == variable]
    a0 = next(p.value for p in probes if p.baseline)
    vals = [contrast(p.value, a0) for p in probes if p.value != a0]
    return float(np.sqrt(np.mean(np.square(vals)))) / suite.target_scale


# ================================================================ IceCreamShorts (linear-Gaussian by hand)

ICE = "IceCreamShorts-v1"
A, B, C, P_W, COST = 2.0, 1.5, 2.0, 2 / 7, 1.0
VAR_T = 1.25                                   # two climates, T ~ N(-+0.5, 1)
VAR_I, VAR_S = A * A * VAR_T + 1, B * B * VAR_T + C * C * P_W * (1 - P_W) + 1
BETA = A * B * VAR_T / VAR_I                   # OLS slope of S on I (the spurious-only predictor)


def ice_params(test_set: str) -> tuple[float, float, float]:
    """(slope a of I on T, mean of T, P(W = 1)) of an IceCreamShorts test distribution (base: T ~ N(0, 1))."""
    if test_set == "id":
        return A, 0.0, P_W
    name, sev = test_set.split("@")
    s = float(sev)
    return {"kiosk_closed": (A * (1 - s), 0.0, P_W), "kiosk_reversed": (-A * s, 0.0, P_W),
            "heatwave": (A, s, P_W), "sale_days": (A, 0.0, s)}[name]


ICE_PREDICTORS = {  # name -> (w_I, w_W, intercept): every one is linear in (ice_cream, sale_day)
    "causal": (0.0, C, 0.0),
    "spurious": (BETA, 0.0, C * P_W),
    "blend": (BETA / 2, C / 2, C * P_W / 2),
    "constant": (0.0, 0.0, C * P_W),
    "offset": (0.0, C, 1.0),
}


@pytest.fixture(scope="module")
def ice():
    return cb.make(ICE)


def linear(w):
    return lambda V: w[0] * V[:, 0] + w[1] * V[:, 1] + w[2]


def test_ice_cream_references_are_the_closed_forms(ice) -> None:
    V = np.array([[-2.0, 0.0], [0.5, 1.0], [3.0, 1.0]])
    assert np.allclose(ice.truth.causal_reference(V), C * V[:, 1])
    assert ice.truth.null == pytest.approx(C * P_W) and ice.truth.target_scale == pytest.approx(np.sqrt(VAR_S))
    for t in ("kiosk_closed@1", "kiosk_reversed@0.5", "heatwave@2", "sale_days@0.9"):
        a, mu, _ = ice_params(t)  # single Gaussian T ~ N(mu, 1): E[T | I] = mu + a (I - a mu) / (a^2 + 1)
        expected = B * (mu + a * (V[:, 0] - a * mu) / (a * a + 1)) + C * V[:, 1]
        assert np.allclose(ice.truth.bayes(V, t), expected)


@pytest.mark.parametrize("name", list(ICE_PREDICTORS))
def test_ice_cream_effect_errors(ice, name) -> None:
    wI, wW, c0 = ICE_PREDICTORS[name]
    s, suite = score_latent(ice, linear(ICE_PREDICTORS[name]))
    # do(ice_cream = a) changes nothing else the model sees: its contrast is wI (a - a0); the truth is 0.
    assert s.effect_error_by_variable["ice_cream"] == pytest.approx(grid_rms(suite, "ice_cream", lambda a, a0: wI * (a - a0)))
    # do(sale_day = w): the model's contrast is wW w, the truth C w.
    assert s.effect_error_by_variable["sale_day"] == pytest.approx(abs(wW - C) / suite.target_scale)
    if name in ("causal", "offset"):
        assert s.effect_error == pytest.approx(0.0, abs=1e-12)
    # Levels at a0. sale_day (a0 = 0): E f | do(W = 0) = wI mean(I) + c0 against E[S | do(W = 0)] = B E[T] = 0,
    # where the units' I has mean 0 up to sampling (se sd(I) / sqrt(n)).
    n, sd = 2000, suite.target_scale
    assert abs(s.effect_level_error_by_variable["sale_day"] - abs(c0) / sd) <= 5 * abs(wI) * np.sqrt(VAR_I) / np.sqrt(n) / sd + 1e-12
    # ice_cream (a0 = the grid's median): wI a0 + wW mean(W) + c0 against E[S | do(I = a0)] = C P_W.
    a0 = next(p.value for p in suite.effects if p.variable == "ice_cream" and p.baseline)
    closed = abs(wI * a0 + wW * P_W + c0 - C * P_W) / sd
    se = abs(wW) * np.sqrt(P_W * (1 - P_W) / n) / sd
    assert abs(s.effect_level_error_by_variable["ice_cream"] - closed) <= 5 * se + 1e-12


@pytest.mark.parametrize("name", list(ICE_PREDICTORS))
def test_ice_cream_excess_risk_on_every_test_set(ice, name) -> None:
    wI, wW, c0 = ICE_PREDICTORS[name]
    s, suite = score_latent(ice, linear(ICE_PREDICTORS[name]))
    for t in ice.test_set_names():
        if t == "id":
            continue  # the training mixture's Bayes predictor is not linear; checked below by its own identity
        a, mu, p = ice_params(t)
        k = a / (a * a + 1)                         # f - Bayes = alpha I + gamma W + delta
        alpha, gamma, delta = wI - B * k, wW - C, c0 - B * (mu - k * a * mu)
        mean_i, var_i = a * mu, a * a + 1
        closed = (alpha**2 * var_i + gamma**2 * p * (1 - p) + (alpha * mean_i + gamma * p + delta) ** 2) / VAR_S
        V = suite.latents[t]
        d2 = (linear(ICE_PREDICTORS[name])(V) - suite.bayes[t]) ** 2 / VAR_S
        assert abs(s.excess_risk[t] - closed) <= 5 * d2.std() / np.sqrt(len(d2)) + 1e-9, t


def test_ice_cream_bayes_predictors_have_zero_excess_risk_on_their_own_distribution(ice) -> None:
    s, _ = score_latent(ice, lambda V: ice.truth.bayes(V, "id"))
    assert s.excess_risk_id == 0.0
    s, _ = score_latent(ice, lambda V: ice.truth.bayes(V, "heatwave@2"))
    assert s.excess_risk["heatwave@2"] == 0.0 and s.excess_risk_id > 0


@pytest.mark.parametrize("name", ["causal", "spurious", "blend"])
def test_ice_cream_reliance_absolute_and_share(ice, name) -> None:
    wI, wW, _ = ICE_PREDICTORS[name]
    s, suite = score_latent(ice, linear(ICE_PREDICTORS[name]))
    n = len(suite.latents["id"])
    # Permutation reliance E (f(x) - f(x'))^2 = w^2 E (x_j - x'_j)^2 = 2 w^2 Var(x_j) (x' an independent draw).
    closed_i, closed_w = 2 * wI**2 * VAR_I / VAR_S, 2 * wW**2 * P_W * (1 - P_W) / VAR_S
    se_i = 2 * wI**2 * VAR_I * np.sqrt(2 / n) / VAR_S          # (x - x')^2 / (2 Var) ~ chi2_1 for Gaussian x
    q = 2 * P_W * (1 - P_W)                                      # P((W - W')^2 = 1)
    se_w = wW**2 * np.sqrt(q * (1 - q) / n) / VAR_S
    assert abs(s.reliance["ice_cream"] - closed_i) <= 5 * se_i + 1e-12
    assert abs(s.reliance["sale_day"] - closed_w) <= 5 * se_w + 1e-12
    assert s.reliance_by_role["proxy"] == s.reliance["ice_cream"]
    total = closed_i + closed_w
    assert abs(s.spurious_reliance - closed_i / total) <= 5 * (se_i + se_w) / total
    if name == "blend":  # the share of a 50/50 blend is not 1/2: it weighs each feature's variance
        assert closed_i / total > 0.6


def test_ice_cream_regret(ice) -> None:
    """A sale adds C = 2 at cost 1: always optimal. Never selling loses 1 per day, a coin flip 1/2: regret 2."""
    for name, expected in (("causal", 0.0), ("offset", 0.0), ("constant", 2.0), ("spurious", 2.0)):
        s, _ = score_latent(ice, linear(ICE_PREDICTORS[name]))
        assert s.regret == pytest.approx(expected, abs=1e-12)
        assert all(v == pytest.approx(expected, abs=1e-12) for v in s.regret_by_test_set.values())
        assert s.regret_constant == pytest.approx(2.0)


# ================================================================ IRMLinear (Gaussian by hand)

IRM = "IRMLinear-v0"
SCALES = (0.5, 2.0)
VAR_Y = float(np.mean([2 * s * s for s in SCALES]))   # domains: x1 ~ N(0, s^2), y = x1 + N(0, s^2)
BETA2 = VAR_Y / (VAR_Y + 1)                           # OLS slope of y on x2 = y + N(0, 1)


def irm_cov(test_set: str) -> tuple[np.ndarray, np.ndarray]:
    """(coefficients of E[y | x1, x2], covariance of (x1, x2)) of a single-SCM test distribution."""
    s1, sy, c, sx2 = 1.0, 1.0, 1.0, 1.0
    name, sev = test_set.split("@")
    v = float(sev)
    if name == "x2_noise":
        sx2 = v
    elif name == "x2_reversed":
        c = -v
    elif name == "x1_scale":
        s1 = v
    else:
        s1 = sy = v
    # (x1, y, x2) = L e with e standard normal
    L = np.array([[s1, 0, 0], [s1, sy, 0], [c * s1, c * sy, sx2]])
    S = L @ L.T
    coef = np.linalg.solve(S[np.ix_([0, 2], [0, 2])], S[[0, 2], 1])
    return coef, S[np.ix_([0, 2], [0, 2])]


IRM_PREDICTORS = {"causal": (1.0, 0.0, 0.0), "spurious": (0.0, BETA2, 0.0), "blend": (0.5, BETA2 / 2, 0.0),
                  "constant": (0.0, 0.0, 0.0), "offset": (1.0, 0.0, 1.0)}


@pytest.mark.parametrize("name", list(IRM_PREDICTORS))
def test_irm_linear_effect_errors_and_excess_risk(name) -> None:
    env = cb.make(IRM)
    w1, w2, c0 = IRM_PREDICTORS[name]
    f = lambda V: w1 * V[:, 0] + w2 * V[:, 1] + c0  # noqa: E731
    s, suite = score_latent(env, f)
    assert env.truth.target_scale == pytest.approx(np.sqrt(VAR_Y))
    # do(x1 = a): y and x2 move by a (paired units): model contrast (w1 + w2)(a - a0), truth (a - a0).
    assert s.effect_error_by_variable["x1"] == pytest.approx(grid_rms(suite, "x1", lambda a, a0: (w1 + w2 - 1) * (a - a0)))
    # do(x2 = a): nothing else moves: model w2 (a - a0), truth 0.
    assert s.effect_error_by_variable["x2"] == pytest.approx(grid_rms(suite, "x2", lambda a, a0: w2 * (a - a0)))
    for t in env.test_set_names():
        if t == "id":
            continue
        coef, S = irm_cov(t)
        d = np.array([w1 - coef[0], w2 - coef[1]])
        closed = (d @ S @ d + c0**2) / VAR_Y
        d2 = (f(suite.latents[t]) - suite.bayes[t]) ** 2 / VAR_Y
        assert abs(s.excess_risk[t] - closed) <= 5 * d2.std() / np.sqrt(len(d2)) + 1e-9, t
    if name == "causal":
        assert s.spurious_reliance == 0.0 and s.causal_reliance == 1.0
        # 2 w^2 Var_train(x1) / Var_train(y) = 2 * 2.125 / 4.25 = 1
        assert abs(s.reliance["x1"] - 1.0) <= 5 * np.sqrt(2 / N)


# ================================================================ discrete envs (pgmpy's exact inference)


def joint_table(scm, names):
    """P(names) of an SCM by pgmpy's variable elimination, as an array indexed by the variables' codes."""
    from pgmpy.inference import VariableElimination

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = VariableElimination(scm.to_pgmpy(latents=False)).query(list(names), show_progress=False)
    table = np.moveaxis(q.values, [q.variables.index(v) for v in names], range(len(names)))
    for v in names:
        assert list(q.state_names[v]) == list(range(scm[v].cardinality)), "pgmpy states are the codes 0..K-1"
    return table


class DiscreteTruth:
    """Independent exact answers for an all-discrete env: joints over (observed, target) per distribution."""

    def __init__(self, env):
        self.env, self.names = env, list(env.variables) + [env.target]
        self.cards = [env.scm[v].cardinality for v in env.variables]

    def joint(self, test_set="id", do=None):
        scms = env_scms(self.env, test_set)
        return np.mean([joint_table(s.do(do) if do else s, self.names) for s in scms], axis=0)

    def bayes(self, test_set="id"):
        J = self.joint(test_set)
        with np.errstate(invalid="ignore", divide="ignore"):
            return J[..., 1] / J.sum(axis=-1)

    def lookup(self, table, V):
        return table[tuple(V[:, j].astype(int) for j in range(V.shape[1]))]


def env_scms(env, test_set):
    return list(env.domain_scms) if test_set == "id" else [env.test_scm(test_set)]


DISCRETE = ["TreatmentRecovery-v0", "Asia-v0", "GoalMisgen-v0", "Copycat-v0"]


@pytest.fixture(scope="module", params=DISCRETE)
def discrete(request):
    env = cb.make(request.param)
    return env, DiscreteTruth(env)


def test_bayes_predictors_agree_with_pgmpy_on_every_test_set(discrete) -> None:
    env, truth = discrete
    suite = get_suite(env, 0, N)
    for t in env.test_set_names():
        expected = truth.lookup(truth.bayes(t), suite.latents[t])
        assert np.allclose(suite.bayes[t], expected, atol=1e-12), t


def test_causal_reference_agrees_with_pgmpy(discrete) -> None:
    """E[Y | do(X = x)] for every observed configuration x, averaged over the training domains."""
    env, truth = discrete
    configs = np.array(list(itertools.product(*[range(c) for c in truth.cards])), dtype=float)
    expected = []
    for x in configs:
        do = dict(zip(env.variables, x))
        J = truth.joint("id", do)
        expected.append(J[..., 1].sum() / J.sum())
    assert np.allclose(env.truth.causal_reference(configs), expected, atol=1e-12)


def discrete_predictors(env, truth):
    causal = env.truth.causal_reference
    spur_vars = [env.variables.index(v) for v in env.spurious_variables]
    J = truth.joint("id")
    keep = tuple(j for j in range(len(env.variables)) if j not in spur_vars)
    margin = J.sum(axis=keep)                                    # P(spurious, y)
    spur_table = margin[..., 1] / margin.sum(axis=-1)

    def spurious(V):
        return spur_table[tuple(V[:, j].astype(int) for j in spur_vars)]

    bayes_table = np.nan_to_num(truth.bayes("id"), nan=env.truth.null)
    out = {"causal": causal, "spurious": spurious, "blend": lambda V: 0.5 * causal(V) + 0.5 * spurious(V),
           "constant": lambda V: np.full(len(V), env.truth.null),
           "bayes": lambda V: truth.lookup(bayes_table, V)}
    if env.id != "GoalMisgen-v0":   # its causal reference reaches 0 and 1: an offset would leave [0, 1]
        out["offset"] = lambda V: causal(V) + 0.05
    return out


def kl(b, f):
    """Expected excess cross-entropy of f over b at one x, both clipped to [1e-6, 1 - 1e-6] as the risk is."""
    f, c = np.clip(f, 1e-6, 1 - 1e-6), np.clip(b, 1e-6, 1 - 1e-6)
    return b * (np.log(c) - np.log(f)) + (1 - b) * (np.log1p(-c) - np.log1p(-f))


def test_discrete_effect_errors_excess_risk_and_reliance(discrete) -> None:
    env, truth = discrete
    suite = get_suite(env, 0, N)
    configs = np.array(list(itertools.product(*[range(c) for c in truth.cards])), dtype=float)
    for name, fn in discrete_predictors(env, truth).items():
        s, _ = score_latent(env, fn)
        table = fn(configs).reshape(truth.cards)
        # Effects: E f | do(X_j = a) and E[Y | do(X_j = a)] from the joint under do, averaged over domains.
        for j, v in enumerate(env.variables):
            probes = [p for p in suite.effects if p.variable == v]
            a0 = next(p.value for p in probes if p.baseline)

            def model_and_truth(a):
                J = truth.joint("id", {v: a})
                px = J.sum(axis=-1)
                return float((px * table).sum()), float(J[..., 1].sum())

            m0, t0 = model_and_truth(a0)
            errs = [(m - m0) - (tt - t0) for m, tt in (model_and_truth(p.value) for p in probes if p.value != a0)]
            closed = float(np.sqrt(np.mean(np.square(errs)))) / suite.target_scale if errs else 0.0
            tol = contrast_tolerance(suite, fn, v)
            assert abs(s.effect_error_by_variable[v] - closed) <= tol, (name, v)
        # Excess risk: sum_x P_t(x) KL(Bayes_t(x) || f(x)), estimated on the test rows.
        for t in env.test_set_names():
            J = truth.joint(t)
            px, b = J.sum(axis=-1), truth.bayes(t)
            closed = float(np.nansum(px * kl(b, table)))
            rows = kl(suite.bayes[t], fn(suite.latents[t]))
            assert abs(s.excess_risk[t] - closed) <= 5 * rows.std() / np.sqrt(len(rows)) + 1e-9, (name, t)
        # Reliance: E (f(x) - f(x with x_j redrawn independently))^2 / Var(Y) under the training law.
        P = truth.joint("id").sum(axis=-1)
        for j, v in enumerate(env.variables):
            marg = P.sum(axis=tuple(k for k in range(P.ndim) if k != j))
            closed = 0.0
            for a in range(truth.cards[j]):
                other = np.take(table, [a], axis=j)
                closed += marg[a] * float((P * (table - other) ** 2).sum())
            closed /= suite.target_scale ** 2
            V = suite.latents["id"]
            perm = suite.latents[suite.permutations[v]]
            rows = (fn(V) - fn(perm)) ** 2 / suite.target_scale ** 2
            assert abs(s.reliance[v] - closed) <= 5 * rows.std() / np.sqrt(len(rows)) + 1e-9, (name, v)


def test_causal_reference_and_offset_have_no_effect_error_where_nothing_confounds(discrete) -> None:
    """Exact contrasts for every variable whose intervention leaves the reference's other inputs unconfounded
    with the target, or does not move them at all (`unconfounded_for_reference`); the offset cancels."""
    env, truth = discrete
    preds = discrete_predictors(env, truth)
    s, suite = score_latent(env, preds["causal"])
    checked = unconfounded_for_reference(env)
    assert checked, f"{env.id}: no variable to check"
    for v in checked:
        assert s.effect_error_by_variable[v] <= contrast_tolerance(suite, preds["causal"], v), v
    if "offset" in preds:
        o, _ = score_latent(env, preds["offset"])
        for v in env.variables:
            assert o.effect_error_by_variable[v] == pytest.approx(s.effect_error_by_variable[v], abs=1e-12)


def unconfounded_for_reference(env) -> list[str]:
    """Variables j for which E f_ref | do(X_j = a) = E[Y | do(X_j = a)] by the graph: under do(X_j) the other
    inputs R of the reference have no back-door path to Y, or X_j is no input of the reference and moves none
    of them (then both contrasts are 0)."""
    import networkx as nx

    from causalbench.scm import exact

    out = []
    inputs = env.truth.reference_inputs
    for v in env.variables:
        rest = [r for r in inputs if r != v]
        moved = [r for r in rest if r in nx.descendants(env.scm.graph, v)]
        free = all(exact.backdoor_free(s.do({v: 0.0}), rest, env.target) for s in env.domain_scms)
        if free or (v not in inputs and not moved):
            out.append(v)
    return out


# ================================================================ regret: decision envs and multi-step tasks


def test_treatment_recovery_regret() -> None:
    """Treating is optimal for everyone, so any policy that never treats has regret exactly 2 (a coin flip treats
    half). The training Bayes predictor is Simpson's model: it withholds treatment in every context."""
    env = cb.make("TreatmentRecovery-v0")
    truth = DiscreteTruth(env)
    preds = discrete_predictors(env, truth)
    assert score_latent(env, preds["causal"])[0].regret == 0.0
    for name in ("constant", "bayes"):
        s, _ = score_latent(env, preds[name])
        assert s.regret == pytest.approx(2.0, abs=1e-12) and s.regret_constant == pytest.approx(2.0, abs=1e-12)
    b = truth.bayes("id")   # [old, symptoms, treated]
    assert np.all(b[..., 1] - 0.05 < b[..., 0])


@pytest.mark.parametrize("env_id", [e for e in cb.list_envs()
                                    if cb.make(e).action is not None or cb.make(e).episodic])
def test_a_constant_predictor_has_clearly_positive_regret_on_every_decision_env(env_id) -> None:
    env = cb.make(env_id)
    s = cb.score(lambda X: np.full(len(X), env.truth.null), env, seed=0)
    assert s.regret is not None and s.regret > 0.5 and s.regret == s.regret_constant


def gym_mc_return(env, table, test_set, episodes=4000):
    """Mean return and its standard error of a policy table, by playing the gymnasium task."""
    g = env.gym_env(test_set)
    cells = {tuple(c): i for i, c in enumerate(env.policy_cells())}
    rets = []
    for ep in range(episodes):
        obs, _ = g.reset(seed=ep)
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, _ = g.step(int(table[cells[tuple(obs.astype(float))]]))
            total += r
            done = term or trunc
        rets.append(total)
    return np.mean(rets), np.std(rets) / np.sqrt(len(rets))


def flag_follower(cells):
    """GoalMisgen: step onto a seen coin, else walk towards the flag (right when standing on it)."""
    coin, flag = cells[:, 1], cells[:, 2]
    return np.where(coin == 2, 1.0, np.where(coin == 0, 0.0, np.where(flag == 0, 0.0, 1.0)))


@pytest.mark.parametrize("test_set", ["id", "flag_opposite@1"])
def test_goal_misgen_policy_values_match_gym_rollouts(test_set) -> None:
    env = cb.make("GoalMisgen-v0")
    table = flag_follower(env.policy_cells())
    mean, se = gym_mc_return(env, table, test_set, episodes=3000)
    assert abs(env.policy_value(table, test_set) - mean) <= 5 * se


def test_goal_misgen_flag_follower_has_large_regret_on_shifted_levels() -> None:
    env = cb.make("GoalMisgen-v0")
    s = cb.score(lambda X: 0.05 + 0.9 * flag_follower(X), env, seed=0)  # its greedy policy is the follower
    assert s.regret < 0.05                                  # fine on the training levels
    assert s.regret_by_test_set["flag_opposite@1"] > 1.0    # worse than random when the flag lies
    assert s.regret_by_test_set["coin_off_flag@1"] > 0.3


@pytest.mark.parametrize("env_id, test_set", [("GoalMisgen-v0", "id"), ("GoalMisgen-v0", "coin_off_flag@1"),
                                              ("Copycat-v0", "id"), ("Copycat-v0", "light_inverted@1")])
def test_best_memoryless_policy_is_not_beaten_by_local_search(env_id, test_set) -> None:
    env = cb.make(env_id)
    table, value = env.best_policy(test_set)
    assert value == pytest.approx(env.policy_value(table, test_set))
    gen = np.random.default_rng(0)
    cells = len(env.policy_cells())
    for start in range(4):
        cur = gen.integers(0, 2, cells).astype(float) if start else table.copy()
        cur_v = env.policy_value(cur, test_set)
        improved = True
        while improved:
            improved = False
            for i in range(cells):
                cand = cur.copy()
                cand[i] = 1 - cand[i]
                v = env.policy_value(cand, test_set)
                if v > cur_v + 1e-12:
                    cur, cur_v, improved = cand, v, True
        assert cur_v <= value + 1e-9


def test_copycat_light_follower_crashes_and_exact_values_match_rollouts() -> None:
    env = cb.make("Copycat-v0")
    light = env.policy_cells()[:, 1].copy()     # brake exactly when the light is on
    mean, se = gym_mc_return(env, light, "id", episodes=2000)
    assert abs(env.policy_value(light, "id") - mean) <= 5 * se
    s = cb.score(lambda X: X[:, 1] * 0.9 + 0.05, env, seed=0)
    assert s.regret > 0.5
