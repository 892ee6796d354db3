"""Asia: the classic chest-clinic Bayesian network, with smoking and the lung diseases hidden."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.env.instances import InstanceSpace, Param
from causalbench.scm import CPT, SCM, Variable

# Published conditional probabilities P(variable = yes | parents) of Lauritzen & Spiegelhalter (1988),
# as in bnlearn's asia.bif. Parent configurations run with the first parent slowest, codes 0 = no, 1 = yes.
P_ASIA = 0.01                           # visited Asia
P_TUB = (0.01, 0.05)                    # tuberculosis | asia = no, yes
P_SMOKE = 0.5                           # smoker
P_LUNG = (0.01, 0.1)                    # lung cancer | smoke = no, yes
P_BRONC = (0.3, 0.6)                    # bronchitis | smoke = no, yes
P_EITHER = (0.0, 1.0, 1.0, 1.0)         # tub or lung | (lung, tub) = (no, no), (no, yes), (yes, no), (yes, yes)
P_XRAY = (0.05, 0.98)                   # abnormal chest X-ray | either = no, yes
P_DYSP = (0.1, 0.7, 0.8, 0.9)           # dyspnoea | (bronc, either) = (no, no), (no, yes), (yes, no), (yes, yes)

# Training clinics: (P(smoke = yes), P(asia = yes)).
CLINICS = {"inland": (0.3, 0.01), "port": (0.7, 0.1)}


def _probabilities(name: str, public: Sequence[float], ranges: Sequence[tuple[float, float]], what: str) -> list[Param]:
    return [Param(f"{name}{i}" if len(public) > 1 else name, p, lo, hi, description=f"{what} ({i})" if len(public) > 1
                  else what) for i, (p, (lo, hi)) in enumerate(zip(public, ranges))]


# Hidden instances: every published probability varies in a range around it (the OR stays an OR), as do
# the clinics. Indices follow the parent configurations of the constants above.
ASIA_SPACE = InstanceSpace(tuple(
    _probabilities("p_asia", [P_ASIA], [(0.005, 0.03)], "P(asia), base SCM")
    + _probabilities("p_tub", P_TUB, [(0.005, 0.02), (0.03, 0.1)], "P(tub | asia)")
    + _probabilities("p_smoke", [P_SMOKE], [(0.4, 0.6)], "P(smoke), base SCM")
    + _probabilities("p_lung", P_LUNG, [(0.005, 0.03), (0.05, 0.2)], "P(lung | smoke)")
    + _probabilities("p_bronc", P_BRONC, [(0.2, 0.4), (0.5, 0.7)], "P(bronc | smoke)")
    + _probabilities("p_xray", P_XRAY, [(0.02, 0.1), (0.9, 0.99)], "P(xray | either)")
    + _probabilities("p_dysp", P_DYSP, [(0.05, 0.15), (0.6, 0.8), (0.7, 0.9), (0.85, 0.95)], "P(dysp | bronc, either)")
    + _probabilities("inland", CLINICS["inland"], [(0.2, 0.4), (0.005, 0.02)], "inland clinic: P(smoke), P(asia)")
    + _probabilities("port", CLINICS["port"], [(0.6, 0.8), (0.05, 0.15)], "port clinic: P(smoke), P(asia)")))


def _cpt(p_yes: Sequence[float], parents: Sequence[str] = ()) -> CPT:
    """A binary CPT (rows: no, yes) from P(yes) per parent configuration."""
    p = np.asarray(p_yes, dtype=float)
    return CPT(tuple(parents), [list(1.0 - p), list(p)], (2,) * len(parents))


def _xray(p_yes: Sequence[float]) -> CPT:
    return _cpt(p_yes, ("either",))


class Asia(CausalEnv):
    """Dyspnoea looks predictable from the chest X-ray, but the X-ray only shares a hidden cause with it.

    ## Description
    The "Asia" chest-clinic network of Lauritzen & Spiegelhalter (1988), with the
    published probabilities, built by hand (not loaded from a file). A patient's
    shortness of breath (dyspnoea) is caused by bronchitis and by "either"
    tuberculosis or lung cancer; an abnormal chest X-ray is another effect of
    "either". The clinic's records hold the travel history, the bronchitis
    diagnosis and the X-ray; smoking is not recorded and tuberculosis and lung
    cancer are not (yet) diagnosed. So the X-ray is the only window on the
    hidden lung disease, and a model trained on the records leans on it to
    predict dyspnoea, although taking (or faking) an X-ray changes nobody's
    breathing. A poor X-ray machine, or a clinic coding the film the other way
    round, breaks that model. Smoking, hidden, also confounds bronchitis with
    dyspnoea (bronc <- smoke -> lung -> either -> dysp), so even the causal
    feature's observational association differs from its effect.

    ## Variables
    All binary, codes 0 = no, 1 = yes (the .bif file lists "yes" first; here 1 = yes).
    - `asia`   visited Asia, P = 0.01
    - `tub`    tuberculosis, P(tub | asia) = 0.05, P(tub | no asia) = 0.01 (hidden)
    - `smoke`  smoker, P = 0.5 (hidden)
    - `lung`   lung cancer, P(lung | smoke) = 0.1, else 0.01 (hidden)
    - `bronc`  bronchitis, P(bronc | smoke) = 0.6, else 0.3
    - `either` tub or lung (deterministic OR) (hidden)
    - `xray`   abnormal X-ray, P(xray | either) = 0.98, else 0.05
    - `dysp`   dyspnoea (target), P(dysp | bronc, either) = 0.9, P(dysp | bronc only) = 0.8,
      P(dysp | either only) = 0.7, else 0.1

    ## Roles (computed from the graph)
    target: dysp; causal: bronc, asia (asia's effect runs through the hidden tuberculosis
    and is small, see below); proxy: xray (a confounded sibling: a child of the hidden
    `either`, not a cause of dysp). Tuberculosis and lung cancer are hidden with
    `either`: since either = tub OR lung, observing both would reveal `either` and
    leave the X-ray nothing to add.

    ## Known answers (exact enumeration over the training mixture, checked against pgmpy)
    - Null predictor (prior): P(dysp = 1) = 0.43655137.
    - Causal reference P(dysp = 1 | do(asia = a, bronc = b, xray = x)) (no effect of x):
      0.13867 (a = 0, b = 0), 0.806445 (0, 1), 0.16135 (1, 0), 0.810225 (1, 1).
    - The regression on bronchitis alone: P(dysp = 1 | bronc = 0) = 0.1325128218,
      P(dysp = 1 | bronc = 1) = 0.80815404.
    - P(dysp = 1 | do(bronc = 0)) = 0.13989796, P(dysp = 1 | do(bronc = 1)) = 0.80664966:
      bronchitis is confounded by smoking, so observation and intervention differ.
    - P(dysp = 1 | do(xray = a)) = 0.43655137 (the prior) for a = 0, 1: the X-ray has no effect.
    - P(dysp = 1 | do(asia = 0)) = 0.4358275, P(dysp = 1 | do(asia = 1)) = 0.4501375.
    - Observationally P(dysp = 1 | bronc = 0, xray = 1) = 0.41737243 against 0.10072282 for
      xray = 0: the X-ray is a strong non-causal predictor. Logistic regression on
      observational data gives it a logit weight of about 1.4 (tests check > 0.9).
    Every number above is exact (the ground truth enumerates the discrete model; none is a
    Monte-Carlo estimate), and the tests check them against pgmpy's exact inference.

    ## Domains
    Two clinics (the base SCM is the published network, their average smoker share):
    `inland` (P(smoke) = 0.3, P(asia) = 0.01) and `port` (P(smoke) = 0.7, P(asia) = 0.1:
    sailors, heavy smokers, often back from Asia).

    ## Shifts
    - `smoking@p` (confounder): P(smoke) = p in {0.1, 0.9}.
    - `tuberculosis@p` (confounder): an epidemic, P(tub | asia) = p and
      P(tub | no asia) = p / 5, p in {0.2, 0.5} (published: 0.05). The hidden `either`
      drives both the X-ray and dyspnoea, so here the X-ray *helps* a predictor.
    - `xray_noisy@q` (spurious_break): a poor X-ray machine, P(xray | either) moves
      towards 0.5 by the fraction q in {0.5, 1} (at q = 1 the film is a coin flip).
    - `xray_reversed@s` (spurious_reversal): a clinic codes the film with the opposite
      convention for a fraction s in {0.75, 1} of reports,
      P(xray | either) = (1 - s) P_0 + s (1 - P_0).
    - `bronchitis_outbreak@p` (causal_covariate): an infection season, bronchitis also
      strikes independently with probability p in {0.3, 0.6}:
      P(bronc | smoke) = 1 - (1 - P_0(bronc | smoke)) (1 - p).

    ## Hidden instances
    A hidden instance keeps the graph and the deterministic OR, and draws every other
    probability in a range around the published one: P(asia) in [0.005, 0.03], P(tub | asia)
    in [0.005, 0.02] / [0.03, 0.1], P(smoke) in [0.4, 0.6], P(lung | smoke) in [0.005, 0.03] /
    [0.05, 0.2], P(bronc | smoke) in [0.2, 0.4] / [0.5, 0.7], P(xray | either) in [0.02, 0.1] /
    [0.9, 0.99], P(dysp | bronc, either) in [0.05, 0.15], [0.6, 0.8], [0.7, 0.9], [0.85, 0.95],
    and the clinics' (P(smoke), P(asia)) in [0.2, 0.4] x [0.005, 0.02] (inland) and
    [0.6, 0.8] x [0.05, 0.15] (port). Feature columns are anonymised (x0, x1, x2) and permuted,
    and each column's codes may be reversed (1 = no). Shifts keep their names and severities
    (relative to the instance's probabilities).

    ## Version History
    - v0: initial version.
    - (no new version) hidden instances added: the public instance's data are unchanged.
    """

    id = "Asia-v0"
    summary = "The classic Asia (chest clinic) Bayesian network with hidden nodes; exact pgmpy ground truth."
    instance_space = ASIA_SPACE

    def _p(self, name: str, count: int) -> list[float]:
        return [self.param(f"{name}{i}") for i in range(count)] if count > 1 else [self.param(name)]

    def build_scm(self) -> SCM:
        p = self._p
        return SCM([
            Variable("asia", _cpt(p("p_asia", 1)), description="visited Asia (1 = yes)"),
            Variable("tub", _cpt(p("p_tub", 2), ("asia",)), hidden=True, description="tuberculosis (1 = yes)"),
            Variable("smoke", _cpt(p("p_smoke", 1)), hidden=True, description="smoker (1 = yes)"),
            Variable("lung", _cpt(p("p_lung", 2), ("smoke",)), hidden=True, description="lung cancer (1 = yes)"),
            Variable("bronc", _cpt(p("p_bronc", 2), ("smoke",)), description="bronchitis (1 = yes)"),
            Variable("either", _cpt(P_EITHER, ("lung", "tub")), hidden=True,
                     description="tuberculosis or lung cancer (1 = yes)"),
            Variable("xray", _xray(p("p_xray", 2)), description="abnormal chest X-ray (1 = yes)"),
            Variable("dysp", _cpt(p("p_dysp", 4), ("bronc", "either")), role="target", description="dyspnoea (1 = yes)"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        return [Domain(name, {"smoke": _cpt([p_smoke]), "asia": _cpt([p_asia])},
                       f"P(smoke) = {p_smoke:g}, P(asia) = {p_asia:g}")
                for name, (p_smoke, p_asia) in ((n, tuple(self._p(n, 2))) for n in CLINICS)]

    def build_shifts(self) -> Sequence[Shift]:
        base = np.asarray(self._p("p_xray", 2))
        bronc = np.asarray(self._p("p_bronc", 2))

        def noisy(q: float) -> dict:
            return {"xray": _xray((1 - q) * base + q * 0.5)}

        def reversed_(s: float) -> dict:
            return {"xray": _xray((1 - s) * base + s * (1 - base))}

        def outbreak(p: float) -> dict:
            return {"bronc": _cpt(1 - (1 - bronc) * (1 - p), ("smoke",))}

        return [
            Shift("smoking", "confounder", (0.1, 0.9), lambda p: {"smoke": _cpt([p])},
                  "the hidden smoker share changes"),
            Shift("tuberculosis", "confounder", (0.2, 0.5), lambda p: {"tub": _cpt([p / 5, p], ("asia",))},
                  "a tuberculosis epidemic"),
            Shift("xray_noisy", "spurious_break", (0.5, 1.0), noisy, "a poor X-ray machine"),
            Shift("xray_reversed", "spurious_reversal", (0.75, 1.0), reversed_, "film coded the other way round"),
            Shift("bronchitis_outbreak", "causal_covariate", (0.3, 0.6), outbreak, "an infection season"),
        ]
