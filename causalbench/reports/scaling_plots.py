"""Scaling-study plots: metrics against training-set size (log axis) with 95% intervals over seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .fit import CurveFit
from .records import pyplot
from .scaling_data import HEADLINE, Curve, metric_label

# One family of shades per method (light to dark over widths), in the order methods appear; privileged black.
FAMILIES = (["#6a3d9a", "#9e9ac8", "#3f007d"], ["#9ecae1", "#4292c6", "#08519c", "#08306b"],
            ["#fdae6b", "#f16913", "#a63603", "#7f2704"], ["#a1d99b", "#41ab5d", "#006d2c"],
            ["#fcbba1", "#ef3b2c", "#99000d"], ["#d9d9d9", "#969696", "#525252"])


def _styles(curves: Sequence[Curve]) -> dict[tuple[str, int | None], dict[str, Any]]:
    """One colour per (method, width): shades of a family for widths; privileged methods black and dashed."""
    keys = list(dict.fromkeys((c.method, c.width) for c in curves))
    privileged = {c.method for c in curves if c.privileged}
    styles = {}
    families = iter(FAMILIES * (1 + len(keys) // len(FAMILIES)))
    for method in dict.fromkeys(m for m, _ in keys):
        widths = sorted({w for m, w in keys if m == method}, key=lambda w: w or 0)
        palette = ["#000000"] if method in privileged else next(families)
        for i, w in enumerate(widths):
            styles[(method, w)] = {"color": palette[min(i, len(palette) - 1)],
                                   "ls": "--" if method in privileged else "-",
                                   "label": method + (f" w{w}" if w is not None else "")}
    return styles


def _rows(curves: Sequence[Curve]) -> list[float | None]:
    fractions = sorted({c.fraction for c in curves if c.fraction is not None})
    return fractions or [None]


def _row_title(f: float | None) -> str:
    """Row label: the fraction f of training units whose observed variables were all randomised."""
    if f is None:
        return "own track's data"
    return "f = 0\n(observational)" if f == 0 else f"f = {f:g}\n(randomised units)"


def _panel(ax: Any, curves: Sequence[Curve], fits: dict, metric: str, styles: dict, log_y: bool = False) -> None:
    for c in curves:
        st = styles[(c.method, c.width)]
        stats = c.summaries(metric)
        n = np.array(c.sizes, dtype=float)
        mean = np.array([s.mean if s.n else np.nan for s in stats])
        lo = np.array([s.ci_low if s.n > 1 else s.mean for s in stats])
        hi = np.array([s.ci_high if s.n > 1 else s.mean for s in stats])
        ax.plot(n, mean, marker="o", ms=3, lw=1.4, color=st["color"], ls=st["ls"], label=st["label"])
        ax.fill_between(n, lo, hi, color=st["color"], alpha=0.15, lw=0)
        fit: CurveFit | None = fits.get((c.label, metric))
        if fit is not None and fit.status == "ok":
            grid = np.geomspace(n.min(), n.max(), 60)
            ax.plot(grid, fit.predict(grid), color=st["color"], lw=0.8, ls=":")
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)


def _grid_figure(curves: Sequence[Curve], fits: dict, metrics: Sequence[str], title: str, path: Path,
                 reference_lines: dict[str, float] | None = None) -> Path:
    plt = pyplot()
    rows = _rows(curves)
    styles = _styles(curves)
    fig, axes = plt.subplots(len(rows), len(metrics), figsize=(3.5 * len(metrics), 2.9 * len(rows) + 0.9),
                             squeeze=False, sharex=True)
    for i, f in enumerate(rows):
        members = [c for c in curves if c.fraction == f or c.fraction is None]
        for j, m in enumerate(metrics):
            ax = axes[i, j]
            _panel(ax, members, fits, m, styles, log_y=(m == "excess_risk_id" and _spans_decades(members, m)))
            for value in (reference_lines or {}).get(m, ()):
                ax.axhline(value, color="grey", lw=0.7, ls="-.")
            if i == 0:
                ax.set_title(metric_label(m), fontsize=10)
            if i == len(rows) - 1:
                ax.set_xlabel("training rows N")
            if j == 0:
                ax.set_ylabel(_row_title(f), fontsize=9)
    handles = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    height = fig.get_size_inches()[1]
    ncol = min(len(handles), 6)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    legend_rows = -(-len(handles) // ncol)
    fig.tight_layout(rect=(0, (0.1 + 0.2 * legend_rows) / height, 1, 1 - 0.4 / height))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _spans_decades(curves: Sequence[Curve], metric: str) -> bool:
    vals = np.concatenate([c.values(metric).ravel() for c in curves])
    vals = vals[np.isfinite(vals)]
    return bool(len(vals) and vals.min() > 0 and vals.max() / vals.min() > 30)


def plot_path_dependence(paths: Sequence[dict[str, Any]], records: Sequence[dict[str, Any]], path: Path) -> Path:
    """Final spurious reliance and OOD score of every continual run, by domain order (points = seeds)."""
    plt = pyplot()
    fig, axes = plt.subplots(len(paths), 2, figsize=(8, 2.8 * len(paths) + 0.4), squeeze=False)
    for i, p in enumerate(paths):
        recs = [r for r in records if r.get("kind") == "path" and r["method"] == p["method"]
                and r["stage"] == r["n_stages"] - 1]
        for j, name in enumerate(("spurious_reliance", "ood_link")):
            ax = axes[i, j]
            for x, order in enumerate(p["orders"]):
                ys = [r["scores"][name] for r in recs if " > ".join(r["order"]) == order]
                ax.scatter(np.full(len(ys), x) + np.linspace(-0.12, 0.12, len(ys)), ys, s=14)
            ax.set_xticks(range(len(p["orders"])), p["orders"], fontsize=8)
            ax.set_ylabel(name.replace("_", " "))
            ax.set_xlim(-0.5, len(p["orders"]) - 0.5)
        d = p["disagreement_across_seeds"], p["disagreement_across_orders"]
        axes[i, 0].set_title(f"{p['method']} (N = {p['n_train']}): disagreement across seeds "
                             f"{_fmt(d[0].get('mean'))}, across orders {_fmt(d[1].get('mean'))}", fontsize=9, loc="left")
    fig.suptitle("Path dependence: the same continual learner, same domains, different orders and seeds", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def plot_scaling(curves: Sequence[Curve], fits: dict, kinds: Sequence[str], paths: Sequence[dict[str, Any]],
                 records: Sequence[dict[str, Any]], directory: Path) -> list[Path]:
    """scaling.png (headline metrics), ood_by_shift.png (one column per shift kind), path_dependence.png."""
    directory.mkdir(parents=True, exist_ok=True)
    env_id = records[0]["env_id"]
    out = [_grid_figure(curves, fits, [m for m, _ in HEADLINE],
                        f"{env_id}: metrics vs training-set size (mean and 95% interval over seeds; dotted: fit "
                        "a + b N^-c). OOD: excess risk over each test distribution's Bayes predictor", directory / "scaling.png",
                        {})]
    if kinds:
        out.append(_grid_figure(curves, fits, [f"ood:{k}" for k in kinds],
                                f"{env_id}: OOD excess risk by kind of shift", directory / "ood_by_shift.png", {}))
    if paths:
        out.append(plot_path_dependence(paths, records, directory / "path_dependence.png"))
    return out
