"""Scaling-study jobs: the sweep's configuration, its plan, one job (train + score), and the executors.

Imported by `causalbench.scaling` (the command and the sweep driver); kept light at import time
(numpy, torch and the scorer are imported inside the functions that need them).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import itertools
import json
import math
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from .errors import CausalBenchError
from .runner import SCHEMA_VERSION, parallel_map, single_thread

CONFIG_FILE = "scaling.json"
PREDICTIONS_DIR = "predictions"
DEFAULT_METHODS = ("erm-linear", "erm-mlp", "causal-oracle", "continual")
DEFAULT_SIZES = (100, 300, 1000, 3000, 10_000, 30_000, 100_000)
DEFAULT_WIDTHS = (16, 64, 128)
DEFAULT_FRACTIONS = (0.0, 0.1, 1.0)
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
PATH_EVAL_SEED = 0          # the suite whose shifted inputs every path-dependence run predicts on
INTERVENTION_P = 1.0        # on an intervened unit, every observed non-target variable is randomised
MIN_SIZE = 10


@dataclass(frozen=True)
class ScalingConfig:
    """What `causalbench scaling` runs; saved in scaling.json (what a job depends on is in its key and record)."""

    env: str
    methods: tuple[str, ...] = ()          # empty = DEFAULT_METHODS that apply to the env
    sizes: tuple[int, ...] = DEFAULT_SIZES
    widths: tuple[int, ...] = DEFAULT_WIDTHS
    fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    n_test: int = 2000
    epochs: float = 1.0
    path_dependence: bool = True
    path_size: int = 10_000
    max_orders: int = 6
    # Hyper-parameter overrides for every method that has the field; a `steps` override disables the epochs rule.
    overrides: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScalingConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def validate(self) -> "ScalingConfig":
        """Raise a one-line CausalBenchError for anything that cannot run."""
        from .env import ENVS

        ENVS.entry(self.env)
        if not self.sizes:
            raise CausalBenchError("--sizes is empty")
        for name, values in (("--sizes", self.sizes), ("--widths", self.widths), ("--methods", self.methods)):
            if len(set(values)) != len(values):
                raise CausalBenchError(f"{name} has duplicates: {','.join(map(str, values))}")
        if any(n < MIN_SIZE for n in (*self.sizes, self.path_size)):
            raise CausalBenchError(f"sizes must be at least {MIN_SIZE} rows, got --sizes "
                                   f"{','.join(map(str, self.sizes))} and --path-size {self.path_size}")
        if any(w < 1 for w in self.widths):
            raise CausalBenchError(f"widths must be positive integers, got {','.join(map(str, self.widths))}")
        if not self.fractions or any(not 0.0 <= f <= 1.0 for f in self.fractions) or \
                len(set(self.fractions)) != len(self.fractions):
            raise CausalBenchError(f"interventional fractions must be distinct numbers in [0, 1], got "
                                   f"{','.join(map(str, self.fractions))}")
        if not self.seeds or any(s < 0 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise CausalBenchError(f"seeds must be distinct non-negative integers, got {list(self.seeds)}")
        if self.n_test < MIN_SIZE or self.epochs < 0 or self.max_orders < 1:
            raise CausalBenchError("--n-test must be >= 10, --epochs >= 0 and --max-orders >= 1")
        return self


@dataclass(frozen=True)
class ScalingJob:
    """One fit: a method at a size (and width, interventional fraction, domain order) and seed."""

    method: str
    n: int
    seed: int
    width: int | None = None
    fraction: float | None = None
    order: tuple[int, ...] | None = None   # continual: training domains, by index, in the order seen
    kind: str = "curve"                    # "curve" (the scaling sweep) or "path" (path dependence)


# ---------------------------------------------------------------- planning


@lru_cache(maxsize=8)
def _env(env_id: str) -> Any:
    """One environment instance per process (its pilot sample and oracle are built once)."""
    from .env import make

    return make(env_id)


def default_methods(env: Any) -> tuple[str, ...]:
    return tuple(m for m in DEFAULT_METHODS if m != "continual" or len(env.domains) >= 2)


def _not_applicable(env: Any, spec: Any) -> str | None:
    from .methods import make_task

    if spec.protocol == "online":
        return "online methods learn from an interaction budget, not a training set of size N; use `causalbench run`"
    reason = spec.cls.applicable(make_task(env, spec.track, privileged=spec.cls.privileged))
    if reason is None and spec.protocol == "continual" and len(env.domains) < 2:
        reason = "continual training needs at least two training domains"
    return reason


def _has_field(spec: Any, name: str) -> bool:
    return name in {f.name for f in dataclasses.fields(spec.cls.Params)}


def on_width_axis(spec: Any) -> bool:
    """Methods with a `width` hyper-parameter are trained at every width, except privileged references."""
    return _has_field(spec, "width") and not spec.cls.privileged


def on_fraction_axis(spec: Any) -> bool:
    """Static, observational-track, non-privileged methods are trained at every interventional fraction."""
    return spec.protocol == "static" and spec.track == "observational" and not spec.cls.privileged


def plan(config: ScalingConfig) -> tuple[list[ScalingJob], list[dict[str, Any]]]:
    """The jobs of a sweep, and the methods skipped as not applicable (with reasons)."""
    from .methods import method_spec

    env = _env(config.env)
    names = list(config.methods) or list(default_methods(env))
    specs = {name: method_spec(name) for name in names}   # unknown names fail here, in one line
    jobs: list[ScalingJob] = []
    skipped = []
    K = len(env.domains)
    for name, spec in specs.items():
        reason = _not_applicable(env, spec)
        if reason is not None:
            skipped.append({"env_id": config.env, "method": name, "reason": reason})
            continue
        widths = config.widths if on_width_axis(spec) and config.widths else (None,)
        fractions = config.fractions if on_fraction_axis(spec) else (None,)
        order = tuple(range(K)) if spec.protocol == "continual" else None
        for n, w, f, s in itertools.product(config.sizes, widths, fractions, config.seeds):
            jobs.append(ScalingJob(name, int(n), int(s), w, f, order))
        if spec.protocol == "continual" and config.path_dependence:
            orders = list(itertools.permutations(range(K)))[:config.max_orders]
            jobs.extend(ScalingJob(name, config.path_size, int(s), None, None, o, "path")
                        for o in orders for s in config.seeds)
    if not jobs:
        reasons = "; ".join(f"{s['method']}: {s['reason']}" for s in skipped)
        raise CausalBenchError(f"nothing to run on {config.env}: {reasons or 'no methods'}")
    return jobs, skipped


def job_hparams(job: ScalingJob, config: ScalingConfig, n_domains: int) -> dict[str, Any]:
    """Method defaults < registration params < config overrides < width and the epochs rule."""
    from .methods import method_spec

    spec = method_spec(job.method)
    fields = {f.name for f in dataclasses.fields(spec.cls.Params)}
    hp = {**dataclasses.asdict(spec.cls.Params()), **spec.params,
          **{k: v for k, v in config.overrides.items() if k in fields}}
    if job.width is not None:
        hp["width"] = job.width
    if {"steps", "batch_size"} <= fields and "steps" not in config.overrides:
        rows = math.ceil(job.n / n_domains) if spec.protocol == "continual" else job.n
        hp["steps"] = max(int(hp["steps"]), math.ceil(config.epochs * rows / max(int(hp["batch_size"]), 1)))
    return hp


def job_key(job: ScalingJob, config: ScalingConfig, hparams: dict[str, Any]) -> str:
    """Content key: identical inputs <=> identical key (resume skips finished keys)."""
    from . import __version__

    payload = {"study": "scaling", "env": config.env, **dataclasses.asdict(job), "hparams": hparams,
               "n_test": config.n_test, "p": INTERVENTION_P, "path_eval_seed": PATH_EVAL_SEED,
               "version": __version__}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _cost(job: ScalingJob, hparams: dict[str, Any]) -> float:
    """A rough cost estimate, to start the slowest jobs first (better packing on few cores)."""
    width = hparams.get("width", 0) or 0
    steps = hparams.get("steps", 0) or 0
    stages = len(job.order) if job.order else 1
    return stages * steps * (width + 8) ** 2 + job.n


# ---------------------------------------------------------------- one job


def _training_data(env: Any, spec: Any, job: ScalingJob) -> tuple[str, list[tuple[str | None, Any]]]:
    """(track as recorded, [(stage domain, dataset)]) for a job."""
    from .methods import TRACK_DATA

    if job.fraction is not None:
        data = env.dataset("interventional", n=job.n, seed=job.seed, p=INTERVENTION_P, fraction=job.fraction)
        return ("interventional" if job.fraction > 0 else "observational"), [(None, data)]
    data = env.dataset(TRACK_DATA[spec.track], n=job.n, seed=job.seed)
    if spec.protocol == "continual":
        parts = data.by_domain()
        assert job.order is not None
        return spec.track, [(env.domains[k].name, parts[k]) for k in job.order]
    return spec.track, [(None, data)]


def run_scaling_job(job: ScalingJob, config: ScalingConfig, git: str | None = None
                    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Train and score one job; one record per stage, plus OOD predictions for path-dependence jobs."""
    from . import __version__
    from .methods import make_task, method_spec
    from .scoring import score
    from .scoring.score import predict_suite
    from .scoring.suite import get_suite

    env = _env(config.env)
    spec = method_spec(job.method)
    hparams = job_hparams(job, config, len(env.domains))
    method = spec.cls(make_task(env, spec.track, privileged=spec.cls.privileged), spec.cls.Params(**hparams), job.seed)
    single_thread()
    track, stages = _training_data(env, spec, job)
    base = {
        "schema": SCHEMA_VERSION, "study": "scaling", "kind": job.kind, "key": job_key(job, config, hparams),
        "env_id": config.env, "env_version": config.env.rsplit("-", 1)[-1], "scm_hash": env.scm.hash,
        "method": job.method, "track": track, "protocol": spec.protocol, "hparams": hparams, "seed": job.seed,
        "n_train": job.n, "n_test": config.n_test, "n_stages": len(stages), "width": job.width,
        "fraction": job.fraction, "intervention_p": INTERVENTION_P if job.fraction else None,
        "order": [env.domains[k].name for k in job.order] if job.order else None,
        "shift_kinds": {s.test_name(sev): s.kind for s in env.shifts for sev in s.severities},
        "package_version": __version__, "git_hash": git,
    }
    records = []
    for stage, (domain, data) in enumerate(stages):
        start = time.perf_counter()
        method.fit(data)
        fit_seconds = time.perf_counter() - start
        scores = score(method.predict, env, seed=job.seed, n=config.n_test)
        records.append({**base, "stage": stage, "stage_domain": domain, "train_fingerprint": data.fingerprint,
                        "train_kind": data.spec.kind, "train_n": data.n, "fit_seconds": round(fit_seconds, 4),
                        "scores": scores.to_dict(),
                        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})
    predictions = None
    if job.kind == "path":
        suite = get_suite(env, PATH_EVAL_SEED, config.n_test)
        preds = predict_suite(method.predict, suite)
        predictions = {k: preds[k] for k in suite.test_sets if k != "id"}
    return records, predictions


