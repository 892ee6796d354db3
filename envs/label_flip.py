"""LabelFlip: an annotation artefact produced from the label predicts it, until its meaning flips."""

from __future__ import annotations

from functools import cached_property
from typing import Callable, Sequence

import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.env.instances import InstanceSpace, Param
from causalbench.env.truth import GroundTruth
from causalbench.errors import SCMError
from causalbench.scm import CPT, SCM, Bernoulli, Linear, Soft, Threshold, Variable

P_FAIR = 0.4                 # P(fair skin), hidden
SUN_FAIR = -1.0              # fair-skinned people get less sun: X = SUN_FAIR * U + N(0, 1)
RISK_SUN, RISK_FAIR, RISK_INTERCEPT = 1.0, 1.5, -1.0   # melanoma = 1[-1.0 + X + 1.5 U + N(0, 1) > 0]
INK = (0.05, 0.85)           # P(ink mark | melanoma = 0), P(ink mark | melanoma = 1)
INK_UNINFORMATIVE = 0.45     # a marking rate that ignores the label
# Training clinics: (P(fair skin), P(ink mark | melanoma = 1)).
CLINICS = {"north": (0.6, 0.9), "south": (0.2, 0.8)}
# Hidden instances: the confounding, the probit coefficients, the marking rates and the clinics vary.
LABEL_FLIP_SPACE = InstanceSpace((
    Param("sun_fair", SUN_FAIR, -1.5, -0.5, description="effect of fair skin on sun exposure"),
    Param("risk_sun", RISK_SUN, 0.6, 1.4, description="probit weight of sun exposure"),
    Param("risk_fair", RISK_FAIR, 1.0, 2.0, description="probit weight of fair skin"),
    Param("intercept", RISK_INTERCEPT, -1.5, -0.5, description="probit intercept"),
    Param("ink_benign", INK[0], 0.02, 0.1, description="P(mark | benign)"),
    Param("north_fair", CLINICS["north"][0], 0.5, 0.7, description="P(fair skin), north clinic"),
    Param("north_mark", CLINICS["north"][1], 0.8, 0.95, description="P(mark | melanoma), north clinic"),
    Param("south_fair", CLINICS["south"][0], 0.1, 0.3, description="P(fair skin), south clinic"),
    Param("south_mark", CLINICS["south"][1], 0.7, 0.85, description="P(mark | melanoma), south clinic"),
))


def _ink(p_benign: float, p_malignant: float) -> CPT:
    """P(ink mark | melanoma) as a CPT (rows: no mark, mark; columns: benign, malignant)."""
    return CPT(("melanoma",), [[1 - p_benign, 1 - p_malignant], [p_benign, p_malignant]], (2,))


