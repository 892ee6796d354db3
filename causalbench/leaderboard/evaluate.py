"""The official evaluation: a method trained and scored by the harness on hidden instances, each job isolated.

`evaluate_method(spec, suite)` draws `suite.instances` instance seeds per env with `secrets` (unless given),
plans one job per (env, instance, training seed), runs each through `run_job` with the isolating executor
(`experiments.isolation.Isolated`: a fresh worker that gets arrays only) and returns the entry, whose
`instances` publish the seeds. A job that fails (time or memory limit, an error in the method) is recorded
as a failure of its env. `evaluate_reference` scores an exact reference on the same kind of instances in the
harness. `publish_entries` files entries into a leaderboard folder (locked, atomic).

    >>> entry = evaluate_method("mypkg.methods:MyMethod", SMOKE_SUITE, about=About("my-method", ("Ada",)))
    >>> publish_entries([entry], "my-board")
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..env.instances import INSTANCE_SEED_BOUND
from ..env.registry import make
from ..errors import CausalBenchError, SubmissionError
from ..experiments.config import Job
from ..experiments.isolation import Isolated
from ..experiments.job import JobResult, run_job
from ..experiments.results import SCHEMA_VERSION, read_records
from ..experiments.references import REFERENCE_TRACK, REFERENCES
from ..experiments.sweep import execute, not_applicable
from ..methods import method_spec
from ..provenance import VERSION, git_hash
from ..scoring import Scores
from .entries import Entry, entry, headline
from .format import LEADERBOARD_DIR, OFFICIAL_SUITE, SMOKE_SUITE, SUITES, SuiteSpec
from .names import check_text, entry_name
from .predictions import default_name
from .publish import commit
from .validate import builtin_names

Instances = Mapping[str, Sequence[int]]   # env id -> instance seeds

__all__ = ["About", "evaluate_method", "evaluate_reference", "draw_instances", "publish_entries", "OFFICIAL_SUITE",
           "SMOKE_SUITE", "SUITES", "SuiteSpec", "LEADERBOARD_DIR"]


@dataclass(frozen=True)
class About:
    """Who submits a method and what it is (the entry's metadata)."""

    name: str
    authors: tuple[str, ...] = ("anonymous",)
    paper: str | None = None
    code: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        check_text(dataclasses.asdict(self), "submission")
        if not self.authors or any(not a.strip() for a in self.authors):
            raise SubmissionError("authors must be one or more non-empty names")
        for field in ("paper", "code"):
            link = getattr(self, field)
            if link is not None and not (isinstance(link, str) and link.startswith(("http://", "https://"))
                                         and len(link) <= 500 and not any(c.isspace() for c in link)):
                raise SubmissionError(f"{field} must be an http(s) link without spaces, got {str(link)[:60]!r}")
        if self.description is not None and len(self.description) > 2000:
            raise SubmissionError("description must be at most 2000 characters")

    def meta(self) -> dict[str, Any]:
        return {"method": self.name, "authors": list(self.authors), "paper": self.paper, "code": self.code,
                "description": self.description}


def draw_instances(suite: SuiteSpec) -> dict[str, tuple[int, ...]]:
    """Secret instance seeds for every env of `suite`, from the operating system's cryptographic generator."""
    return {env: tuple(secrets.randbelow(INSTANCE_SEED_BOUND) for _ in range(suite.instances)) for env in suite.envs}


def _check_instances(instances: Instances, suite: SuiteSpec) -> dict[str, tuple[int, ...]]:
    if set(instances) != set(suite.envs) or any(len(v) != suite.instances for v in instances.values()):
        raise SubmissionError(f"instances must give {suite.instances} seed(s) for each env of suite {suite.id!r}")
    return {env: tuple(int(s) for s in instances[env]) for env in suite.envs}


def plan(method: str, suite: SuiteSpec, instances: Instances, overrides: Mapping[str, Any] | None = None
         ) -> tuple[list[Job], dict[str, str]]:
    """One job per (env, instance, training seed); envs where the method does not apply, with the reason."""
    config = suite.run_config((method,))
    if overrides:
        config = dataclasses.replace(config, overrides={**config.overrides, **overrides})
    jobs, skipped = [], {}
    for env_id in suite.envs:
        env_jobs: list[Job] = []
        for seed in instances[env_id]:
            reason = None if method in REFERENCES else not_applicable(make(env_id, instance=seed), method)
            if reason is not None:
                skipped[env_id] = " ".join(str(reason).split())[:300]
                break
            env_jobs += [dataclasses.replace(config.job(env_id, method, s), env_options=(("instance", seed),),
                                             study="leaderboard") for s in suite.seeds]
        if env_id not in skipped:
            jobs += env_jobs
    return jobs, skipped


def run_one(job: Job, git: str | None, executor: Any, path: Sequence[str] = ()) -> JobResult:
    """`run_job(job)` with `executor`; a job that fails (a limit, an error in the method) returns one failure
    record instead, so it never stops the others and a resumed evaluation does not run it again.

    `path` is the caller's `sys.path`: a reused worker process started before the caller imported an outside
    method's folder still finds it."""
    sys.path.extend(p for p in path if p not in sys.path)
    try:
        return run_job(job, git, executor)
    except CausalBenchError as err:
        return JobResult([{"schema": SCHEMA_VERSION, "study": job.study, "key": job.key(), "env_id": job.env_id,
                           "seed": job.seed, "stage": 0, "n_stages": 1, "failure": " ".join(str(err).split())[:300]}])


def _evaluate(method: str, suite: SuiteSpec, instances: Instances, jobs: int, progress: bool, executor: Any,
              overrides: Mapping[str, Any] | None, work: Path | None, resume: bool, about: Mapping[str, Any]
              ) -> tuple[list[Job], dict[str, str], dict[str, Any], dict[str, str]]:
    """Plan, run through the sweep engine into `work` (resumable: finished jobs are kept), and collect the runs."""
    todo, skipped = plan(method, suite, instances, overrides)
    if not todo:
        reasons = "; ".join(f"{env}: {why}" for env, why in list(skipped.items())[:2])
        raise SubmissionError(f"method {method!r} applies to none of the suite's environments ({reasons})")
    config = evaluation_config(method, suite, instances, executor, overrides, about)
    with tempfile.TemporaryDirectory(prefix="causalbench-evaluate-") as scratch:
        folder = execute(todo, work if work is not None else scratch, config, resume=resume, n_jobs=jobs,
                         skipped=[{"env_id": e, "reason": r} for e, r in skipped.items()], progress=progress,
                         desc=f"causalbench evaluate {method}", runner=run_one, runner_args=(executor, list(sys.path)))
        records = read_records(folder)
    by_key = {job.key(): job for job in todo}
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for record in records:
        job = by_key.get(record["key"])
        if job is None or record["stage"] != record["n_stages"] - 1:
            continue
        if "failure" in record:
            failures.setdefault(job.env_id, record["failure"])
            continue
        seed = dict(job.env_options)["instance"]
        unit = f"{list(instances[job.env_id]).index(seed)}:{job.seed}"
        env_result = results.setdefault(job.env_id, {"env_version": job.env_id.rsplit("-", 1)[-1],
                                                     "loss": record["scores"]["loss"], "runs": []})
        env_result["runs"].append({"unit": unit, "instance": seed, "seed": job.seed,
                                   "scm_hash": record["scm_hash"], **headline(Scores.from_dict(record["scores"]))})
    for env_result in results.values():
        env_result["runs"].sort(key=lambda r: r["unit"])
    return todo, skipped, results, failures


def evaluation_config(method: str, suite: SuiteSpec, instances: Instances, executor: Any,
                      overrides: Mapping[str, Any] | None, about: Mapping[str, Any]) -> dict[str, Any]:
    """What an evaluation folder is started with: everything `causalbench evaluate --resume DIR` needs."""
    isolated = isinstance(executor, Isolated)
    return {"evaluate": method, "suite": suite.id, "instances": {env: list(s) for env, s in instances.items()},
            "overrides": dict(overrides or {}), "about": dict(about),
            "isolation": {"seconds": executor.seconds, "memory": executor.memory} if isolated else None}


def evaluate_method(method: str, suite: SuiteSpec = OFFICIAL_SUITE, *, about: About | None = None,
                    instances: Instances | None = None, jobs: int = 1, progress: bool = False,
                    executor: Any = Isolated(), overrides: Mapping[str, Any] | None = None,
                    baseline: bool = False, work: str | Path | None = None, resume: bool = False) -> Entry:
    """Evaluate `method` (a registered name, "module:Class" or an entry point) on hidden instances of every env
    of `suite` (secret seeds drawn now unless `instances` are given); returns its entry. Job records go to
    `work` (a run folder; a temporary one if None), so an interrupted evaluation resumes with `resume=True`."""
    spec = method_spec(method)
    about = about or About(default_name(method))
    name = entry_name(about.name)
    instances = _check_instances(instances if instances is not None else draw_instances(suite), suite)
    todo, skipped, results, failures = _evaluate(method, suite, instances, jobs, progress, executor, overrides,
                                                 None if work is None else Path(work), resume, dataclasses.asdict(about))
    meta = {**about.meta(), "method": name, "spec": method, "track": spec.track, "protocol": spec.protocol,
            "privileged": bool(spec.cls.privileged), "hparams": todo[0].resolved_hparams()}
    return entry("method", meta, suite.describe(), results, suite.envs, not_applicable=skipped, failures=failures,
                 **_provenance(instances, executor, baseline))


def evaluate_reference(name: str, suite: SuiteSpec = OFFICIAL_SUITE, *, instances: Instances | None = None,
                       jobs: int = 1, progress: bool = False) -> Entry:
    """Score exact reference `name` (causal-reference, bayes-train, null) on hidden instances: a reference row."""
    REFERENCES.entry(name)
    instances = _check_instances(instances if instances is not None else draw_instances(suite), suite)
    _, skipped, results, failures = _evaluate(name, suite, instances, jobs, progress, None, None, None, False,
                                              {"name": name})
    meta = {"method": name, "authors": ["causalbench maintainers"], "description": REFERENCES.entry(name).summary,
            "track": REFERENCE_TRACK, "protocol": REFERENCE_TRACK, "privileged": True, "hparams": {}}
    return entry("reference", meta, suite.describe(), results, suite.envs, not_applicable=skipped, failures=failures,
                 **_provenance(instances, None, True))


def _provenance(instances: Instances, executor: Any, baseline: bool) -> dict[str, Any]:
    isolated = isinstance(executor, Isolated)
    return {"baseline": baseline, "benchmark_version": VERSION, "git_hash": git_hash(),
            "evaluated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "instances": {env: list(seeds) for env, seeds in instances.items()},
            "isolation": {"seconds": executor.seconds, "memory": executor.memory} if isolated else None}


def publish_entries(entries: Iterable[Entry], root: str | Path = LEADERBOARD_DIR, *, replace: bool = False,
                    remove: Sequence[str] = ()) -> list[Path]:
    """File evaluated entries into a leaderboard folder and re-render it (locked, atomic; see `publish`)."""
    return commit(list(entries), root, replace=replace, reserved=builtin_names(), remove=remove)
