"""`Scores`: the typed result of scoring one predictor on one environment and evaluation seed.

Units: risks are MSE (real target) or cross-entropy in nats (binary target); excess risks and
reliance are in Var_train(Y) units (real) or nats / P(Y)(1 - P(Y)) units (binary, see below);
effect errors in sd_train(Y); regret is normalised, 0 = the best policy on observed context,
1 = the uniformly random policy. Every field is documented in `causalbench.scoring.metrics`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from ..errors import ScoringError
from .metrics import HEADLINE


def _clean(x: Any) -> Any:
    """JSON-safe floats: NaN/inf become None (a documented 'undefined')."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    return x


@dataclass(frozen=True)
class Scores:
    """Every metric of DESIGN.md "Metrics, v2" for one (predictor, env, evaluation seed).

    OOD (per test set t): `excess_risk` maps t to R_t(f) - R_t(Bayes_t), the risk in excess of the
      Bayes predictor of that test distribution, computed pointwise (MSE: E (f - Bayes)^2 /
      Var_train(Y); binary: E KL(Bernoulli(Bayes) || Bernoulli(f)) in nats), so it is >= 0 and
      equals the difference of risks in expectation. `ood_link` = mean over the shifts that break
      or reverse a non-causal link; `ood_worst` = max over shifts; `ood_mean` = mean over shifts;
      `ood_by_kind` = mean per kind of shift; `excess_risk_id` = on the i.i.d. test set. `risk` / `bayes_risk`
      hold the raw risks per test set and `risk_id` the raw risk on the i.i.d. test set.
    Reliance: `reliance` maps v to E (f(x) - f(x with v permuted))^2 in Var_train(Y) units (for rendered
      envs v is a latent variable, permuted before rendering); `reliance_by_role` sums it per role
      (causal, action, proxy, anti-causal, other); `causal_reliance` / `spurious_reliance` are the
      shares of causal+action / proxy+anti-causal in the total (0 with `reliance_defined` False
      when the total is 0, e.g. a constant predictor); `spurious_reliance_abs` the absolute sum.
    Effects: `effect_error_by_variable` maps v to the RMS over the grid values a != a0 of the error of the
      model's contrast E f | do(v = a) - E f | do(v = a0) against the true contrast, in sd(Y);
      `effect_error` = RMS over variables; `effect_level_error` = RMS over variables of the
      level error at a0 (`effect_level_error_by_variable`: |E f | do(v = a0) - E[Y | do(v = a0)]| / sd(Y)).
    Regret (decision envs and multi-step tasks; None elsewhere): `regret_by_test_set` maps t to
      (U_opt - U_f) / (U_opt - U_random) on test distribution t, where U_opt is the best policy on
      observed context (one-step envs) or the best memoryless policy on the observation (multi-step
      envs), U_f the greedy policy of the predictor and U_random the uniformly random policy;
      `regret` = on the training distribution, `regret_worst` = max over shifts,
      `regret_constant` = the regret of the null (constant) predictor on the training distribution.
    """

    env_id: str
    seed: int
    loss: str
    risk_id: float
    risk: dict[str, float]
    bayes_risk: dict[str, float]
    excess_risk: dict[str, float]
    excess_risk_id: float
    ood_link: float
    ood_worst: float
    ood_mean: float
    ood_by_kind: dict[str, float]
    reliance: dict[str, float]
    reliance_by_role: dict[str, float]
    causal_reliance: float
    spurious_reliance: float
    spurious_reliance_abs: float
    reliance_defined: bool
    effect_error: float
    effect_error_by_variable: dict[str, float]
    effect_level_error: float
    effect_level_error_by_variable: dict[str, float]
    regret: float | None = None
    regret_by_test_set: dict[str, float] | None = None
    regret_worst: float | None = None
    regret_constant: float | None = None
    accuracy_id: float | None = None
    accuracy: dict[str, float] | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Scores":
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ScoringError(f"unknown Scores fields {sorted(unknown)}")
        values = dict(data)
        for key in HEADLINE:
            if key in names and values.get(key) is None and key != "regret":
                values[key] = math.nan
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def headline(self) -> dict[str, float | None]:
        """The headline metrics of `causalbench.scoring.metrics`, in the table's order."""
        return {k: getattr(self, k) for k in HEADLINE}
