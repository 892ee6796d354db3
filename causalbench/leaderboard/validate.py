"""Checking a prediction submission: bounded reads, schema, text, completeness, hashes, re-scoring; publishing
it as an unverified entry.

Nothing from a submission is imported, executed or unpickled: the manifest is parsed as JSON (after a
size check), every string in it must be UTF-8 text without control characters, the .npz is inspected
through its zip directory and .npy headers before any array is read, and arrays are loaded with
`np.load(..., allow_pickle=False)`. Every failure is a one-line `SubmissionError`. Predictions are of
the public instances, so their entries are "unverified" and never ranked (see `entries`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..env.registry import make
from ..experiments.config import EVAL_SEED_OFFSET
from ..experiments.references import REFERENCES
from ..errors import CausalBenchError, SubmissionError
from ..methods import METHODS
from ..provenance import VERSION
from ..scoring import get_suite, score_predictions
from .entries import entry, finite_or_none, headline
from .format import (ABS_TOL, FORMAT, FORMAT_VERSION, LEADERBOARD_DIR, OFFICIAL_SUITE, REL_TOL, SEED_PATTERN,
                     Limits, SuiteSpec, check_schema, json_equal, json_type, short)
from .names import check_text, entry_name
from .publish import commit, load_entries
from .publish import render as render_leaderboard

# ---------------------------------------------------------------- reading a submission


def _regular_file(path: Path, what: str, limit: int) -> int:
    try:
        st = path.stat()
    except OSError:
        raise SubmissionError(f"{what} {path.name} not found") from None
    if not stat.S_ISREG(st.st_mode):
        raise SubmissionError(f"{what} {path.name} is not a regular file")
    if st.st_size > limit:
        raise SubmissionError(f"{what} {path.name} is {st.st_size} bytes; the limit is {limit}")
    return st.st_size


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SubmissionError(f"manifest: duplicate key {short(key)}")
        out[key] = value
    return out


def _no_constant(token: str) -> Any:
    raise SubmissionError(f"manifest: {token} is not valid JSON (use null for an undefined metric)")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise SubmissionError(f"manifest: number {token[:20]} is out of range")
    return value


def _bounded_int(token: str) -> int:
    if len(token.lstrip("-")) > 19:
        raise SubmissionError(f"manifest: integer {token[:20]}... is out of range")
    return int(token)


def read_manifest(path: str | Path, limits: Limits = Limits()) -> dict[str, Any]:
    """The parsed, schema-checked manifest (size-checked before it is read)."""
    path = Path(path)
    _regular_file(path, "manifest", limits.manifest_bytes)
    with open(path, "rb") as fh:
        raw = fh.read(limits.manifest_bytes + 1)
    if len(raw) > limits.manifest_bytes:
        raise SubmissionError(f"manifest {path.name} is larger than {limits.manifest_bytes} bytes")
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant,
                          parse_float=_finite_float, parse_int=_bounded_int)
    except UnicodeDecodeError:
        raise SubmissionError("manifest is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        where = f"line {err.lineno}, column {err.colno}"
        raise SubmissionError(f"manifest is not valid JSON: {err.msg} ({where})") from None
    except (ValueError, RecursionError) as err:
        raise SubmissionError(f"manifest is not valid JSON: {str(err)[:80]}") from None
    if not isinstance(data, dict):
        raise SubmissionError(f"manifest must be a JSON object, got {json_type(data)}")
    if data.get("format") != FORMAT:
        raise SubmissionError(f"not a causalbench submission: format must be {FORMAT!r}, "
                              f"got {short(data.get('format'))}")
    version = data.get("format_version")
    if not json_equal(version, FORMAT_VERSION):
        raise SubmissionError(f"unsupported format_version {short(version)}; "
                              f"this benchmark reads version {FORMAT_VERSION}")
    check_text(data)
    check_schema(data)
    return data


def _check_header(data: Mapping[str, Any], suite: SuiteSpec) -> list[str]:
    """Benchmark version, suite, not-applicable and claim keys; returns the envs with predictions."""
    if data["benchmark_version"] != VERSION:
        raise SubmissionError(f"submission was made with benchmark version {data['benchmark_version']}; this "
                              f"leaderboard runs {VERSION} (re-run causalbench evaluate)")
    if data["suite"] != suite.manifest():
        got = data["suite"]
        diff = [k for k in ("id", "envs", "seeds", "n_test") if got[k] != suite.manifest()[k]]
        raise SubmissionError(f"submission is for suite {got['id']!r} but this leaderboard scores {suite.id!r} "
                              f"(differs in {', '.join(diff)})")
    skipped = data.get("not_applicable", {})
    unknown = [e for e in skipped if e not in suite.envs]
    if unknown:
        raise SubmissionError(f"not_applicable names {unknown[0]}, which is not in suite {suite.id!r}")
    covered = [e for e in suite.envs if e not in skipped]
    if not covered:
        raise SubmissionError("submission declares every environment not applicable; nothing to score")
    for env_id, by_seed in data.get("claimed_metrics", {}).items():
        if env_id not in covered:
            raise SubmissionError(f"claimed metrics for {env_id}, which has no predictions in this submission")
        for seed in by_seed:
            if int(seed) not in suite.seeds:
                raise SubmissionError(f"claimed metrics for {env_id} seed {seed}, which is not a suite seed")
    return covered


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> int:
    """Check one member's .npy header (float vector, sizes consistent); returns its length."""
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise SubmissionError(f"array {key} has unsupported .npy version {version}")
        header = fh.tell()
    if dtype.kind != "f" or dtype.itemsize not in (4, 8) or dtype.fields is not None or dtype.subdtype is not None:
        raise SubmissionError(f"array {key} has dtype {dtype}; predictions must be float32 or float64")
    if len(shape) != 1:
        raise SubmissionError(f"array {key} has shape {shape}; predictions must be a vector")
    if info.file_size != header + shape[0] * dtype.itemsize:
        raise SubmissionError(f"array {key} is truncated or padded ({info.file_size} bytes for shape {shape})")
    return int(shape[0])


