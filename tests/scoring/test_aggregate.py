"""Summaries across seeds: hand-computed intervals (n - 1 degrees of freedom), clipping, dropped values."""

from __future__ import annotations

import math

import pytest

from causalbench.scoring.aggregate import summarize

# Student t 0.975 quantiles from a printed table (Abramowitz & Stegun 26.10): df = 1, 2, 4.
T975 = {1: 12.7062, 2: 4.3027, 4: 2.7764}


@pytest.mark.parametrize("values", [[1.0, 3.0], [0.2, 0.4, 0.9], [1.0, 2.0, 2.0, 3.0, 7.0]])
def test_interval_is_the_student_t_interval_with_n_minus_1_degrees_of_freedom(values) -> None:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))   # sample sd, by hand
    half = T975[n - 1] * sd / math.sqrt(n)
    s = summarize(values)
    assert (s.n, s.mean) == (n, pytest.approx(mean)) and s.std == pytest.approx(sd)
    assert s.ci_low == pytest.approx(mean - half, abs=1e-4 * half) and s.ci_high == pytest.approx(mean + half, abs=1e-4 * half)


def test_interval_respects_the_metric_range() -> None:
    share = summarize([0.01, 0.02, 0.9], metric="spurious_reliance")     # a share cannot leave [0, 1]
    assert share.ci_low == 0.0 and share.ci_high <= 1.0
    error = summarize([0.0, 0.01, 0.5], metric="effect_error")           # an error is never negative
    assert error.ci_low == 0.0 and error.ci_high > error.mean
    free = summarize([0.0, 0.01, 0.5])
    assert free.ci_low < 0.0


def test_undefined_values_are_dropped_and_counted_out() -> None:
    s = summarize([1.0, None, float("nan"), 3.0])
    assert s.n == 2 and s.mean == 2.0
    one = summarize([5.0])
    assert one.n == 1 and one.std == 0.0 and math.isnan(one.ci_low) and str(one) == "5 (n=1)"
    none = summarize([None])
    assert none.n == 0 and str(none) == "n/a" and none.to_dict()["mean"] is None
