"""Stream a training dataset to .parquet, .csv or .npz in bounded memory (`causalbench generate`).

Blocks come from `stream.blocks`, so the file holds exactly the rows of `env.dataset(kind, n, seed)`
with the same columns and metadata as `Dataset.save`, including the dataset's fingerprint (sha256
over spec, X, y, domain, mask: X is hashed as it streams; y, domain and mask are spooled to
temporary files beside the output and hashed after it). Peak memory is a few blocks whatever n.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np

from ..data import EXPORT_FORMATS, DatasetSpec
from ..errors import DataError
from ..registry import Registry
from ..resources import check_disk
from . import stream

CausalEnv = Any  # a `causalbench.env.base.CausalEnv` (not imported: base imports this module)

SPOOL_READ = 8 << 20
SINKS: Registry[Callable[..., "Sink"]] = Registry("output format")


@dataclass(frozen=True)
class Written:
    """What `write` wrote: path, rows, feature count and the dataset fingerprint."""

    path: Path
    n: int
    d: int
    fingerprint: str


class Sink:
    """One output format: `columns(block columns)` per block, then `close(meta)` once."""

    def __init__(self, path: Path, spools: "Spools") -> None:
        self.path, self.spools = path, spools

    def columns(self, cols: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def close(self, meta: dict[str, Any]) -> None:
        raise NotImplementedError


@SINKS.register(".parquet")
class ParquetSink(Sink):
    """One row group per block; the causalbench metadata goes into the footer at the end."""

    def __init__(self, path: Path, spools: "Spools") -> None:
        super().__init__(path, spools)
        self.writer: Any = None

    def columns(self, cols: dict[str, np.ndarray]) -> None:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(pd.DataFrame(cols, copy=False), preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)

    def close(self, meta: dict[str, Any]) -> None:
        """The metadata goes into the footer's arrow schema too, where `Dataset.save` puts it."""
        text = json.dumps(meta)
        schema = self.schema.with_metadata({**(self.schema.metadata or {}), b"causalbench": text.encode()})
        self.writer.add_key_value_metadata({"causalbench": text, "ARROW:schema": base64.b64encode(
            schema.serialize().to_pybytes()).decode()})
        self.writer.close()


@SINKS.register(".csv")
class CsvSink(Sink):
    """The header once, then each block's rows, formatted as `Dataset.save` (pandas) formats them."""

    def __init__(self, path: Path, spools: "Spools") -> None:
        super().__init__(path, spools)
        self.fh: IO[str] = open(path, "w", newline="")
        self.first = True

    def columns(self, cols: dict[str, np.ndarray]) -> None:
        import pandas as pd

        pd.DataFrame(cols, copy=False).to_csv(self.fh, header=self.first, index=False)
        self.first = False

    def close(self, meta: dict[str, Any]) -> None:
        self.fh.close()


@SINKS.register(".npz")
class NpzSink(Sink):
    """X streams into the archive's X.npy member; y, domain and mask follow from their spools."""

    def __init__(self, path: Path, spools: "Spools") -> None:
        super().__init__(path, spools)
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.member: IO[bytes] | None = None

    def header(self, fh: IO[bytes], dtype: np.dtype, shape: tuple[int, ...]) -> None:
        np.lib.format.write_array_header_2_0(fh, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                  "fortran_order": False, "shape": shape})

    def columns(self, cols: dict[str, np.ndarray]) -> None:
        X = self.spools.X
        if self.member is None:
            self.member = self.zip.open("X.npy", "w", force_zip64=True)
            self.header(self.member, X.dtype, (self.spools.n, X.shape[1]))
        self.member.write(X.tobytes())

    def close(self, meta: dict[str, Any]) -> None:
        assert self.member is not None
        self.member.close()
        s = self.spools
        for name, dtype, width in (("y", s.y_dtype, ()), ("feature_names", None, None), ("meta", None, None),
                                   ("domain", np.dtype(np.int64), ()), ("intervened", np.dtype(bool), (s.k,))):
            if name == "feature_names":
                self._small(name, np.array(s.feature_names))
            elif name == "meta":
                self._small(name, np.array(json.dumps(meta)))
            elif name in s.files:
                with self.zip.open(f"{name}.npy", "w", force_zip64=True) as fh:
                    self.header(fh, dtype, (s.n, *width))  # type: ignore[arg-type]
                    s.copy(name, fh.write)
        self.zip.close()

    def _small(self, name: str, arr: np.ndarray) -> None:
        with self.zip.open(f"{name}.npy", "w") as fh:
            np.lib.format.write_array(fh, arr, allow_pickle=False)


