"""The fitted summary of a scaling curve: power law plus constant, y = a + b (N / N0)^-c.

`a` is the asymptote (what the metric plateaus at as the training set grows),
`c` how fast it gets there, `b` the excess over the asymptote at the smallest
size N0. The fit is weighted least squares on the seed means at each size
(weights 1 / se^2, se = standard error over seeds, floored at a tenth of the
median se so a size whose seeds happen to agree does not dominate); for fixed c
the model is linear in (a, b), so c is found by a 1-d search on [0.05, 2]
(variable projection: a grid over log c, then a bounded refinement;
deterministic, no starting values).

Intervals for `a` come from a bootstrap over seeds: whole curves (seeds) are
resampled and refitted, so the interval carries the seed-to-seed spread of
every point on the curve. With S seeds (the default is 5) percentile
intervals are too narrow, so the interval is a +/- t(S-1) sqrt(S / (S-1)) sd*,
sd* = the bootstrap standard deviation of a: for a plain mean this is exactly
the Student-t interval; for the fit it is approximate ("about 95%"). With a
single seed, the interval comes from the fit's covariance.

Degenerate curves are reported, not forced through the model:
- "too few points": fewer than 4 sizes with finite values (3 parameters need
  at least one residual degree of freedom);
- "flat": a constant explains the curve as well as the power law (F-test,
  p > 0.05); `a` is then the level (the same weighted mean over sizes, per
  seed, averaged over seeds), with a t-interval over seeds;
- "no plateau": the curve has not flattened within the sizes run, so no
  asymptote is reported (never extrapolated): either the best c sits at its
  lower bound (still moving like log N; `slope` is then the least-squares slope
  against log10 N), or the seed means at the largest size are not consistent
  with the fitted asymptote (its interval and the t-interval of the largest
  size's mean do not overlap; `slope` is the fit's slope there).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from ..scoring.aggregate import summarize, t_quantile

C_MIN, C_MAX = 0.05, 2.0
MIN_SIZES = 4
N_BOOT = 1000
FLAT_P = 0.05


@dataclass(frozen=True)
class CurveFit:
    """The fitted summary of one curve (metric vs training-set size) over seeds."""

    status: str                 # "ok" | "flat" | "no plateau" | "too few points"
    reason: str                 # why, for anything but "ok"; notes otherwise
    n_sizes: int
    n_seeds: int
    n_min: int | None
    n_max: int | None
    y_last: float | None        # seed mean at the largest size
    y_last_lo: float | None     # its 95% t-interval over seeds
    y_last_hi: float | None
    a: float | None             # asymptote (status "ok") or level (status "flat")
    a_lo: float | None          # 95% interval for a
    a_hi: float | None
    b: float | None             # y(N0) - a, with N0 = n_min
    c: float | None             # decay exponent
    slope: float | None         # dy / dlog10(N) at n_max (fit), or the log-linear slope ("no plateau")
    p_flat: float | None        # F-test p-value of "constant" against the power law
    interval: str = ""          # how [a_lo, a_hi] was obtained

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def predict(self, n: np.ndarray | Sequence[float]) -> np.ndarray:
        """The fitted curve at sizes n (status "ok"), the level ("flat"), else NaN."""
        n = np.asarray(n, dtype=float)
        if self.status == "ok" and None not in (self.a, self.b, self.c, self.n_min):
            return self.a + self.b * (n / self.n_min) ** -self.c  # type: ignore[operator]
        if self.status == "flat" and self.a is not None:
            return np.full(n.shape, self.a)
        return np.full(n.shape, np.nan)

    def describe(self, digits: int = 3) -> str:
        """One phrase for tables: "0.80 [0.75, 0.85]", "flat at 0.80 [...]", or "no fit (reason)"."""
        f = (lambda v: "n/a" if v is None else f"{v:.{digits}g}")
        ci = f" [{f(self.a_lo)}, {f(self.a_hi)}]" if self.a_lo is not None else ""
        if self.status == "ok":
            return f"{f(self.a)}{ci}"
        if self.status == "flat":
            return f"flat at {f(self.a)}{ci}"
        if self.status == "no plateau":
            return f"no plateau within N_max = {self.n_max}"
        return f"no fit ({self.status})"

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


# ---------------------------------------------------------------- least squares pieces


def _wls_line(z: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Weighted least squares y ~ a + b z: (a, b, weighted RSS)."""
    sw = w.sum()
    mz, my = (w * z).sum() / sw, (w * y).sum() / sw
    szz = (w * (z - mz) ** 2).sum()
    b = float((w * (z - mz) * (y - my)).sum() / szz) if szz > 0 else 0.0
    a = float(my - b * mz)
    return a, b, float((w * (y - a - b * z) ** 2).sum())


def _rss_grid(x: np.ndarray, y: np.ndarray, w: np.ndarray, cs: np.ndarray) -> np.ndarray:
    """Weighted RSS of the best (a, b) for every c in `cs` at once."""
    Z = x[None, :] ** -cs[:, None]
    sw = w.sum()
    mz = (Z * w).sum(axis=1, keepdims=True) / sw
    my = (w * y).sum() / sw
    szz = ((Z - mz) ** 2 * w).sum(axis=1)
    szy = ((Z - mz) * (y - my) * w).sum(axis=1)
    b = np.divide(szy, szz, out=np.zeros_like(szz), where=szz > 0)
    return (w * (y - my) ** 2).sum() - b * szy


