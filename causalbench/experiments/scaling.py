"""The scaling study: does more static data, or a bigger model, cure causal confusion?

`causalbench scaling --env ENV` trains each method at each training-set size N
(and, for methods with a `width` hyper-parameter, at each width; and, for the
static observational learners, at each fraction of interventional units in the
training data), scores every fit with the scorer, and appends one JSON-lines
record per job (and per continual stage) to `results.jsonl` with the runner's
provenance (package version, git hash, env version, scm hash, data
fingerprints, hparams). The study then fits y = a + b (N / N0)^-c to every
curve (`scaling_fit`), writes `scaling.md`, `fits.json` and plots, and, for
continual methods, a path-dependence report (`scaling_report`).

Axes, precisely:
- sizes: rows of training data. MLP methods train for max(their default steps,
  ceil(epochs x rows per fit / batch size)) Adam steps, so large N is not left
  unread (`--epochs`, default 1; rows per fit = N / #domains for continual).
- widths: every selected method whose hyper-parameters have a `width` field,
  except privileged references (the causal oracle runs at its default width).
- interventional fraction f: static methods on the observational track, except
  privileged references (the causal oracle). They train on
  `env.dataset("interventional", n, seed, p=1.0, fraction=f)`: on a fraction f
  of units every observed non-target variable is randomised. f = 0 is the
  observational distribution; fractions are nested (the randomised units at
  f = 0.01 are among those at f = 0.1) and share the rest of the units, so
  curves at different f are paired comparisons. Records say track
  "interventional" when f > 0. Other methods train on their own track's data
  and are drawn in every fraction's panel as references.
- path dependence (`--path-dependence`, default on): every continual-protocol
  method is also trained at `--path-size` rows on every order of the env's
  training domains (at most `--max-orders`) x seeds; its predictions on the
  shifted test sets of one common evaluation suite are saved under
  `predictions/`, and the report gives `seed_disagreement` across seeds, across
  orders and overall, plus the spread of the final spurious reliance.

Jobs run in joblib worker processes (`--jobs`) or on Ray (`--backend ray`, a
local instance, or the cluster in RAY_ADDRESS); records do not depend on either
(one BLAS/torch thread per job). A path-dependence job's predictions are written
(atomically) before its records, so a recorded job always has them. `--resume
DIR` skips finished jobs; on a finished sweep it only rebuilds the report.

Outputs in the folder: results.jsonl, scaling.json (the configuration),
skipped.json, predictions/, and the report (rebuilt from those alone):
scaling.md (fits, per-size means, path dependence), fits.json,
path_dependence.json, plots/scaling.png, plots/ood_by_shift.png,
plots/path_dependence.png.

The default sweep (4 methods, 7 sizes 1e2..1e5, widths 16/64/128, fractions
0/0.1/1, 5 seeds: 570 fits) takes about 4.5 minutes on IceCreamShorts-v0 with
`--jobs 2` on a shared 2-core machine.
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

from ..env.registry import ENVS, make
from ..errors import CausalBenchError
from ..methods import TRACK_DATA, make_task, method_spec
from ..provenance import VERSION, git_hash
from ..scoring import get_suite, score
from ..scoring.score import predict_suite
from .launchers import parallel_map, progress_bar, single_thread
from .results import RESULTS_FILE, SCHEMA_VERSION, append_records, finished_keys, read_records

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
    return make(env_id)


def default_methods(env: Any) -> tuple[str, ...]:
    return tuple(m for m in DEFAULT_METHODS if m != "continual" or len(env.domains) >= 2)


def _not_applicable(env: Any, spec: Any) -> str | None:
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
    payload = {"study": "scaling", "env": config.env, **dataclasses.asdict(job), "hparams": hparams,
               "n_test": config.n_test, "p": INTERVENTION_P, "path_eval_seed": PATH_EVAL_SEED,
               "version": VERSION}
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
        "package_version": VERSION, "git_hash": git,
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


# ---------------------------------------------------------------- the sweep


def default_out_dir(env_id: str) -> Path:
    return Path("results") / f"scaling-{env_id}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run(config: ScalingConfig, out: str | Path | None = None, jobs: int | None = None, backend: str = "joblib",
        resume: bool = False, progress: bool = True) -> Path:
    """Run (or resume) the sweep into `out`; returns the folder. Reports are written by `scaling_report`."""
    config.validate()
    if backend not in ("joblib", "ray"):
        raise CausalBenchError(f"unknown backend {backend!r}; use joblib or ray")
    out_dir = Path(out) if out is not None else default_out_dir(config.env)
    results = out_dir / RESULTS_FILE
    if results.exists() and not resume:
        raise CausalBenchError(f"{results} exists; use --resume {out_dir} to continue it, or another --out")
    todo, skipped = plan(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = out_dir / CONFIG_FILE
    if resume and saved.exists():
        if json.loads(saved.read_text()).get("config") != json.loads(json.dumps(config.to_dict())):
            raise CausalBenchError(f"{out_dir} was started with a different configuration; resume it without options")
    else:
        saved.write_text(json.dumps({"study": "scaling", "config": config.to_dict()}, indent=2))
    (out_dir / "skipped.json").write_text(json.dumps(skipped, indent=2))
    env = _env(config.env)
    keyed = [(job_key(j, config, hp), j, hp) for j in todo for hp in [job_hparams(j, config, len(env.domains))]]
    done = finished_keys(read_records(results)) if results.exists() else set()
    keyed = [(k, j, hp) for k, j, hp in keyed if k not in done]
    keyed.sort(key=lambda item: -_cost(item[1], item[2]))
    n_jobs = max(1, jobs or os.cpu_count() or 1)
    git = git_hash()
    bar = progress_bar(len(keyed), progress, desc=f"causalbench scaling {config.env}", unit="fit")
    try:
        for records, predictions in _execute([j for _, j, _ in keyed], config, n_jobs, git, backend):
            if predictions is not None:
                _save_predictions(prediction_path(out_dir, records[0]["key"]), predictions)
            append_records(results, records)
            bar.update(1)
    finally:
        bar.close()
    return out_dir