class Spools:
    """Temporary files beside the output for y, domain and mask (hashed after X), plus the running hash."""

    def __init__(self, folder: Path, spec: DatasetSpec, feature_names: tuple[str, ...], k: int) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=".causalbench-spool-", dir=folder))
        self.hash = hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True, default=str).encode())
        self.files: dict[str, IO[bytes]] = {}
        self.feature_names, self.k, self.n = feature_names, k, spec.n
        self.X = np.empty((0, len(feature_names)))
        self.y_dtype = np.dtype(float)

    def add(self, X: np.ndarray, parts: dict[str, np.ndarray | None]) -> None:
        self.X = X
        self.hash.update(X.tobytes())
        for name, arr in parts.items():
            if arr is not None:
                if name not in self.files:
                    self.files[name] = open(self.dir / name, "w+b")
                self.files[name].write(np.ascontiguousarray(arr).tobytes())

    def copy(self, name: str, write: Callable[[bytes], Any]) -> None:
        fh = self.files[name]
        fh.seek(0)
        while chunk := fh.read(SPOOL_READ):
            write(chunk)

    def fingerprint(self) -> str:
        for name in ("y", "domain", "intervened"):
            if name in self.files:
                self.copy(name, self.hash.update)
            else:
                self.hash.update(b"|")
        return self.hash.hexdigest()

    def remove(self) -> None:
        for fh in self.files.values():
            fh.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def disk_bytes(env: CausalEnv, kind: str, n: int, suffix: str) -> float:
    """Disk a streamed dataset needs: the file (CSV text ~2.5x binary) plus the spools."""
    d, k = len(env.feature_names), len(env.variables)
    extra = (8 if kind == "domains" else 0) + (k if kind == "interventional" else 0)
    raw = float(n) * (8 * d + 8 + extra)
    return raw * (2.5 if suffix == ".csv" else 1.0) + float(n) * (8 + extra)


def write(env: CausalEnv, kind: str, n: int, seed: int, path: str | Path, p: float = 0.5, fraction: float = 1.0,
          rows: int | None = None) -> Written:
    """Write `env.dataset(kind, n, seed, p=p, fraction=fraction)` to `path`, block by block."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise DataError(f"unknown output format {path.suffix!r}; use one of {', '.join(EXPORT_FORMATS)}")
    env.dataset(kind, 1, seed, p=p, fraction=fraction)  # validates kind, seed, p and fraction (cheap)
    check_disk(disk_bytes(env, kind, n, suffix), path, f"{env.id}: {n:.3g} rows as {suffix}")
    if n >= 2**62:
        raise DataError(f"n={n:.3g} rows cannot be indexed (the limit is 2^62)")
    options = {"p": p, "fraction": fraction} if kind == "interventional" else {}
    spec = DatasetSpec(env.id, kind, n, int(seed), {**env.options, **options}, env.scm.hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    spools = Spools(path.parent, spec, env.feature_names, len(env.variables))
    try:
        sink = SINKS.get(suffix)(path, spools)
        binary = env.target_kind != "real"
        spools.y_dtype = np.dtype(np.int64 if binary else float)
        for block in stream.blocks(env, kind, n, seed, p, fraction, rows or stream.block_rows(env)):
            X = np.ascontiguousarray(env.render(block.sample.columns(env.variables)))
            y = block.sample[env.target].astype(np.int64) if binary else block.sample[env.target].copy()
            domain = np.full(len(y), block.domain, dtype=np.int64) if kind == "domains" else None
            spools.add(X, {"y": y, "domain": domain, "intervened": block.mask})
            cols: dict[str, np.ndarray] = {name: X[:, j] for j, name in enumerate(env.feature_names)}
            cols[env.target] = y
            if domain is not None:
                cols["domain"] = domain
            if block.mask is not None:
                cols.update({f"intervened_{v}": block.mask[:, j] for j, v in enumerate(env.variables)})
            sink.columns(cols)
        fingerprint = spools.fingerprint()
        meta = {"spec": spec.to_dict(), "roles": dict(env.roles), "target": env.target,
                "target_kind": env.target_kind, "fingerprint": fingerprint, "variables": list(env.variables)}
        sink.close(meta)
    except BaseException:  # an interrupted or failed write leaves no partial file behind
        path.unlink(missing_ok=True)
        raise
    finally:
        spools.remove()
    return Written(path, n, len(env.feature_names), fingerprint)
