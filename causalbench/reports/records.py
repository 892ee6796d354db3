"""Helpers every report shares: reading the final stage, grouping records, summarising a metric, matplotlib."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

from ..scoring.aggregate import Summary, summarize

TRACK_COLORS = {"observational": "#4c72b0", "observational+domains": "#dd8452", "interventional": "#55a868",
                "online": "#c44e52"}


def final_stage(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last stage of every job (static and online jobs have one stage)."""
    return [r for r in records if r["stage"] == r["n_stages"] - 1]


def group(records: Iterable[dict[str, Any]], *keys: str) -> dict[tuple, list[dict[str, Any]]]:
    out: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        out[tuple(r[k] for k in keys)].append(r)
    return dict(out)


def metric(records: Sequence[dict[str, Any]], name: str) -> Summary:
    return summarize(r["scores"].get(name) for r in records)


def fmt(s: Summary) -> str:
    if s.n == 0:
        return "n/a"
    return f"{s.mean:.3f} ± {s.std:.3f}" if s.n > 1 else f"{s.mean:.3f}"


def method_order(records: Sequence[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for r in records:
        seen.setdefault(r["method"], None)
    return list(seen)


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported only when a plot is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
