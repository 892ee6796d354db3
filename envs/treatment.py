"""TreatmentRecovery: a hidden severity makes a helpful treatment look harmful (Simpson's paradox)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.scm import CPT, SCM, Bernoulli, Logistic, Soft, Variable

TREATMENT_COST = 0.05


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

    ## Version History
    - v0: initial version.
    """

    id = "TreatmentRecovery-v0"
    summary = "Hidden severity makes a helpful treatment look harmful in the records (Simpson's paradox)."
    action = "treated"

    def build_scm(self) -> SCM:
        return SCM([
            Variable("severity", Bernoulli(0.5), hidden=True, description="disease severity"),
            Variable("old", Bernoulli(0.4), description="patient over 65"),
            Variable("symptoms", _symptoms(0.8, 0.2), description="visible symptoms"),
            Variable("treated", Logistic({"severity": 3.0}, intercept=-1.5), description="treated"),
            Variable("recovered", Logistic({"treated": 1.0, "severity": -3.0, "old": -0.8}, intercept=1.5),
                     role="target", description="recovered"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        return [Domain("strict", {}, "triage strongly follows severity"),
                Domain("lenient", {"treated": Logistic({"severity": 1.5}, intercept=-0.75)},
                       "triage weakly follows severity")]

    def build_shifts(self) -> Sequence[Shift]:
        def unreliable(q: float) -> dict:
            return {"symptoms": _symptoms(0.8 + q * (0.5 - 0.8), 0.2 + q * (0.5 - 0.2))}

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