# ---------------------------------------------------------------- storage and executors


def prediction_path(out_dir: Path, key: str) -> Path:
    return out_dir / PREDICTIONS_DIR / f"{key}.npz"


def _save_predictions(path: Path, predictions: dict[str, Any]) -> None:
    """Write atomically (temp file + rename) before the job's records are appended."""
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez(fh, **predictions)
    os.replace(tmp, path)


def _execute(todo: list[ScalingJob], config: ScalingConfig, n_jobs: int, git: str | None, backend: str
             ) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any] | None]]:
    if backend == "ray":
        yield from _execute_ray(todo, config, n_jobs, git)
        return
    yield from parallel_map(run_scaling_job, todo, n_jobs, config, git)


def _execute_ray(todo: list[ScalingJob], config: ScalingConfig, n_jobs: int, git: str | None
                 ) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any] | None]]:
    """The same jobs as Ray tasks: on the cluster in RAY_ADDRESS, else on a local instance with n_jobs CPUs."""
    try:
        import ray
    except ImportError:
        raise CausalBenchError('--backend ray needs Ray: pip install "causalbench-suite[ray]"') from None
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "WARNING"}
        if not os.environ.get("RAY_ADDRESS"):
            kwargs["num_cpus"] = n_jobs
        ray.init(**kwargs)
    try:
        remote = ray.remote(num_cpus=1)(run_scaling_job)
        pending = [remote.remote(job, config, git) for job in todo]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:
        if started:
            ray.shutdown()
