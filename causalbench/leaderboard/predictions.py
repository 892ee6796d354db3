"""Prediction submissions (unverified): train a method on the public instances and write its predictions.

A prediction submission (format ``causalbench-submission``, version 1) is two files side by side:
``<name>.json``, the manifest (see `format.SCHEMA`), and ``<name>.npz``, one float vector per
``<env_id>/<seed>/<input>`` for every suite env not declared not applicable, every suite seed and every input
of ``causalbench.scoring.get_suite(env, 1_000_000 + seed, n_test)``. `write_predictions` trains a method as
the runner does and writes both; `validate.check_submission` re-scores them. Predictions are of the public
instances, which anyone can compute from public code: the leaderboard shows them as unverified, never
ranked. The official path for methods is `evaluate.evaluate_method` (hidden instances, isolated workers).
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
from .entries import finite_or_none
from .format import CLAIMABLE, FORMAT, FORMAT_VERSION, OFFICIAL_SUITE, SuiteSpec, check_schema
from .names import entry_name
from .validate import atomic_write, sha256_file


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


def write_predictions(method: str, out: str | Path | None = None, suite: SuiteSpec = OFFICIAL_SUITE, *,
                      name: str | None = None, authors: Sequence[str] = ("anonymous",), paper: str | None = None,
                      description: str | None = None, jobs: int = 1, progress: bool = False, claims: bool = True,
                      overrides: Mapping[str, Any] | None = None) -> Path:
    """Train `method` (a registered name, "module:Class" or an entry point) on every (env, seed) of `suite`'s
    public instances as the runner does; write a complete prediction submission (manifest + .npz).

        >>> write_predictions("mypkg.methods:MyMethod", "my-method.json", authors=["Ada"])
        >>> # then: causalbench submit my-method.json (an unverified entry)
    """
    name = entry_name(name if name is not None else default_name(method))
    out = Path(out) if out is not None else Path(f"{name}.json")
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


def default_name(method: str) -> str:
    """A leaderboard name for a method spec: the registered or entry-point name, or the class name as a slug."""
    tail = method.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    slug = "".join("-" + c.lower() if c.isupper() else c for c in tail).strip("-_").replace("_", "-")
    return slug if ":" in method else method
