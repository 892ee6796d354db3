"""Aggregation across seeds: mean, std, n and a 95% interval that stays inside the metric's range.

The interval is the two-sided Student-t interval for the mean (n - 1 degrees of freedom),
clipped to the range the metric can take (a share never leaves [0, 1], an error is never
negative); every summary says n. Used by every report and by the leaderboard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from .metrics import METRICS


@dataclass(frozen=True)
class Summary:
    """mean +/- std over n values, with a 95% interval for the mean clipped to the metric's range."""

    mean: float
    std: float
    n: int
    ci_low: float
    ci_high: float

    def __str__(self) -> str:
        if self.n == 0:
            return "n/a"
        return f"{self.mean:.3g} ± {self.std:.2g} (n={self.n})" if self.n > 1 else f"{self.mean:.3g} (n=1)"

    def to_dict(self) -> dict[str, float | int | None]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in {"mean": self.mean, "std": self.std, "n": self.n,
                             "ci_low": self.ci_low, "ci_high": self.ci_high}.items()}


def t_quantile(df: int, q: float = 0.975) -> float:
    from scipy.stats import t  # lazy

    return float(t.ppf(q, df))


def summarize(values: Iterable[float | None], metric: str | None = None, low: float = -math.inf,
              high: float = math.inf) -> Summary:
    """Summary of the finite values (None/NaN are dropped, so n says how many counted).

    The interval is clipped to [low, high], or to the range of `metric` in the metric table."""
    if metric is not None and metric in METRICS:
        low, high = METRICS[metric].low, METRICS[metric].high
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return Summary(math.nan, math.nan, 0, math.nan, math.nan)
    mean = sum(xs) / n
    if n == 1:
        return Summary(mean, 0.0, 1, math.nan, math.nan)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_quantile(n - 1) * std / math.sqrt(n)
    return Summary(mean, std, n, max(mean - half, low), min(mean + half, high))
