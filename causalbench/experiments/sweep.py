"""The main job: suite x methods x seeds -> append-only JSON-lines records, resumable.

One *job* is (env, method, seed) (see `job.run_job`). Jobs run in worker processes; the
parent appends each finished job's records to `results.jsonl` in a single write, so an
interrupted sweep loses at most the jobs in flight and `--resume DIR` skips every job whose
records are already there.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, Iterator

from ..env.registry import ENVS, make
from ..errors import CausalBenchError
from ..methods import METHODS, make_task, method_spec
from ..provenance import git_hash
from .config import Job, RunConfig, job_hparams
from .job import run_job
from .launchers import parallel_map, progress_bar
from .results import CONFIG_FILE, RESULTS_FILE, append_records, finished_keys, read_records


def plan(config: RunConfig) -> tuple[list[Job], list[dict[str, Any]]]:
    """The jobs to run and the (env, method) pairs skipped as not applicable, with reasons."""
    config = config.resolved()
    for env_id in config.envs:
        ENVS.entry(env_id)
    names = list(config.methods) or METHODS.names()
    jobs, skipped = [], []
    for env_id in config.envs:
        env = make(env_id)
        for name in names:
            spec = method_spec(name)
            if config.tracks and spec.track not in config.tracks:
                continue
            task = make_task(env, spec.track, privileged=spec.cls.privileged)
            reason = spec.cls.applicable(task)
            if reason is None and spec.protocol == "continual" and len(env.domains) < 2:
                reason = "continual training needs at least two training domains"
            if reason is None and spec.protocol == "online" and env.action is None and not task.episodic:
                reason = "online learning needs a decision env or a multi-step gym task"
            if reason is not None:
                skipped.append({"env_id": env_id, "method": name, "reason": reason})
                continue
            jobs.extend(Job(env_id, name, s) for s in config.seeds)
    return jobs, skipped


def default_out_dir() -> Path:
    return Path("results") / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def run(config: RunConfig, out: str | Path | None = None, jobs: int | None = None, resume: bool = False,
        progress: bool = True) -> Path:
    """Run the sweep into `out` (a new timestamped folder by default); returns the folder."""
    config = config.resolved()
    out_dir = Path(out) if out is not None else default_out_dir()
    results = out_dir / RESULTS_FILE
    if results.exists() and not resume:
        raise CausalBenchError(f"{results} exists; use --resume {out_dir} to continue it, or another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    if resume and (out_dir / CONFIG_FILE).exists():
        saved = json.loads((out_dir / CONFIG_FILE).read_text())
        if saved.get("config") != json.loads(json.dumps(config.to_dict())):
            raise CausalBenchError(f"{out_dir} was started with a different configuration; resume it without options")
    else:
        (out_dir / CONFIG_FILE).write_text(json.dumps({"config": config.to_dict()}, indent=2))
    todo, skipped = plan(config)
    (out_dir / "skipped.json").write_text(json.dumps(skipped, indent=2))
    done = finished_keys(read_records(results)) if results.exists() else set()
    todo = [j for j in todo if j.key(config, job_hparams(j, config)) not in done]
    n_jobs = jobs or os.cpu_count() or 1
    git = git_hash()
    bar = progress_bar(len(todo), progress)
    try:
        for records in _execute(todo, config, n_jobs, git):
            append_records(results, records)
            bar.update(1)
    finally:
        bar.close()
    return out_dir


def _execute(todo: list[Job], config: RunConfig, n_jobs: int, git: str | None) -> Iterator[list[dict[str, Any]]]:
    return parallel_map(run_job, todo, n_jobs, config, git)
