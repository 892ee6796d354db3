"""TreatmentRecovery: a hidden severity makes a helpful treatment look harmful (Simpson's paradox)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.env.instances import InstanceSpace, Param
from causalbench.scm import CPT, SCM, Bernoulli, Logistic, Soft, Variable

TREATMENT_COST = 0.05
# Hidden instances: every probability and logit weight varies in a range that keeps the story (a helpful
# treatment, severe cases treated more often and recovering less).
TREATMENT_SPACE = InstanceSpace((
    Param("p_severe", 0.5, 0.35, 0.65, description="P(severity = 1)"),
    Param("p_old", 0.4, 0.2, 0.6, description="P(old)"),
    Param("symptoms_severe", 0.8, 0.7, 0.9, description="P(symptoms | severe)"),
    Param("symptoms_mild", 0.2, 0.1, 0.3, description="P(symptoms | mild)"),
    Param("triage", 3.0, 2.5, 3.5, description="logit weight of severity on treatment (strict hospital; lenient: half)"),
    Param("effect", 1.0, 0.75, 1.25, description="logit effect of treatment on recovery"),
    Param("harm", 3.0, 2.5, 3.5, description="logit effect of severity against recovery"),
    Param("age", 0.8, 0.5, 1.1, description="logit effect of old age against recovery"),
))


def _symptoms(p_if_severe: float, p_if_mild: float) -> CPT:
    return CPT(("severity",), [[1 - p_if_mild, 1 - p_if_severe], [p_if_mild, p_if_severe]], (2,))


class TreatmentRecovery(CausalEnv):
    """Doctors treat the severe cases, so in the records treated patients recover less often.

    ## Description
    A hidden disease severity H makes doctors more likely to treat (T) and makes
    recovery (R) less likely. The treatment helps every patient (+1 on the logit
    of recovery), yet in observational records the treated recover *less*
    often: Simpson's paradox. A model trained on the records learns that
    treatment hurts; a decision-maker using it withholds treatment.

    ## Variables
    - `severity` H ~ Bernoulli(0.5) (hidden)
    - `old` A ~ Bernoulli(0.4): patient is over 65
    - `symptoms` S ~ Bernoulli(0.8 if H else 0.2): a noisy observed sign of severity
    - `treated` T ~ Bernoulli(sigmoid(-1.5 + 3 H)) (the doctors' logged policy)
    - `recovered` R ~ Bernoulli(sigmoid(1.5 + T - 3 H - 0.8 A)) (target)

    ## Roles (computed from the graph)
    target: recovered; action: treated; causal: old; proxy: symptoms (a child
    of the hidden confounder: prognostic, not a cause).

    ## Known answers (exact enumeration, checked against pgmpy)
    Observationally P(R | T=1) < P(R | T=0); interventionally
    P(R | do(T=1)) > P(R | do(T=0)). The causal reference is P(R | do(T, A)), averaged over the training domains.

    ## Domains
    Two hospitals: `strict` triage (logit weight 3 on H) and `lenient` (1.5).

    ## Shifts
    - `severe_cases@p` (confounder): P(H = 1) = p in {0.2, 0.8}.
    - `triage_reversed@w` (mechanism): T ~ Bernoulli(sigmoid(1.5 - w H)), w in {1.5, 3}.
    - `symptoms_unreliable@q` (spurious_break): P(S=1 | H) moves to 0.5 by fraction q in {0.5, 1}.
    - `older_patients@p` (causal_covariate): P(A = 1) = p in {0.7, 0.9}.

    ## Decision task (gymnasium)
    Observation: (old, symptoms); action: treat or not (Discrete(2));
    reward = recovered - 0.05 * treated. Treating is optimal for everyone.

    ## Hidden instances
    A hidden instance draws P(H) in [0.35, 0.65], P(A) in [0.2, 0.6], P(S | severe) in
    [0.7, 0.9], P(S | mild) in [0.1, 0.3], the strict triage weight w in [2.5, 3.5] (intercept
    -w/2; the lenient hospital halves both), and the recovery logit 1.5 + b T - h H - g A with
    b in [0.75, 1.25], h in [2.5, 3.5], g in [0.5, 1.1]. Its feature columns are anonymised
    (x0, x1, x2) and permuted, and the codes of `old` and `symptoms` may be reversed (the
    action keeps its codes). Shifts keep their names and severities.

    ## Version History
    - v0: initial version.
    - (no new version) hidden instances added: the public instance's data are unchanged.
    """

    id = "TreatmentRecovery-v0"
    summary = "Hidden severity makes a helpful treatment look harmful in the records (Simpson's paradox)."
    action = "treated"
    instance_space = TREATMENT_SPACE

    def build_scm(self) -> SCM:
        w, p = self.param("triage"), self.param
        return SCM([
            Variable("severity", Bernoulli(p("p_severe")), hidden=True, description="disease severity"),
            Variable("old", Bernoulli(p("p_old")), description="patient over 65"),
            Variable("symptoms", _symptoms(p("symptoms_severe"), p("symptoms_mild")), description="visible symptoms"),
            Variable("treated", Logistic({"severity": w}, intercept=-w / 2), description="treated"),
            Variable("recovered", Logistic({"treated": p("effect"), "severity": -p("harm"), "old": -p("age")},
                                           intercept=1.5), role="target", description="recovered"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        w = self.param("triage")
        return [Domain("strict", {}, "triage strongly follows severity"),
                Domain("lenient", {"treated": Logistic({"severity": w / 2}, intercept=-w / 4)},
                       "triage weakly follows severity")]

    def build_shifts(self) -> Sequence[Shift]:
        hi, lo = self.param("symptoms_severe"), self.param("symptoms_mild")

        def unreliable(q: float) -> dict:
            return {"symptoms": _symptoms(hi + q * (0.5 - hi), lo + q * (0.5 - lo))}

        return [
            Shift("severe_cases", "confounder", (0.2, 0.8), lambda p: {"severity": Bernoulli(p)},
                  "more or fewer severe cases"),
            Shift("triage_reversed", "mechanism", (1.5, 3.0),
                  lambda w: {"treated": Logistic({"severity": -w}, intercept=1.5)}, "mild cases get treated"),
            Shift("symptoms_unreliable", "spurious_break", (0.5, 1.0), unreliable, "symptoms stop tracking severity"),
            Shift("older_patients", "causal_covariate", (0.7, 0.9), lambda p: {"old": Soft(p=p)}, "older population"),
        ]

    def utility(self, y: np.ndarray, action: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=float) - TREATMENT_COST * np.asarray(action, dtype=float)
