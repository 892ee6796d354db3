"""Sweeps: plan jobs, run them on a launcher, append their records to a run folder, resume what is missing.

`execute` is the one driver every study uses (`run`, `scaling`, `evaluate`): it locks the
folder, saves the configuration atomically, skips every (job key, stage) already recorded,
appends each finished job's new records in one write, and stops cleanly when interrupted
(finished records are kept; `--resume DIR` finishes the rest). `plan_run` is what
`causalbench run` plans: the suite's envs x applicable methods x seeds, plus the references.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from ..env.registry import ENVS, make
from ..errors import CausalBenchError, MissingDependency
from ..methods import main_run_methods, method_spec
from ..provenance import git_hash
from .config import EVAL_SEED_OFFSET, Job, RunConfig
from .job import JobResult, run_job
from .launchers import launch, progress_bar
from .applicable import not_applicable
from .references import REFERENCES
from .tuning import TUNING_SEED, load_table
from .results import (CONFIG_FILE, RESULTS_FILE, FolderLock, append_records, disk_error, read_records,
                      recorded_stages, write_atomic)

SKIPPED_FILE = "skipped.json"


def plan_run(config: RunConfig) -> tuple[list[Job], list[dict[str, Any]]]:
    """The jobs of `causalbench run` and the (env, method) pairs skipped as not applicable, with reasons."""
    config = config.resolved()
    for env_id in config.envs:
        ENVS.entry(env_id)
    if any(s < 0 or s >= TUNING_SEED for s in config.seeds):
        raise CausalBenchError(f"training seeds must lie in [0, {TUNING_SEED}) (model selection draws its data at "
                               f"{TUNING_SEED}, evaluation at {EVAL_SEED_OFFSET} + the training seed), "
                               f"got {list(config.seeds)}")
    names = list(config.methods) or main_run_methods()
    specs, missing = {}, {}
    for name in names:   # unknown names fail here, in one line
        try:
            specs[name] = method_spec(name)
        except MissingDependency as err:   # e.g. torch not installed: asked for by name, an error; else skipped
            if config.methods:
                raise
            missing[name] = str(err)
    table = load_table(config.tuning) if config.tuning else None
    source = f"tuned ({Path(table.source).name}, {table.trials} trials)" if table else "defaults"
    jobs, skipped = [], []
    for env_id in config.envs:
        env = make(env_id)
        skipped += [{"env_id": env_id, "method": name, "reason": reason} for name, reason in missing.items()]
        for name, spec in specs.items():
            if config.tracks and spec.track not in config.tracks:
                continue
            reason = not_applicable(env, name)
            if reason is not None:
                skipped.append({"env_id": env_id, "method": name, "reason": reason})
                continue
            tuned = table.get(env_id, name) if table else None
            jobs.extend(config.job(env_id, name, s, tuned.hparams if tuned else None, source) for s in config.seeds)
        if config.references:
            jobs.extend(config.job(env_id, ref, s) for ref in REFERENCES.names() for s in config.seeds)
    return jobs, skipped


def default_out_dir(prefix: str = "") -> Path:
    return Path("results") / f"{prefix}{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _missing(jobs: Sequence[Job], results: Path) -> list[Job]:
    """Jobs with at least one stage not yet recorded (a torn multi-stage job re-runs; recorded stages are kept)."""
    if not results.exists():
        return list(jobs)
    records = read_records(results)
    stages, totals = recorded_stages(records), {r["key"]: r["n_stages"] for r in records}
    return [j for j in jobs if len(stages.get(j.key(), ())) < totals.get(j.key(), 1 << 30)]


def execute(jobs: Sequence[Job], out_dir: str | Path, config: dict[str, Any], *, resume: bool = False,
            skipped: Sequence[dict[str, Any]] = (), backend: str = "joblib", n_jobs: int | None = None,
            progress: bool = True, desc: str = "causalbench run", config_file: str = CONFIG_FILE,
            max_jobs: int | None = None, on_result: Callable[[JobResult, Path], None] | None = None,
            runner: Callable[..., JobResult] = run_job, runner_args: Sequence[Any] = ()) -> Path:
    """Run `jobs` into `out_dir` (resuming it if `resume`); returns the folder.

    `config` is what the folder was started with (saved once, compared on resume). `max_jobs` stops
    after that many finished jobs, as an interruption would (for tests and partial runs). `runner(job, git,
    *runner_args)` runs one job (default `run_job`; the leaderboard's runs it isolated and records failures).
    """
    out_dir = Path(out_dir)
    results = out_dir / RESULTS_FILE
    if results.exists() and not resume:
        raise CausalBenchError(f"{results} exists; use --resume {out_dir} to continue it, or another --out")
    if resume and not (out_dir / config_file).exists():
        raise CausalBenchError(f"nothing to resume: {out_dir / config_file} does not exist")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise disk_error(err, out_dir) from None
    payload = json.loads(json.dumps({"config": config}, default=str))
    with FolderLock(out_dir):
        saved = out_dir / config_file
        if resume:
            if json.loads(saved.read_text()).get("config") != payload["config"]:
                raise CausalBenchError(f"{out_dir} was started with a different configuration; resume it "
                                       "without options")
        else:
            write_atomic(saved, json.dumps(payload, indent=2, sort_keys=True) + "\n")
        write_atomic(out_dir / SKIPPED_FILE, json.dumps(list(skipped), indent=2) + "\n")
        todo = _missing(jobs, results)
        if max_jobs is not None:
            todo = todo[:max_jobs]
        done = recorded_stages(read_records(results)) if results.exists() else {}
        git = git_hash()
        bar = progress_bar(len(todo), progress, desc=desc)
        try:
            for result in launch(backend, runner, todo, max(1, n_jobs or os.cpu_count() or 1), git, *runner_args):
                new = [r for r in result.records if r["stage"] not in done.get(r["key"], set())]
                if on_result is not None:
                    on_result(result, out_dir)   # e.g. predictions, written before the records that name them
                append_records(results, new)
                bar.update(1)
        finally:
            bar.close()
    return out_dir


def run(config: RunConfig, out: str | Path | None = None, jobs: int | None = None, resume: bool = False,
        progress: bool = True, backend: str = "joblib", max_jobs: int | None = None) -> Path:
    """`causalbench run`: plan the configuration and execute it into `out` (default results/<timestamp>)."""
    config = config.resolved()
    todo, skipped = plan_run(config)
    return execute(todo, out if out is not None else default_out_dir(), config.to_dict(), resume=resume,
                   skipped=skipped, backend=backend, n_jobs=jobs, progress=progress, max_jobs=max_jobs)