def scan_npz(path: Path, covered: Sequence[str], seeds: Sequence[int],
             limits: Limits = Limits()) -> dict[tuple[str, int], dict[str, int]]:
    """(env, seed) -> input -> rows, from the zip directory and .npy headers only (nothing decompressed)."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04" or not zipfile.is_zipfile(path):
        raise SubmissionError(f"predictions file {path.name} is not an .npz (zip) archive")
    layout: dict[tuple[str, int], dict[str, int]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.members:
                raise SubmissionError(f"predictions file holds {len(infos)} arrays; the limit is {limits.members}")
            if len({i.filename for i in infos}) != len(infos):
                raise SubmissionError("predictions file holds duplicate array names")
            total = sum(i.file_size for i in infos)
            if total > limits.total_bytes:
                raise SubmissionError(f"arrays take {total} bytes uncompressed; the limit is {limits.total_bytes}")
            for info in infos:
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                parts = key.split("/", 2)
                seed_ok = len(parts) == 3 and re.fullmatch(SEED_PATTERN[1:-1], parts[1])
                if not info.filename.endswith(".npy") or not seed_ok:
                    raise SubmissionError(f"unexpected member {short(info.filename)} (arrays are <env>/<seed>/<input>)")
                env_id, seed, name = parts[0], int(parts[1]), parts[2]
                if env_id not in covered:
                    raise SubmissionError(f"predictions for {short(env_id)}, which this submission does not cover")
                if seed not in seeds:
                    raise SubmissionError(f"predictions for {env_id} seed {seed}, which is not a suite seed")
                label = short(key)
                if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise SubmissionError(f"array {label} is encrypted or uses an unsupported compression")
                if info.file_size > limits.member_bytes:
                    raise SubmissionError(f"array {label} is {info.file_size} bytes; "
                                          f"the limit is {limits.member_bytes}")
                layout.setdefault((env_id, seed), {})[name] = _npy_header(zf, info, label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as err:
        raise SubmissionError(f"predictions file {path.name} is corrupt: {str(err)[:100]}") from None
    for env_id in covered:
        for seed in seeds:
            if (env_id, seed) not in layout:
                raise SubmissionError(f"no predictions for {env_id} seed {seed}")
    return layout


def _cross_check(claims: Mapping[str, Any], scores: Any, env_id: str, seed: int) -> None:
    for metric, claimed in claims.items():
        actual = finite_or_none(getattr(scores, metric))
        if claimed is None or actual is None:
            ok = claimed is None and actual is None
        else:
            ok = math.isclose(claimed, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL)
        if not ok:
            raise SubmissionError(f"claimed {metric} for {env_id} seed {seed} is {claimed!r} "
                                  f"but re-scoring gives {actual!r}")


def check_submission(path: str | Path, suite: SuiteSpec = OFFICIAL_SUITE, limits: Limits = Limits(),
                     baseline: bool = False) -> dict[str, Any]:
    """Validate a submission and re-score every prediction; returns the leaderboard entry (nothing is written)."""
    path = Path(path)
    data = read_manifest(path, limits)
    covered = _check_header(data, suite)
    npz = path.parent / data["predictions"]["file"]
    _regular_file(npz, "predictions file", limits.npz_bytes)
    digest = sha256_file(npz)
    if digest != data["predictions"]["sha256"]:
        raise SubmissionError(f"sha256 of {npz.name} is {digest[:12]}..., the manifest says "
                              f"{data['predictions']['sha256'][:12]}...")
    layout = scan_npz(npz, covered, suite.seeds, limits)
    results: dict[str, Any] = {}
    claims = data.get("claimed_metrics", {})
    try:
        arrays = np.load(npz, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise SubmissionError(f"predictions file {npz.name} cannot be read: {str(err)[:100]}") from None
    with arrays:
        for env_id in covered:
            env = make(env_id)
            runs, loss = [], None
            for seed in suite.seeds:
                expected = get_suite(env, EVAL_SEED_OFFSET + seed, suite.n_test).input_shapes()
                given = layout[(env_id, seed)]
                missing = [k for k in expected if k not in given]
                if missing:
                    raise SubmissionError(f"{env_id} seed {seed}: missing predictions for {', '.join(missing[:3])}"
                                          f"{f' (and {len(missing) - 3} more)' if len(missing) > 3 else ''}")
                extra = [k for k in given if k not in expected]
                if extra:
                    raise SubmissionError(f"{env_id} seed {seed}: unknown input {extra[0][:60]!r}")
                for name, rows in expected.items():
                    if given[name] != rows:
                        raise SubmissionError(f"{env_id}/{seed}/{name}: {given[name]} predictions, expected {rows}")
                preds = {}
                for name in expected:
                    try:
                        arr = np.asarray(arrays[f"{env_id}/{seed}/{name}"], dtype=np.float64)
                    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
                        raise SubmissionError(f"{env_id}/{seed}/{name} cannot be read: {str(err)[:80]}") from None
                    if not np.all(np.isfinite(arr)):
                        raise SubmissionError(f"{env_id}/{seed}/{name}: predictions contain NaN or inf")
                    preds[name] = arr
                try:
                    scores = score_predictions(preds, env, EVAL_SEED_OFFSET + seed, suite.n_test)
                except CausalBenchError as err:
                    raise SubmissionError(f"{env_id} seed {seed}: {err}") from None
                _cross_check(claims.get(env_id, {}).get(str(seed), {}), scores, env_id, seed)
                runs.append({"unit": str(seed), "seed": seed, **headline(scores)})
                loss = scores.loss
            results[env_id] = {"env_version": env_id.rsplit("-", 1)[-1], "scm_hash": env.scm.hash, "loss": loss,
                               "runs": runs}
    meta = {k: data[k] for k in ("track", "authors", "paper", "code", "description", "hparams", "created")
            if k in data}
    return entry("predictions", {"method": entry_name(data["method"]), **meta}, suite.manifest(), results,
                 suite.envs, not_applicable=data.get("not_applicable", {}), baseline=bool(baseline),
                 benchmark_version=data["benchmark_version"], predictions_sha256=digest)


# ---------------------------------------------------------------- publishing


def builtin_names() -> list[str]:
    """Names no outside entry may take or resemble: the built-in baselines and the references."""
    builtin = {e.name for e in METHODS.entries()
               if isinstance(e.target, str) and e.target.startswith("causalbench.baselines.")}
    return sorted(builtin | set(REFERENCES.names()))


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write via a temp file in the same folder + os.replace: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def publish(path: str | Path, root: str | Path = LEADERBOARD_DIR, suite: SuiteSpec = OFFICIAL_SUITE, *,
            replace: bool = False, baseline: bool = False, limits: Limits = Limits()) -> Path:
    """Validate and re-score a prediction submission, then (under the leaderboard's lock, atomically) write
    entries/<method>.json as an unverified entry and regenerate the pages."""
    new = check_submission(path, suite, limits, baseline=baseline)
    return commit([new], root, replace=replace, reserved=builtin_names())[0]


__all__ = ["read_manifest", "check_submission", "scan_npz", "sha256_file", "publish", "atomic_write",
           "load_entries", "render_leaderboard", "builtin_names"]
