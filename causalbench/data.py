"""`Dataset`: numpy arrays plus the metadata a method and the scorer need, validated on construction.

Files written by `Dataset.save` (.parquet, .csv, .npz) carry the full metadata and the
fingerprint, so `Dataset.load` rebuilds an identical dataset and refuses data that changed.
"""

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
FILE_FORMAT = "causalbench-dataset/1"   # recorded in every export's metadata
CSV_META_SUFFIX = ".meta.json"          # CSV has no metadata slot: it goes beside the file (data.csv.meta.json)
_ARRAYS = ("X", "y", "domain", "intervened")


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

    The arrays are read-only: a dataset is a pure function of its spec, and its fingerprint
    must keep describing its bytes. For a writable copy use `ds.X.copy()` (or `np.array(ds.X)`);
    `ds.to_pandas()` and `ds.to_torch()` also copy. Datasets pickle (and stay read-only), and
    two datasets are equal when their metadata and fingerprints are.
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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return self is other or (self._metadata() == other._metadata() and self.fingerprint == other.fingerprint)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle through the constructor, so an unpickled dataset is validated and read-only again."""
        return (Dataset, (self.X, self.y, self.feature_names, dict(self.roles), self.target, self.target_kind,
                          self.spec, self.domain, self.intervened, self.variables, self.n_classes))

    def _metadata(self) -> dict[str, Any]:
        """Everything but the arrays, JSON-able (what an export records beside the data)."""
        return {"format": FILE_FORMAT, "spec": self.spec.to_dict(), "feature_names": list(self.feature_names),
                "roles": dict(self.roles), "target": self.target, "target_kind": self.target_kind,
                "variables": list(self.variables), "n_classes": self.n_classes,
                "dtypes": {k: str(a.dtype) for k in _ARRAYS if (a := getattr(self, k)) is not None},
                "fingerprint": self.fingerprint}

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

    def to_torch(self, dtype: Any = None, with_domain: bool = False) -> Any:
        """A `torch.utils.data.Dataset` of (x, y) rows (x, y, domain with `with_domain`), float32 by default.

        `DataLoader(ds.to_torch(), batch_size=..., shuffle=True)` works directly; the tensors are
        copies, so training code may modify them. torch is imported here only.
        """
        try:
            import torch
            from torch.utils.data import TensorDataset
        except ImportError:
            raise DataError('to_torch needs torch: pip install "causalbench-suite[torch]"') from None
        if with_domain and self.domain is None:
            raise DataError("dataset has no domain labels; use kind='domains' or with_domain=False")
        dtype = dtype or torch.float32
        tensors = [torch.tensor(np.asarray(self.X), dtype=dtype), torch.tensor(np.asarray(self.y), dtype=dtype)]
        if with_domain:
            tensors.append(torch.tensor(np.asarray(self.domain), dtype=torch.int64))
        return TensorDataset(*tensors)

    def save(self, path: str | Path) -> Path:
        """Write .parquet, .csv or .npz (chosen by suffix) with the metadata `Dataset.load` needs.

        Parquet and npz carry the metadata inside the file; a CSV gets it in `<file>.meta.json`
        beside it, so the CSV itself stays plain for every tool.
        """
        path = Path(path)
        suffix = _suffix(path)
        meta = json.dumps(self._metadata(), default=str)
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".npz":
            arrays = {"X": self.X, "y": self.y, "feature_names": np.array(self.feature_names),
                      "meta": np.array(meta)}
            if self.domain is not None:
                arrays["domain"] = self.domain
            if self.intervened is not None:
                arrays["intervened"] = self.intervened
            with open(path, "wb") as fh:
                np.savez_compressed(fh, **arrays)
        elif suffix == ".csv":
            self.to_pandas().to_csv(path, index=False)
            path.with_name(path.name + CSV_META_SUFFIX).write_text(meta)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self.to_pandas(), preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"causalbench": meta.encode()})
            pq.write_table(table, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Dataset":
        """Read a file written by `Dataset.save`; refuses a file whose data no longer match its fingerprint."""
        path = Path(path)
        suffix = _suffix(path)
        if not path.is_file():
            raise DataError(f"no such file: {path}")
        try:
            meta, arrays = _read_export(path, suffix)
        except DataError:
            raise
        except Exception as err:  # a corrupt or foreign file: pyarrow, pandas or zipfile errors
            raise DataError(f"{path} is not a readable {suffix} file ({type(err).__name__}: {err})") from None
        try:
            spec_d = meta["spec"]
            spec = DatasetSpec(spec_d["env_id"], spec_d["kind"], int(spec_d["n"]), int(spec_d["seed"]),
                               dict(spec_d.get("options", {})), spec_d.get("scm_hash", ""))
            dtypes = meta.get("dtypes", {})
            typed = {k: None if a is None else np.ascontiguousarray(a, dtype=dtypes.get(k, a.dtype))
                     for k, a in arrays.items()}
            ds = cls(typed["X"], typed["y"], tuple(meta["feature_names"]), dict(meta["roles"]), meta["target"],
                     meta["target_kind"], spec, typed["domain"], typed["intervened"], tuple(meta["variables"]),
                     meta.get("n_classes"))
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"{path} has malformed causalbench metadata (bad or missing field {err})") from None
        if ds.fingerprint != meta.get("fingerprint"):
            raise DataError(f"{path}: the data no longer match the fingerprint recorded when it was saved "
                            f"({str(meta.get('fingerprint'))[:12]}...); the file was modified")
        return ds


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise DataError(f"unknown output format {path.suffix!r}; use one of {', '.join(EXPORT_FORMATS)}")
    return suffix


def _not_an_export(path: Path, where: str) -> DataError:
    return DataError(f"{path} is not a causalbench dataset export (no metadata {where}); "
                     "write files with Dataset.save or `causalbench generate`")


def _read_export(path: Path, suffix: str) -> tuple[dict[str, Any], dict[str, np.ndarray | None]]:
    """(metadata, arrays X, y, domain, intervened) of an export; DataError if it is not one."""
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if "meta" not in z.files:
                raise _not_an_export(path, "entry 'meta'")
            meta = _parse_meta(str(z["meta"]), path)
            if "feature_names" not in meta and "feature_names" in z.files:  # exports of causalbench 0.1.0
                meta["feature_names"] = z["feature_names"].tolist()
            return meta, {k: (z[k] if k in z.files else None) for k in _ARRAYS}
    if suffix == ".csv":
        side = path.with_name(path.name + CSV_META_SUFFIX)
        if not side.is_file():
            raise _not_an_export(path, f"file {side.name} beside it")
        import pandas as pd

        meta = _parse_meta(side.read_text(), path)
        return meta, _columns(pd.read_csv(path), meta, path)
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(b"causalbench")
    if raw is None:
        raise _not_an_export(path, "in the parquet schema")
    meta = _parse_meta(raw.decode(), path)
    return meta, _columns(table.to_pandas(), meta, path)


def _parse_meta(text: str, path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(text)
    except json.JSONDecodeError:
        raise _not_an_export(path, "readable as JSON") from None
    if not isinstance(meta, dict) or "spec" not in meta or "fingerprint" not in meta:
        raise _not_an_export(path, "with a spec and fingerprint")
    return meta


def _columns(frame: Any, meta: dict[str, Any], path: Path) -> dict[str, np.ndarray | None]:
    """The arrays of a table written by `to_pandas`, by column name."""
    names, variables = list(meta.get("feature_names", [])), list(meta.get("variables", []))
    dtypes = meta.get("dtypes", {})
    mask_cols = [f"intervened_{v}" for v in variables]
    wanted = [*names, meta.get("target")]
    wanted += ["domain"] if "domain" in dtypes else []
    wanted += mask_cols if "intervened" in dtypes else []
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks column(s) {', '.join(map(str, missing[:5]))} its metadata names")
    return {"X": frame[names].to_numpy(), "y": frame[meta["target"]].to_numpy(),
            "domain": frame["domain"].to_numpy() if "domain" in dtypes else None,
            "intervened": frame[mask_cols].to_numpy() if "intervened" in dtypes else None}


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