GRID = np.geomspace(C_MIN, C_MAX, 241)


def fit_power_law(n: np.ndarray, y: np.ndarray, w: np.ndarray, refine: bool = True) -> tuple[float, float, float, float]:
    """Best (a, b, c, weighted RSS) of y = a + b (n / n.min())^-c with c in [C_MIN, C_MAX].

    A grid over log c (1.5% steps), then (if `refine`) a bounded 1-d minimisation next to the best grid point.
    """
    x = np.asarray(n, float) / float(np.min(n))
    values = _rss_grid(x, y, w, GRID)
    i = int(np.argmin(values))
    best_c = float(GRID[i])
    if refine:
        from scipy.optimize import minimize_scalar

        lo, hi = GRID[max(i - 1, 0)], GRID[min(i + 1, len(GRID) - 1)]
        res = minimize_scalar(lambda t: _wls_line(x ** -math.exp(t), y, w)[2],
                              bounds=(math.log(lo), math.log(hi)), method="bounded", options={"xatol": 1e-9})
        if res.fun < values[i]:
            best_c = min(max(float(math.exp(res.x)), C_MIN), C_MAX)
    a, b, r = _wls_line(x ** -best_c, y, w)
    return a, b, best_c, r


def _weights(se: np.ndarray, n_seeds: int) -> np.ndarray:
    if n_seeds < 2:
        return np.ones_like(se)
    positive = se[se > 0]
    floor = 0.1 * float(np.median(positive)) if len(positive) else 1.0
    return 1.0 / np.maximum(se, max(floor, 1e-12)) ** 2


