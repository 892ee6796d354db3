"""The main job: suite x methods x seeds -> append-only JSON-lines records, resumable.

One *job* is (env, method, seed). It trains the method on its track's data with
the protocol the method declares, scores it with the scorer after every stage,
and returns one record per stage. Jobs run in joblib worker processes; the
parent appends each finished job's records to `results.jsonl` in a single
write, so an interrupted sweep loses at most the jobs in flight and
`--resume DIR` skips every job whose records are already there.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .errors import CausalBenchError

SCHEMA_VERSION = 1
RESULTS_FILE = "results.jsonl"
CONFIG_FILE = "config.json"
DEFAULT_ENVS = ("IceCreamShorts-v0", "IRMLinear-v0", "TreatmentRecovery-v0", "LabelFlip-v0", "Asia-v0",
                "RandomSCM-v0", "IceCreamHD-v0", "GoalMisgen-v0", "Copycat-v0")
DEFAULT_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class RunConfig:
    """What `causalbench run` runs; recorded in config.json and, per job, in every record."""

    envs: tuple[str, ...] = DEFAULT_ENVS
    methods: tuple[str, ...] = ()          # empty = every registered method that applies
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    tracks: tuple[str, ...] = ()           # empty = every track
    n_train: int = 5000
    n_test: int = 2000
    budget: int = 20_000                   # online protocol: environment steps
    num_envs: int = 256                    # online protocol: vector env width
    overrides: dict[str, Any] = field(default_factory=dict)  # hyper-parameter overrides where a field exists

    @classmethod
    def quick(cls, **kwargs: Any) -> "RunConfig":
        """A small, fast configuration for smoke tests (`--quick`)."""
        base = dict(seeds=(0,), n_train=400, n_test=400, budget=2000, num_envs=64, overrides={"steps": 60})
        return cls(**{**base, **kwargs})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class Job:
    env_id: str
    method: str
    seed: int

    def key(self, config: RunConfig, hparams: dict[str, Any]) -> str:
        """Content key of a job: identical inputs <=> identical key (resume skips finished keys)."""
        from . import __version__

        payload = {"env": self.env_id, "method": self.method, "seed": self.seed, "hparams": hparams,
                   "n_train": config.n_train, "n_test": config.n_test, "budget": config.budget,
                   "num_envs": config.num_envs, "version": __version__}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def saved_config(directory: str | Path, name: str = CONFIG_FILE) -> dict[str, Any]:
    """The configuration a run or sweep folder was started with (for --resume)."""
    path = Path(directory) / name
    if not path.exists():
        raise CausalBenchError(f"nothing to resume: {path} does not exist")
    return json.loads(path.read_text())["config"]


def git_hash() -> str | None:
    """The commit of the working tree the package runs from (None outside a git checkout)."""
    try:
        root = Path(__file__).resolve().parents[1]
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


# ---------------------------------------------------------------- planning


def plan(config: RunConfig) -> tuple[list[Job], list[dict[str, Any]]]:
    """The jobs to run and the (env, method) pairs skipped as not applicable, with reasons."""
    from .env import ENVS, make
    from .methods import METHODS, make_task, method_spec

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


def job_hparams(job: Job, config: RunConfig) -> dict[str, Any]:
    from .methods import method_spec

    spec = method_spec(job.method)
    fields = {f.name for f in dataclasses.fields(spec.cls.Params)}
    merged = {**dataclasses.asdict(spec.cls.Params()), **spec.params,
              **{k: v for k, v in config.overrides.items() if k in fields}}
    return merged


# ---------------------------------------------------------------- one job


def train_stages(job: Job, config: RunConfig) -> tuple[Any, list[str | None], Iterator[dict[str, Any]]]:
    """(method, stage domains, iterator): each step trains one more stage and yields its train info.

    The method is trained in place; after the iterator is exhausted it is fully trained. `run_job`
    scores it after every stage; `causalbench.submission` predicts with the final one.
    """
    from .env import make
    from .methods import TRACK_DATA, make_task, method_spec

    env = make(job.env_id)
    spec = method_spec(job.method)
    task = make_task(env, spec.track, privileged=spec.cls.privileged)
    method = spec.cls(task, spec.cls.Params(**job_hparams(job, config)), job.seed)
    single_thread()
    stages: list[tuple[str | None, Any]] = []
    if spec.protocol == "online":
        stages.append((None, None))
    else:
        data = env.dataset(TRACK_DATA[spec.track], n=config.n_train, seed=job.seed)
        if spec.protocol == "continual":
            stages = [(env.domains[k].name, part) for k, part in enumerate(data.by_domain())]
        else:
            stages.append((None, data))

    def steps() -> Iterator[dict[str, Any]]:
        for domain, data in stages:
            start = time.perf_counter()
            if spec.protocol == "online":
                method.interact(online_env(env, task, config, job.seed), config.budget)
                info = {"budget": config.budget, "num_envs": config.num_envs}
            else:
                method.fit(data)
                info = {"train_fingerprint": data.fingerprint, "train_kind": data.spec.kind, "train_n": data.n}
            yield {"stage_domain": domain, **info, "fit_seconds": round(time.perf_counter() - start, 4)}

    return method, [d for d, _ in stages], steps()


def run_job(job: Job, config: RunConfig, git: str | None = None) -> list[dict[str, Any]]:
    """Train and score one (env, method, seed); one record per stage. Runs in a worker process."""
    from . import __version__
    from .env import make
    from .methods import method_spec
    from .scoring import score

    env = make(job.env_id)
    spec = method_spec(job.method)
    hparams = job_hparams(job, config)
    method, domains, steps = train_stages(job, config)
    base = {
        "schema": SCHEMA_VERSION, "key": job.key(config, hparams), "env_id": job.env_id,
        "env_version": job.env_id.rsplit("-", 1)[-1], "scm_hash": env.scm.hash, "method": job.method,
        "track": spec.track, "protocol": spec.protocol, "hparams": hparams, "seed": job.seed,
        "n_train": config.n_train, "n_test": config.n_test, "n_stages": len(domains),
        "package_version": __version__, "git_hash": git,
    }
    records = []
    for stage, info in enumerate(steps):
        scores = score(method.predict, env, seed=job.seed, n=config.n_test)
        records.append({**base, "stage": stage, **info, "scores": scores.to_dict(),
                        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})
    return records


def online_env(env: Any, task: Any, config: RunConfig, seed: int) -> Any:
    """The environment an online method learns in, already reset with the job's seed: the native
    vector env of a decision task, else the multi-step gymnasium env."""
    if env.action is not None:
        from .gym_env import CausalDecisionVectorEnv

        venv = CausalDecisionVectorEnv(env.id, num_envs=config.num_envs)
        venv.reset(seed=seed)
        return venv
    import gymnasium as gym

    from .gym_registration import NAMESPACE

    genv = gym.make(f"{NAMESPACE}/{env.id}").unwrapped
    genv.reset(seed=seed)
    genv.action_space.seed(seed)
    return genv


def single_thread() -> None:
    """One BLAS/torch thread per worker: results do not depend on --jobs, and 2 cores are not oversubscribed."""
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)


# ---------------------------------------------------------------- storage


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records of a results file; a torn last line (an interrupted write) is ignored."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.exists():
        raise CausalBenchError(f"no results file at {path}")
    records = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("schema") == SCHEMA_VERSION:
            records.append(rec)
    return records


def append_records(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """Append whole records in one write and fsync: never a half job, never a duplicate."""
    payload = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    with open(path, "a+b") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                payload = "\n" + payload  # a torn line from an interrupted run stays isolated
        fh.write(payload.encode())
        fh.flush()
        os.fsync(fh.fileno())


def finished_keys(records: Iterable[dict[str, Any]]) -> set[str]:
    """Keys of jobs whose every stage is recorded."""
    stages: dict[str, set[int]] = {}
    total: dict[str, int] = {}
    for r in records:
        stages.setdefault(r["key"], set()).add(r["stage"])
        total[r["key"]] = r["n_stages"]
    return {k for k, s in stages.items() if len(s) == total[k]}


# ---------------------------------------------------------------- the sweep


def default_out_dir() -> Path:
    return Path("results") / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def run(config: RunConfig, out: str | Path | None = None, jobs: int | None = None, resume: bool = False,
        progress: bool = True) -> Path:
    """Run the sweep into `out` (a new timestamped folder by default); returns the folder."""
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


def parallel_map(fn: Callable[..., Any], items: Sequence[Any], n_jobs: int, *args: Any) -> Iterator[Any]:
    """fn(item, *args) for every item, in joblib worker processes when n_jobs > 1, yielded as they finish."""
    if n_jobs <= 1 or len(items) <= 1:
        for item in items:
            yield fn(item, *args)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(delayed(fn)(item, *args) for item in items)


def _execute(todo: list[Job], config: RunConfig, n_jobs: int, git: str | None) -> Iterator[list[dict[str, Any]]]:
    return parallel_map(run_job, todo, n_jobs, config, git)


def progress_bar(total: int, enabled: bool, desc: str = "causalbench run", unit: str = "job") -> Any:
    """The progress bar every long command shows (stderr; off with --no-progress)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5)
