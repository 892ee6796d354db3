"""A run's records as a pandas DataFrame, for analysis beyond the report's tables.

    >>> import causalbench as cb
    >>> df = cb.results.load("results/20250101-120000")     # a `causalbench run` or `scaling` folder
    >>> df.groupby(["env_id", "method"])[["spurious_reliance", "effect_error"]].mean()

One row per record (a record is one env x method x seed, per training stage for continual
methods), read through `causalbench.experiments.results.read_records`, so a torn last line of
an interrupted run is ignored exactly as the report ignores it. Columns:

- every scalar field of the record: `env_id`, `env_version`, `method`, `track`, `seed`, `stage`,
  `n_train`, `n_test`, `train_fingerprint`, `package_version`, `git_hash`, `key`, ...;
- every scalar score (the headline metrics: `risk_id`, `ood_link`, `ood_score`,
  `causal_reliance`, `spurious_reliance`, `effect_error`, `regret`, ...) under its own name;
- nested fields (`hparams`, and per-test-set or per-variable scores such as `risk`, `ood`,
  `reliance`) as dict-valued columns, or with `flatten=True` as one column per entry, named
  `<field>.<key>` (e.g. `hparams.lr`, `ood.spurious_break@1`).

A score whose name is also a record field (`env_id`, `seed`) is dropped when the two agree and
kept as `scores.<name>` otherwise. Undefined metrics (stored as null) are NaN, or None in a
column where no record defines them (e.g. `regret` on prediction-only envs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .experiments.results import read_records


def load(run_dir: str | Path, flatten: bool = False) -> Any:
    """`pandas.DataFrame` of a run folder's records (or of a results.jsonl file): see the module docstring."""
    import pandas as pd

    return pd.DataFrame([record_row(rec, flatten) for rec in read_records(run_dir)])


def record_row(record: Mapping[str, Any], flatten: bool = False) -> dict[str, Any]:
    """One record as a flat row: record fields, then scores (see the module docstring)."""
    row: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for key, value in record.items():
        if key == "scores":
            continue
        (nested if isinstance(value, Mapping) else row)[key] = value
    for key, value in (record.get("scores") or {}).items():
        if isinstance(value, Mapping):
            nested.setdefault(key, value)
            continue
        if key in row:
            if row[key] == value:
                continue
            key = f"scores.{key}"
        row[key] = value
    if flatten:
        for key, value in nested.items():
            for sub, v in _flat(value):
                row[f"{key}.{sub}"] = v
    else:
        row.update(nested)
    return row


def _flat(value: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, v in value.items():
        name = f"{prefix}{key}"
        out += _flat(v, name + ".") if isinstance(v, Mapping) else [(name, v)]
    return out