def _means(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-size mean and standard error over the seeds (rows) with finite values."""
    counts = np.sum(np.isfinite(Y), axis=0)
    mean = np.nanmean(Y, axis=0)
    sd = np.array([np.nanstd(col, ddof=1) if k > 1 else 0.0 for col, k in zip(Y.T, counts)])
    return mean, sd / np.sqrt(np.maximum(counts, 1))


def _t_interval(values: np.ndarray) -> tuple[float | None, float | None]:

    s = summarize(values.tolist())
    return (s.ci_low, s.ci_high) if s.n > 1 else (None, None)


def _f_test_p(rss0: float, rss1: float, k: int) -> float:
    """p-value of the constant model (1 parameter) against the power law (3): F(2, k - 3)."""
    from scipy.stats import f as f_dist

    if rss0 <= 0:
        return 1.0
    if rss1 <= 1e-15 * rss0:
        return 0.0
    stat = ((rss0 - rss1) / 2) / (rss1 / (k - 3))
    return float(f_dist.sf(max(stat, 0.0), 2, k - 3))


# ---------------------------------------------------------------- the fit


def fit_curve(sizes: Sequence[int], values: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> CurveFit:
    """Fit one curve: `values` is (seeds x sizes), NaN where a value is missing or undefined."""
    n_all = np.asarray(sizes, dtype=float)
    Y_all = np.atleast_2d(np.asarray(values, dtype=float))
    keep = np.any(np.isfinite(Y_all), axis=0)
    n, Y = n_all[keep], Y_all[:, keep]
    Y = Y[np.any(np.isfinite(Y), axis=1)]
    k, n_seeds = len(n), len(Y)
    empty = dict(n_sizes=k, n_seeds=n_seeds, n_min=None, n_max=None, y_last=None, y_last_lo=None, y_last_hi=None,
                 a=None, a_lo=None, a_hi=None, b=None, c=None, slope=None, p_flat=None)
    if k == 0:
        return CurveFit("too few points", "no finite values", **empty)
    order = np.argsort(n)
    n, Y = n[order], Y[:, order]
    last = Y[:, -1][np.isfinite(Y[:, -1])]
    lo, hi = _t_interval(last)
    base = {**empty, "n_min": int(n[0]), "n_max": int(n[-1]), "y_last": float(np.mean(last)), "y_last_lo": lo,
            "y_last_hi": hi}
    if k < MIN_SIZES:
        return CurveFit("too few points", f"{k} size(s) with values; the fit needs at least {MIN_SIZES}", **base)
    mean, se = _means(Y)
    w = _weights(se, n_seeds)
    a, b, c, rss1 = fit_power_law(n, mean, w)
    level = float((w * mean).sum() / w.sum())
    rss0 = float((w * (mean - level) ** 2).sum())
    p_flat = _f_test_p(rss0, rss1, k)
    base["p_flat"] = p_flat
    if p_flat > FLAT_P:
        # Each seed's level is its weighted mean over sizes (the same weights): the level is their mean,
        # and its interval a t-interval over seeds.
        seed_levels = np.array([np.nansum(w * row) / np.sum(w * np.isfinite(row)) for row in Y])
        lo, hi = _t_interval(seed_levels)
        return CurveFit("flat", f"a constant fits as well as the power law (F-test p = {p_flat:.2g})",
                        **{**base, "a": float(np.mean(seed_levels)), "a_lo": lo, "a_hi": hi, "slope": 0.0},
                        interval="t-interval over seeds of each seed's weighted mean level" if lo is not None else "")
    if c <= C_MIN * (1 + 1e-6):
        slope = _wls_line(np.log10(n), mean, w)[1]
        return CurveFit("no plateau", f"still changing like log N at N = {int(n[-1])} (c at its lower bound "
                        f"{C_MIN}); asymptote not identified", **{**base, "slope": slope})
    slope = -c * b * (n[-1] / n[0]) ** -c * math.log(10)
    fit = {**base, "a": a, "b": b, "c": c, "slope": slope}
    if n_seeds >= 2:

        sd, at_lower = _bootstrap(n, Y, n_boot, seed)
        half = t_quantile(n_seeds - 1) * math.sqrt(n_seeds / (n_seeds - 1)) * sd
        note = (f"asymptote weakly identified: {at_lower:.0%} of bootstrap fits find no plateau"
                if at_lower > 0.2 else "")
        if base["y_last_lo"] is not None and (a + half < base["y_last_lo"] or a - half > base["y_last_hi"]):
            return CurveFit("no plateau", f"not flat within N_max = {int(n[-1])}: the fitted asymptote "
                            f"[{a - half:.3g}, {a + half:.3g}] lies outside the interval of the mean at N_max "
                            f"[{base['y_last_lo']:.3g}, {base['y_last_hi']:.3g}]; not extrapolated",
                            **{**base, "c": c, "slope": slope, "p_flat": p_flat})
        return CurveFit("ok", note, **{**fit, "a_lo": a - half, "a_hi": a + half},
                        interval=f"a ± t(S-1) x sqrt(S/(S-1)) x bootstrap sd over S seeds (B = {n_boot})")
    a_lo, a_hi = _covariance_interval(n, mean, a, b, c)
    return CurveFit("ok", "one seed: interval from the fit covariance", **{**fit, "a_lo": a_lo, "a_hi": a_hi},
                    interval="fit covariance (one seed)")


def _bootstrap(n: np.ndarray, Y: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """Bootstrap standard deviation of a over resampled seeds (rows), and the share of fits with c at C_MIN.

    All resamples at once: the grid fit of `fit_power_law` (without refinement) vectorised over resamples.
    """
    gen = np.random.default_rng([seed, 0x5CA1E])
    S = len(Y)
    Yb = Y[gen.integers(0, S, (n_boot, S))]                       # (B, S, k)
    finite = np.isfinite(Yb)
    counts = finite.sum(axis=1)                                   # (B, k)
    usable = np.all(counts > 0, axis=1)
    Yb, finite, counts = Yb[usable], finite[usable], counts[usable]
    if not len(Yb):
        return math.nan, 1.0
    filled = np.where(finite, Yb, 0.0)
    mean = filled.sum(axis=1) / counts
    var = np.where(finite, (Yb - mean[:, None, :]) ** 2, 0.0).sum(axis=1) / np.maximum(counts - 1, 1)
    se = np.sqrt(np.where(counts > 1, var, 0.0) / counts)
    positive = np.where(se > 0, se, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # a resample of one repeated seed has no spread
        floor = 0.1 * np.nanmedian(positive, axis=1)
    floor = np.where(np.isfinite(floor), floor, 1.0)
    W = 1.0 / np.maximum(se, np.maximum(floor, 1e-12)[:, None]) ** 2
    x = np.asarray(n, float) / float(np.min(n))
    Z = x[None, :] ** -GRID[:, None]                              # (G, k)
    sw = W.sum(axis=1)[:, None]                                   # (B, 1)
    mz = (W @ Z.T) / sw                                           # (B, G)
    my = (W * mean).sum(axis=1)[:, None] / sw
    szz = (W @ (Z ** 2).T) - sw * mz ** 2
    szy = ((W * mean) @ Z.T) - sw * mz * my
    b = np.divide(szy, szz, out=np.zeros_like(szz), where=szz > 1e-300)
    rss = (W * (mean - my) ** 2).sum(axis=1)[:, None] - b * szy
    best = np.argmin(rss, axis=1)
    rows = np.arange(len(best))
    a = my[:, 0] - b[rows, best] * mz[rows, best]
    at_lower_bound = float(np.mean(best == 0))
    return float(np.std(a, ddof=1)) if len(a) > 1 else math.nan, at_lower_bound


def _covariance_interval(n: np.ndarray, y: np.ndarray, a: float, b: float, c: float
                         ) -> tuple[float | None, float | None]:
    """a +/- t * se(a) from the unweighted Gauss-Newton covariance (single seed)."""

    x = n / n[0]
    J = np.column_stack([np.ones_like(x), x ** -c, -b * x ** -c * np.log(x)])
    dof = len(n) - 3
    resid = y - (a + b * x ** -c)
    s2 = float(resid @ resid) / dof
    try:
        cov = s2 * np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        return None, None
    half = t_quantile(dof) * math.sqrt(max(cov[0, 0], 0.0))
    return a - half, a + half
