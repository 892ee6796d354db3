"""The one table of metrics: name, label, unit, direction, headline or not, and range.

Read by the scorer's documentation, the reports, the plots, the scaling study and the
leaderboard alike, so a metric is named, described and bounded in exactly one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

INF = math.inf


@dataclass(frozen=True)
class Metric:
    """A scalar score of `Scores` (a field name) and how to read it."""

    name: str
    label: str
    unit: str
    lower_is_better: bool
    headline: bool
    low: float = -INF
    high: float = INF
    description: str = ""

    def clip(self, low: float, high: float) -> tuple[float, float]:
        """An interval clipped to the metric's range (intervals never leave what the metric can take)."""
        return max(low, self.low), min(high, self.high)


RISK_UNIT = "Var(Y) (real target) or nats (binary target)"

METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("ood_link", "OOD excess risk, link shifts", RISK_UNIT, True, True, 0.0, INF,
           "mean over the shifts that break or reverse a non-causal link of the excess risk "
           "R(f) - R(Bayes_test) of that test distribution"),
    Metric("ood_worst", "OOD excess risk, worst shift", RISK_UNIT, True, True, 0.0, INF,
           "the largest excess risk over the env's shifted test sets"),
    Metric("ood_mean", "OOD excess risk, all shifts", RISK_UNIT, True, False, 0.0, INF,
           "mean excess risk over every shifted test set"),
    Metric("excess_risk_id", "ID excess risk", RISK_UNIT, True, False, 0.0, INF,
           "excess risk over the training distribution's Bayes predictor, on the i.i.d. test set"),
    Metric("effect_error", "effect error", "sd(Y)", True, True, 0.0, INF,
           "RMS over observed variables of the RMS error of the model's implied contrasts "
           "E f | do(X_j = a) - E f | do(X_j = a0) against the true contrasts, over the env's grid of a"),
    Metric("effect_level_error", "effect level error", "sd(Y)", True, False, 0.0, INF,
           "RMS over observed variables of the error of E f | do(X_j = a0) against E[Y | do(X_j = a0)]"),
    Metric("causal_reliance", "causal reliance", "share of total reliance", False, True, 0.0, 1.0,
           "share of the model's permutation reliance on causal and action features"),
    Metric("spurious_reliance", "spurious reliance", "share of total reliance", True, True, 0.0, 1.0,
           "share of the model's permutation reliance on proxy and anti-causal features"),
    Metric("spurious_reliance_abs", "spurious reliance (absolute)", "Var(Y)", True, False, 0.0, INF,
           "permutation reliance on proxy and anti-causal features, in Var(Y) units"),
    Metric("regret", "regret", "0 = optimal, 1 = random policy", True, True, 0.0, INF,
           "normalised decision regret (U_opt - U_f) / (U_opt - U_random) on the training distribution"),
    Metric("regret_worst", "regret, worst shift", "0 = optimal, 1 = random policy", True, False, 0.0, INF,
           "the largest normalised regret over the shifted test distributions"),
    Metric("risk_id", "ID risk", "MSE (real target) or cross-entropy in nats (binary target)", True, False,
           0.0, INF, "risk on the i.i.d. test set"),
)}

HEADLINE = tuple(m.name for m in METRICS.values() if m.headline)


def metric(name: str) -> Metric:
    """The table entry of a metric (a KeyError names the known ones)."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; metrics: {', '.join(METRICS)}") from None
