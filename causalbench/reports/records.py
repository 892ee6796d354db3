"""Helpers every report shares: final stages, grouping in a fixed order, summaries by the metric table, matplotlib.

Reports are rebuilt from records alone and must be byte-identical for identical records, so every
grouping here is sorted (never in completion order).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

from ..scoring.aggregate import Summary, summarize

TRACK_COLORS = {"observational": "#4c72b0", "observational+domains": "#dd8452", "interventional": "#55a868",
                "online": "#c44e52", "reference": "#7f7f7f"}
TRACK_ORDER = tuple(TRACK_COLORS)


def final_stage(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last stage of every job (static, online and reference jobs have one stage)."""
    return [r for r in records if r["stage"] == r["n_stages"] - 1]


def _sort_key(value: Any) -> tuple:
    return (value is None, str(value))


def group(records: Iterable[dict[str, Any]], *keys: str) -> dict[tuple, list[dict[str, Any]]]:
    """Records grouped by the values of `keys`, groups sorted by key, records sorted by (seed, stage)."""
    out: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        out[tuple(r.get(k) for k in keys)].append(r)
    return {k: sorted(out[k], key=lambda r: (r.get("seed", 0), r.get("stage", 0), r.get("key", "")))
            for k in sorted(out, key=lambda t: tuple(_sort_key(v) for v in t))}


def metric(records: Sequence[dict[str, Any]], name: str) -> Summary:
    """Summary over seeds of a headline metric, its interval clipped to the metric's range."""
    return summarize((r["scores"].get(name) for r in records), metric=name)


def fmt(s: Summary) -> str:
    if s.n == 0:
        return "n/a"
    return f"{s.mean:.3f} ± {s.std:.3f}" if s.n > 1 else f"{s.mean:.3f}"


def method_order(records: Sequence[dict[str, Any]]) -> list[str]:
    """Methods by track (in TRACK_ORDER, references last), then by name: a fixed, readable order."""
    tracks = {r["method"]: r["track"] for r in records}
    rank = {t: i for i, t in enumerate(TRACK_ORDER)}
    return sorted(tracks, key=lambda m: (rank.get(tracks[m], len(rank)), m))


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported only when a plot is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
