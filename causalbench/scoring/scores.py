"""`Scores`: the typed result of scoring one predictor on one environment and seed."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping


def _clean(x: Any) -> Any:
    """JSON-safe floats: NaN/inf become None (a documented 'undefined')."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    return x


@dataclass(frozen=True)
class Scores:
    """Every metric of DESIGN.md for one (predictor, env, seed).

    - risk_id / risk[test set] / risk_worst: MSE (real target) or cross-entropy (binary).
    - ood_score: mean over shifted test sets of (R(f) - R(oracle)) / (R(null) - R(oracle));
      0 = causal oracle, 1 = a constant, > 1 worse than a constant. `ood` holds each term (None
      where the oracle is no better than the null, so the ratio is undefined); `ood_by_kind`
      averages them per shift kind; `ood_link` over the shifts that break or reverse the
      spurious link (where a spurious feature must fail; None if the env has none).
    - reliance[var]: E (f(x) - f(x with x_var permuted))^2; spurious/causal_reliance are
      shares of the total. If the total is 0 (a constant predictor) the shares are 0 and
      `reliance_defined` is False.
    - effect_error: RMS over (var, a) of mean prediction under do(var = a) minus the true
      E[Y | do(var = a)], divided by sd(Y).
    - regret: for decision envs, E[U(best context policy) - U(greedy policy of f)]; for multi-step
      gym tasks, expert return minus the return of f's greedy policy (action 1 where f > 1/2) per
      episode over paired episodes; else None.
    """

    env_id: str
    seed: int
    loss: str
    risk_id: float
    risk: dict[str, float]
    risk_worst: float
    ood_score: float
    ood: dict[str, float]
    ood_by_kind: dict[str, float]
    ood_link: float
    reliance: dict[str, float]
    spurious_reliance: float
    causal_reliance: float
    reliance_defined: bool
    effect_error: float
    effect_error_by_variable: dict[str, float]
    regret: float | None = None
    accuracy_id: float | None = None
    accuracy: dict[str, float] | None = None
    oracle_risk: dict[str, float] = field(default_factory=dict)
    null_risk: dict[str, float] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Scores":
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            from ..errors import ScoringError

            raise ScoringError(f"unknown Scores fields {sorted(unknown)}")
        values = dict(data)
        for key in ("risk_id", "risk_worst", "ood_score", "ood_link", "spurious_reliance", "causal_reliance",
                    "effect_error"):
            if values.get(key) is None:
                values[key] = math.nan
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    # Headline metrics, in the order reports show them.
    HEADLINE = ("risk_id", "ood_score", "ood_link", "risk_worst", "spurious_reliance", "causal_reliance",
                "effect_error", "regret")

    def headline(self) -> dict[str, float | None]:
        return {k: getattr(self, k) for k in self.HEADLINE}