def _phi(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(x)


def closed_form_parts(scm: SCM) -> list[tuple[float, float, float, float, float, float, float]]:
    """Per hidden state u in {0, 1}: (P(u), mean of X | u, sd of X, k + c u, b, noise sd of Y, threshold).

    Reads the parameters off the SCM's own mechanisms, so it holds for every domain and shift
    that keeps the mechanism types (Bernoulli U, linear-Gaussian X, probit Y).
    """
    fair, sun, y = scm.mechanism("fair_skin"), scm.mechanism("sun_exposure"), scm.mechanism("melanoma")
    if not (isinstance(fair, Bernoulli) and isinstance(sun, Linear) and isinstance(y, Threshold)
            and set(sun.weights) <= {"fair_skin"} and set(y.weights) <= {"sun_exposure", "fair_skin"}
            and not sun.interactions and not y.interactions):
        raise SCMError("LabelFlip closed forms need Bernoulli fair_skin, linear sun_exposure and probit melanoma")
    out = []
    for u, pu in ((0, 1 - fair.p), (1, fair.p)):
        mean_x = sun.intercept + sun.weights.get("fair_skin", 0.0) * u
        offset = y.intercept + y.weights.get("fair_skin", 0.0) * u
        out.append((pu, mean_x, sun.std, offset, y.weights.get("sun_exposure", 0.0), y.std, y.threshold))
    return out


def prob_melanoma(scm: SCM) -> float:
    """P(melanoma = 1) = sum_u P(u) Phi((k + c u + b E[X | u] - t) / sqrt(sd_Y^2 + b^2 sd_X^2))."""
    return float(sum(pu * _phi((off + b * mx - t) / np.hypot(sy, b * sx))
                     for pu, mx, sx, off, b, sy, t in closed_form_parts(scm)))


def prob_melanoma_do_sun(scm: SCM, x: np.ndarray) -> np.ndarray:
    """P(melanoma = 1 | do(sun_exposure = x)) = sum_u P(u) Phi((k + b x + c u - t) / sd_Y)."""
    x = np.asarray(x, dtype=float)
    return sum(pu * _phi((off + b * x - t) / sy) for pu, mx, sx, off, b, sy, t in closed_form_parts(scm))


def prob_melanoma_given_sun(scms: Sequence[SCM], x: np.ndarray) -> np.ndarray:
    """P(melanoma = 1 | sun_exposure = x) under the equal mixture of `scms`: Bayes over (domain, u)."""
    x = np.asarray(x, dtype=float)
    num, den = np.zeros_like(x), np.zeros_like(x)
    for scm in scms:
        for pu, mx, sx, off, b, sy, t in closed_form_parts(scm):
            w = pu * np.exp(-0.5 * ((x - mx) / sx) ** 2) / sx
            num += w * _phi((off + b * x - t) / sy)
            den += w
    return num / den


def prob_melanoma_given_sun_and_mark(components: Sequence[tuple[float, SCM]], x: np.ndarray, w: np.ndarray
                                     ) -> np.ndarray:
    """P(melanoma = 1 | X = x, W = w) under a weighted mixture of SCMs: Bayes over (component, u, y)."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    num, den = np.zeros_like(x), np.zeros_like(x)
    for weight, scm in components:
        table = np.asarray(scm.mechanism("ink_mark").table)       # [mark, melanoma]
        mark_given = [np.where(w == 1, table[1, y], table[0, y]) for y in (0, 1)]
        for pu, mx, sx, off, b, sy, t in closed_form_parts(scm):
            px = weight * pu * np.exp(-0.5 * ((x - mx) / sx) ** 2) / sx
            p1 = _phi((off + b * x - t) / sy)
            num += px * p1 * mark_given[1]
            den += px * (p1 * mark_given[1] + (1 - p1) * mark_given[0])
    return num / den


class LabelFlipTruth(GroundTruth):
    """Closed forms in the normal CDF (see the env docstring): no Monte Carlo anywhere."""

    @cached_property
    def _moments(self) -> tuple[float, float]:
        p = float(np.mean([prob_melanoma(s) for s in self.env.domain_scms]))
        return p, p * (1 - p)

    def bayes_fn(self, test_set: str) -> Callable[[np.ndarray], np.ndarray]:
        comps, cols = self.components(test_set), [self.env.variables.index(v) for v in ("sun_exposure", "ink_mark")]
        return lambda V: prob_melanoma_given_sun_and_mark(comps, V[:, cols[0]], V[:, cols[1]])

    @cached_property
    def _reference_fn(self) -> Callable[[np.ndarray], np.ndarray]:
        """P(melanoma = 1 | do(sun_exposure = x)) (the mark has no effect), mean over the clinics."""
        return lambda C: np.mean([prob_melanoma_do_sun(s, C[:, 0]) for s in self.env.domain_scms], axis=0)

    def true_effect(self, variable: str, values: Sequence[float]) -> np.ndarray | None:
        """P(melanoma = 1 | do(variable = a)), exact: the probit curve for sun exposure, the prior for the mark."""
        a = np.asarray(values, dtype=float)
        if variable == "sun_exposure":
            return np.mean([prob_melanoma_do_sun(s, a) for s in self.env.domain_scms], axis=0)
        if variable == "ink_mark":
            return np.full(a.shape, self.null)
        raise SCMError(f"{self.env.id}: unknown feature {variable!r}; features: {', '.join(self.env.variables)}")


class LabelFlip(CausalEnv):
    """Surgical ink marks predict melanoma in the training clinics because doctors mark what they excise.

    ## Description
    A dermatology classifier predicts melanoma (Y) from the records of a lesion.
    Cumulative sun exposure (X) causes melanoma. A hidden skin type confounds it:
    fair-skinned patients avoid the sun yet are more susceptible. Dermatologists
    mark lesions they will excise with surgical ink, so the ink mark (W) is an
    *effect* of the diagnosis, an annotation artefact produced from the label
    (the skin-marking shortcut of Winkler et al., 2019). In training the mark is
    the best single predictor; a model that learns it fails in a clinic that
    marks lesions differently, and worst in one that marks the benign lesions it
    wants to leave alone (the sign of the artefact flips).

    ## Variables
    - `fair_skin` U ~ Bernoulli(0.4) (hidden)
    - `sun_exposure` X = -U + N(0, 1)
    - `melanoma` Y = 1[-1 + X + 1.5 U + N(0, 1) > 0] (target; a probit link)
    - `ink_mark` W ~ Bernoulli(0.85 if Y else 0.05)

    ## Roles (computed from the graph)
    target: melanoma; causal: sun_exposure (confounded by the hidden skin type);
    anti-causal: ink_mark (a child of the target).

    ## Known answers
    Exact closed forms in the normal CDF Phi: the probit link makes every integral over
    the Gaussian X and the binary U closed form. Training mixture of the two clinics,
    each half the data (P(U = 1) averages 0.4):
    - Null predictor: P(Y = 1) = sum_u P(u) Phi((-1 + 0.5 u) / sqrt(2)) = 0.2885847586.
    - P(Y = 1 | do(X = x)) = sum_u P(u) Phi(-1 + x + 1.5 u): 0.3717781369 at x = 0,
      0.6732771195 at x = 1. P(Y = 1 | do(W = w)) = 0.2885847586 (exactly the prior), w = 0, 1.
    - The causal reference E[Y | do(X = x, W = w)] is the interventional curve above (the
      mark has no effect). The regression P(Y = 1 | X = x) = sum_{d,u} w_du(x) Phi(-1 + x + 1.5 u),
      with posterior weights w_du(x) proportional to P_d(u) N(x; -u, 1), is 0.3120657469 at
      x = 0 and 0.5560946473 at x = 1: below the interventional curve (sun-seekers are rarely
      fair-skinned), so a model of the records is wrong about do(X) even without the mark.
    - Bayes predictor of each test distribution: P(Y = 1 | X = x, W = w) by Bayes over
      (clinic, u, y) with the test distribution's marking rates, in closed form.
    `LabelFlipTruth` returns these closed forms (no Monte Carlo); the tests check them
    against numerical integration, 200k-sample estimates (5 standard errors) and decile
    calibration.
    Logistic regression on 50k observational rows puts a logit weight of about 4.8 on the
    mark (about 1.1 on X): spurious_reliance about 0.9 (tests: > 0.7), accuracy 0.93 in
    distribution and 0.19 when the marking convention flips (tests: < 0.3). Under
    `fair_skin` shifts the mark (whose mechanism is untouched) still tracks the label, so
    there the shortcut model stays close to that test set's Bayes predictor.

    ## Domains
    Two clinics: `north` (P(fair skin) = 0.6, P(mark | melanoma) = 0.9) and `south`
    (P(fair skin) = 0.2, P(mark | melanoma) = 0.8). P(mark | benign) = 0.05 in both.

    ## Shifts
    - `fair_skin@p` (confounder): P(U = 1) = p in {0.1, 0.8}.
    - `ink_unreliable@q` (spurious_break): both marking rates move to 0.45 by the
      fraction q in {0.5, 1} (at q = 1 the mark ignores the diagnosis).
    - `ink_flipped@s` (spurious_reversal): a fraction s in {0.75, 1} of marks follow the
      opposite convention: P(W | Y) = (1 - s) P_0(W | Y) + s P_0(W | 1 - Y).
    - `sunny_region@m` (causal_covariate): X = m - U + N(0, 1), m in {1, 2}.

    ## Hidden instances
    A hidden instance draws X = k U + N(0, 1) with k in [-1.5, -0.5], the probit
    Y = 1[t + b X + c U + N(0, 1) > 0] with b in [0.6, 1.4], c in [1, 2], t in [-1.5, -0.5],
    P(mark | benign) in [0.02, 0.1], and the clinics' P(fair skin) in [0.5, 0.7] (north) and
    [0.1, 0.3] (south) and P(mark | melanoma) in [0.8, 0.95] and [0.7, 0.85]. The base SCM's
    P(U = 1) is the clinics' mean and its P(mark | melanoma) theirs too. Feature columns are
    anonymised (x0, x1) and permuted; the mark's codes may be reversed. Shifts keep their names
    and severities (relative to the instance's marking rates).

    ## Version History
    - v0: initial version.
    - (no new version) hidden instances added: the public instance's data are unchanged.
    """

    id = "LabelFlip-v0"
    summary = "An anti-causal child of a binary label whose sign flips under shift."
    Truth = LabelFlipTruth
    instance_space = LABEL_FLIP_SPACE

    def _clinics(self) -> dict[str, tuple[float, float]]:
        return {name: (self.param(f"{name}_fair"), self.param(f"{name}_mark")) for name in CLINICS}

    def _ink_rates(self) -> tuple[float, float]:
        """(P(mark | benign), P(mark | melanoma)) of the base SCM."""
        if self.instance.public:
            return INK
        return self.param("ink_benign"), (self.param("north_mark") + self.param("south_mark")) / 2

    def build_scm(self) -> SCM:
        p_fair = P_FAIR if self.instance.public else (self.param("north_fair") + self.param("south_fair")) / 2
        return SCM([
            Variable("fair_skin", Bernoulli(p_fair), hidden=True, description="fair skin type (1 = yes)"),
            Variable("sun_exposure", Linear({"fair_skin": self.param("sun_fair")}, std=1.0),
                     description="cumulative sun exposure (standardised)"),
            Variable("melanoma", Threshold({"sun_exposure": self.param("risk_sun"),
                                            "fair_skin": self.param("risk_fair")},
                                           intercept=self.param("intercept")), role="target",
                     description="lesion is a melanoma (1 = yes)"),
            Variable("ink_mark", _ink(*self._ink_rates()), description="surgical ink mark on the image (1 = yes)"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        benign = self.param("ink_benign")
        return [Domain(name, {"fair_skin": Bernoulli(p_fair), "ink_mark": _ink(benign, p_mark)},
                       f"P(fair skin) = {p_fair:g}, P(mark | melanoma) = {p_mark:g}")
                for name, (p_fair, p_mark) in self._clinics().items()]

    def build_shifts(self) -> Sequence[Shift]:
        p0, p1 = self._ink_rates()

        def unreliable(q: float) -> dict:
            return {"ink_mark": _ink(p0 + q * (INK_UNINFORMATIVE - p0), p1 + q * (INK_UNINFORMATIVE - p1))}

        def flipped(s: float) -> dict:
            return {"ink_mark": _ink((1 - s) * p0 + s * p1, (1 - s) * p1 + s * p0)}

        return [
            Shift("fair_skin", "confounder", (0.1, 0.8), lambda p: {"fair_skin": Bernoulli(p)},
                  "the hidden skin-type mix changes"),
            Shift("ink_unreliable", "spurious_break", (0.5, 1.0), unreliable, "marks stop tracking the diagnosis"),
            Shift("ink_flipped", "spurious_reversal", (0.75, 1.0), flipped, "benign lesions get marked instead"),
            Shift("sunny_region", "causal_covariate", (1.0, 2.0), lambda m: {"sun_exposure": Soft(intercept=m)},
                  "a sunnier population"),
        ]
