"""`Dataset`: numpy arrays plus the metadata a method and the scorer need, validated on construction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import DataError

DATASET_KINDS = ("observational", "domains", "interventional")
EXPORT_FORMATS = (".parquet", ".csv", ".npz")


@dataclass(frozen=True)
class DatasetSpec:
    """Everything a dataset is a pure function of: env id (with version), kind, n, seed, options."""

    env_id: str
    kind: str
    n: int
    seed: int
    options: Mapping[str, Any] = field(default_factory=dict)
    scm_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"env_id": self.env_id, "kind": self.kind, "n": self.n, "seed": self.seed,
                "options": dict(self.options), "scm_hash": self.scm_hash}


@dataclass(frozen=True, eq=False)
class Dataset:
    """Observed features X (hidden variables and target excluded), target y and metadata.

    `variables` are the observed non-target SCM variables that `roles` and the
    `intervened` mask refer to; for most envs they are exactly `feature_names`
    (high-dimensional envs render them into many more feature columns).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    roles: Mapping[str, str]
    target: str
    target_kind: str
    spec: DatasetSpec
    domain: np.ndarray | None = None
    intervened: np.ndarray | None = None
    variables: tuple[str, ...] = ()
    n_classes: int | None = None

    def __post_init__(self) -> None:
        X, y = self.X, self.y
        if not isinstance(X, np.ndarray) or X.ndim != 2:
            raise DataError(f"X must be a 2-d array, got {getattr(X, 'shape', type(X).__name__)}")
        n, d = X.shape
        if not isinstance(y, np.ndarray) or y.shape != (n,):
            raise DataError(f"y must have shape ({n},), got {getattr(y, 'shape', None)}")
        if len(self.feature_names) != d:
            raise DataError(f"{len(self.feature_names)} feature names for {d} columns")
        if not self.variables:
            object.__setattr__(self, "variables", tuple(self.feature_names))
        unknown = set(self.roles) - set(self.variables)
        if unknown:
            raise DataError(f"roles name unknown variables {sorted(unknown)}")
        if self.domain is not None and self.domain.shape != (n,):
            raise DataError(f"domain labels must have shape ({n},), got {self.domain.shape}")
        if self.intervened is not None and self.intervened.shape != (n, len(self.variables)):
            raise DataError(f"intervened mask must have shape ({n}, {len(self.variables)}), got {self.intervened.shape}")
        for arr in (X, y, self.domain, self.intervened):
            if arr is not None:
                arr.setflags(write=False)

    # ------------------------------------------------------------ basics

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        extra = "".join([", domains" if self.domain is not None else "", ", intervened" if self.intervened is not None else ""])
        return f"Dataset({self.spec.env_id}, {self.spec.kind}, n={self.n}, d={self.d}, seed={self.spec.seed}{extra})"

    @cached_property
    def fingerprint(self) -> str:
        """sha256 over the spec and the exact bytes of every array: identical data <=> identical fingerprint."""
        h = hashlib.sha256(json.dumps(self.spec.to_dict(), sort_keys=True, default=str).encode())
        for arr in (self.X, self.y, self.domain, self.intervened):
            h.update(b"|" if arr is None else np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()

    def subset(self, rows: np.ndarray | slice) -> "Dataset":
        """Rows of this dataset (same metadata; spec records the subset size)."""
        pick = (lambda a: None if a is None else np.ascontiguousarray(a[rows]))
        X = np.ascontiguousarray(self.X[rows])
        spec = DatasetSpec(self.spec.env_id, self.spec.kind, X.shape[0], self.spec.seed,
                           {**self.spec.options, "subset_of": self.spec.n}, self.spec.scm_hash)
        return Dataset(X, pick(self.y), self.feature_names, self.roles, self.target, self.target_kind, spec,
                       pick(self.domain), pick(self.intervened), self.variables, self.n_classes)

    def by_domain(self) -> list["Dataset"]:
        """One dataset per domain label, in label order (the continual track's stages)."""
        if self.domain is None:
            raise DataError("dataset has no domain labels; use kind='domains'")
        return [self.subset(np.flatnonzero(self.domain == k)) for k in np.unique(self.domain)]

    # ------------------------------------------------------------ export

    def to_pandas(self) -> Any:
        """A DataFrame: one column per feature, the target, then domain / intervened_<var> if present."""
        import pandas as pd

        cols: dict[str, Any] = {name: self.X[:, j] for j, name in enumerate(self.feature_names)}
        cols[self.target] = self.y
        if self.domain is not None:
            cols["domain"] = self.domain
        if self.intervened is not None:
            for j, name in enumerate(self.variables):
                cols[f"intervened_{name}"] = self.intervened[:, j]
        return pd.DataFrame(cols)

    def save(self, path: str | Path) -> Path:
        """Write .parquet, .csv or .npz (chosen by suffix); metadata goes into the file where the format allows."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in EXPORT_FORMATS:
            raise DataError(f"unknown output format {path.suffix!r}; use one of {', '.join(EXPORT_FORMATS)}")
        meta = {"spec": self.spec.to_dict(), "roles": dict(self.roles), "target": self.target,
                "target_kind": self.target_kind, "fingerprint": self.fingerprint, "variables": list(self.variables)}
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".npz":
            arrays = {"X": self.X, "y": self.y, "feature_names": np.array(self.feature_names),
                      "meta": np.array(json.dumps(meta))}
            if self.domain is not None:
                arrays["domain"] = self.domain
            if self.intervened is not None:
                arrays["intervened"] = self.intervened
            with open(path, "wb") as fh:
                np.savez_compressed(fh, **arrays)
        elif suffix == ".csv":
            self.to_pandas().to_csv(path, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self.to_pandas(), preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"causalbench": json.dumps(meta).encode()})
            pq.write_table(table, path)
        return path


def concat(parts: Sequence[Dataset], kind: str | None = None) -> Dataset:
    """Stack datasets of one env row-wise (e.g. observational + interventional rows)."""
    if not parts:
        raise DataError("nothing to concatenate")
    first = parts[0]
    for p in parts[1:]:
        if p.feature_names != first.feature_names or p.target != first.target:
            raise DataError("cannot concatenate datasets with different features or targets")
    n = sum(p.n for p in parts)
    masks = None
    if any(p.intervened is not None for p in parts):
        masks = np.concatenate([p.intervened if p.intervened is not None
                                else np.zeros((p.n, len(p.variables)), bool) for p in parts])
    domains = np.concatenate([p.domain for p in parts]) if all(p.domain is not None for p in parts) else None
    spec = DatasetSpec(first.spec.env_id, kind or "+".join(dict.fromkeys(p.spec.kind for p in parts)), n,
                       first.spec.seed, {"parts": [p.spec.to_dict() for p in parts]}, first.spec.scm_hash)
    return Dataset(np.concatenate([p.X for p in parts]), np.concatenate([p.y for p in parts]), first.feature_names,
                   first.roles, first.target, first.target_kind, spec, domains, masks, first.variables, first.n_classes)
