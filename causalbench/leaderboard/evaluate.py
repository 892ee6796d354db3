"""Leaderboard submissions: predictions, not numbers, so the leaderboard cannot be fooled by editing them.

A submission (format ``causalbench-submission``, version 1) is two files side by side:

- ``<name>.json``, the manifest: ``format``, ``format_version``, ``benchmark_version``
  (== ``causalbench.VERSION``), ``suite`` (``id``, ``envs``, ``seeds``, ``n_test``; must equal
  the leaderboard's suite), ``method``, ``track``, ``authors``, optional ``paper`` / ``code`` /
  ``description`` / ``hparams``, ``predictions`` (``file``: a bare ``.npz`` file name,
  ``sha256``: its hash), optional ``not_applicable`` (env id -> reason) and optional
  ``claimed_metrics`` (env id -> seed -> metric -> number or null). The JSON schema is
  ``causalbench.submission_format.SCHEMA`` (written out as
  ``leaderboard/schema/submission-v1.json``).
- ``<name>.npz``: one float32/float64 vector per ``<env_id>/<seed>/<input>`` for every suite env
  not declared not applicable, every suite seed and every input of
  ``causalbench.scoring.get_suite(env, seed, n_test)`` (test sets ``id``, ``<shift>@<sev>`` and
  probes ``permute:<var>``, ``do:<var>=<a>``, ``act:<A>=<a>``).

``evaluate(method)`` (``causalbench evaluate METHOD``) trains a registered method as the runner
does and writes both files; ``check_submission(path)`` validates and re-scores every prediction
with the scorer (claimed metrics must agree), returning the leaderboard entry;
``publish(path)`` (``causalbench submit FILE``) also writes ``leaderboard/entries/<method>.json``
atomically and regenerates the README and index.html. Nothing from a submission is imported,
executed or unpickled: the manifest is parsed as JSON, the arrays are read with
``np.load(..., allow_pickle=False)`` after their headers are checked.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import SubmissionError
from ..experiments.config import Job
from ..experiments.job import run_job
from ..experiments.launchers import parallel_map, progress_bar
from ..experiments.sweep import plan_run
from ..methods import method_spec
from ..provenance import VERSION
from ..scoring import Scores
from .validate import (atomic_write, check_submission, finite_or_none, load_entries, publish,
                               read_manifest, render_leaderboard, scan_npz, sha256_file)
from .format import (CLAIMABLE, FORMAT, FORMAT_VERSION, LEADERBOARD_DIR, OFFICIAL_SUITE, SCHEMA,
                                SMOKE_SUITE, SUITES, Limits, SuiteSpec, check_schema)

__all__ = ["FORMAT", "FORMAT_VERSION", "SCHEMA", "OFFICIAL_SUITE", "SMOKE_SUITE", "SUITES", "SuiteSpec", "Limits",
           "LEADERBOARD_DIR", "evaluate", "write_submission", "npz_bytes", "check_submission", "publish",
           "read_manifest", "scan_npz", "check_schema", "render_leaderboard", "load_entries", "atomic_write",
           "sha256_file"]


# ---------------------------------------------------------------- evaluate: train, predict, write a submission


def predict_job(job: Job) -> tuple[Job, dict[str, np.ndarray], Any]:
    """Train and predict every suite input of (env, evaluation seed) exactly as `causalbench run` does (one job
    function), and return the scores of those predictions."""
    result = run_job(dataclasses.replace(job, keep_predictions=True))
    assert result.predictions is not None
    preds = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in result.predictions.items()}
    return job, preds, Scores.from_dict(result.records[-1]["scores"])


def _run(jobs: list[Job], n_jobs: int, progress: bool) -> Iterable[tuple[Job, dict, Any]]:
    bar = progress_bar(len(jobs), progress, desc=f"causalbench evaluate {jobs[0].method}" if jobs else
                       "causalbench evaluate")
    try:
        for result in parallel_map(predict_job, jobs, n_jobs):
            bar.update(1)
            yield result
    finally:
        bar.close()


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A compressed .npz (what np.savez_compressed writes) with fixed timestamps: same arrays, same sha256."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def write_submission(out: Path, method: str, suite: SuiteSpec, results: Sequence[tuple[Job, dict, Any]],
                     not_applicable: Mapping[str, str], *, name: str | None = None, track: str | None = None,
                     authors: Sequence[str] = ("anonymous",), paper: str | None = None,
                     description: str | None = None, hparams: Mapping[str, Any] | None = None,
                     claims: bool = True) -> Path:
    """Write <out>.npz (arrays, deterministic bytes) then <out> (manifest, with claimed metrics), each atomically."""
    out = Path(out)
    npz = out.with_suffix(".npz")
    arrays = {f"{job.env_id}/{job.seed}/{k}": v for job, preds, _ in results for k, v in preds.items()}
    atomic_write(npz, npz_bytes(arrays))
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "benchmark_version": VERSION,
        "suite": suite.manifest(), "method": name or method, "track": track or method_spec(method).track,
        "authors": list(authors), "paper": paper,
        "predictions": {"file": npz.name, "sha256": sha256_file(npz)},
    }
    if description:
        manifest["description"] = description
    if hparams:
        manifest["hparams"] = {str(k): _record(v) for k, v in hparams.items()}
    if not_applicable:
        manifest["not_applicable"] = dict(not_applicable)
    if claims:
        claimed: dict[str, dict[str, Any]] = {}
        for job, _, scores in sorted(results, key=lambda r: (r[0].env_id, r[0].seed)):
            values = {m: finite_or_none(getattr(scores, m)) for m in CLAIMABLE}
            claimed.setdefault(job.env_id, {})[str(job.seed)] = values
        manifest["claimed_metrics"] = claimed
    check_schema(manifest)
    atomic_write(out, json.dumps(manifest, indent=1) + "\n")
    return out


def _record(value: Any) -> Any:
    """A hyper-parameter as the schema takes it: a scalar or a list of scalars, else its JSON text (<= 200 chars)."""
    value = json.loads(json.dumps(value, default=str))
    scalar = (lambda v: v is None or isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 200))
    if scalar(value) or (isinstance(value, list) and len(value) <= 64 and all(map(scalar, value))):
        return value
    return json.dumps(value)[:200]


def evaluate(method: str, out: str | Path | None = None, suite: SuiteSpec = OFFICIAL_SUITE, *, name: str | None = None,
             authors: Sequence[str] = ("anonymous",), paper: str | None = None, description: str | None = None,
             jobs: int = 1, progress: bool = False, claims: bool = True,
             overrides: Mapping[str, Any] | None = None) -> Path:
    """Train registered `method` on every (env, seed) of `suite` as the runner does; write a complete submission.

        >>> from causalbench.methods import register_method
        >>> register_method("my-method", MyMethod, summary="...")      # any class following the protocol
        >>> evaluate("my-method", "my-method.json", authors=["Ada"])   # then: causalbench submit my-method.json
    """
    out = Path(out) if out is not None else Path(f"{name or method}.json")
    if out.suffix != ".json":
        raise SubmissionError(f"--out must name a .json manifest, got {out.name}")
    config = dataclasses.replace(suite.run_config((method,)), references=False)
    if overrides:  # hyper-parameter overrides on top of the suite's (recorded in the manifest's hparams)
        config = dataclasses.replace(config, overrides={**config.overrides, **overrides})
    todo, skipped = plan_run(config)
    if not todo:
        reasons = "; ".join(f"{s['env_id']}: {s['reason']}" for s in skipped[:2])
        raise SubmissionError(f"method {method!r} applies to none of the suite's environments ({reasons})")
    results = sorted(_run(todo, jobs, progress), key=lambda r: (r[0].env_id, r[0].seed))
    na = {s["env_id"]: " ".join(str(s["reason"]).split())[:300] for s in skipped}
    return write_submission(out, method, suite, results, na, name=name, authors=authors, paper=paper,
                            description=description, hparams=todo[0].resolved_hparams(), claims=claims)
