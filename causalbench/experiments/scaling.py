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
  except privileged references (erm-causal-features runs at its default width).
- interventional fraction f: static methods on the observational track, except
  privileged methods (erm-causal-features). They train on
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
import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..env.registry import ENVS, make
from ..errors import CausalBenchError
from ..methods import method_set, method_spec
from .config import Job, frozen
from .job import JobResult
from .applicable import not_applicable
from .sweep import default_out_dir, execute

CONFIG_FILE = "scaling.json"
PREDICTIONS_DIR = "predictions"
SCALING_METHOD_SET = "scaling"   # registered beside the baselines (baselines/__init__.py)
DEFAULT_SIZES = (100, 300, 1000, 3000, 10_000, 30_000, 100_000)
DEFAULT_WIDTHS = (16, 64, 128)
DEFAULT_FRACTIONS = (0.0, 0.1, 1.0)
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
MIN_SIZE = 10
PATH_EVAL_INDEX = 0        # every path-dependence run predicts on the same evaluation suite


@dataclass(frozen=True)
class ScalingConfig:
    """What `causalbench scaling` runs; saved in scaling.json (what a job depends on is in its key and record)."""

    env: str
    methods: tuple[str, ...] = ()          # empty = the registered "scaling" method set, where it applies
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


@lru_cache(maxsize=8)
def _env(env_id: str) -> Any:
    """One environment instance per process (its pilot sample and truth are built once)."""
    return make(env_id)


def default_methods(env: Any) -> tuple[str, ...]:
    """The registered scaling method set, minus continual methods on single-domain envs."""
    return tuple(m for m in method_set(SCALING_METHOD_SET)
                 if method_spec(m).protocol != "continual" or len(env.domains) >= 2)


def _not_applicable(env: Any, spec: Any) -> str | None:
    if spec.protocol == "online":
        return "online methods learn from an interaction budget, not a training set of size N; use `causalbench run`"
    return not_applicable(env, spec.name)


def _has_field(spec: Any, name: str) -> bool:
    return name in {f.name for f in dataclasses.fields(spec.cls.Params)}


def on_width_axis(spec: Any) -> bool:
    """Methods with a `width` hyper-parameter are trained at every width, except privileged references."""
    return _has_field(spec, "width") and not spec.cls.privileged


def on_fraction_axis(spec: Any) -> bool:
    """Static, observational-track, non-privileged methods are trained at every interventional fraction."""
    return spec.protocol == "static" and spec.track == "observational" and not spec.cls.privileged


def plan(config: ScalingConfig) -> tuple[list[Job], list[dict[str, Any]]]:
    """The jobs of a sweep, and the methods skipped as not applicable (with reasons)."""
    env = _env(config.env)
    names = list(config.methods) or list(default_methods(env))
    specs = {name: method_spec(name) for name in names}   # unknown names fail here, in one line
    jobs: list[Job] = []
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
            jobs.append(_job(config, spec, K, int(n), int(s), w, f, order, "scaling"))
        if spec.protocol == "continual" and config.path_dependence:
            orders = list(itertools.permutations(range(K)))[:config.max_orders]
            jobs.extend(_job(config, spec, K, config.path_size, int(s), None, None, o, "scaling-path")
                        for o in orders for s in config.seeds)
    if not jobs:
        reasons = "; ".join(f"{s['method']}: {s['reason']}" for s in skipped)
        raise CausalBenchError(f"nothing to run on {config.env}: {reasons or 'no methods'}")
    return jobs, skipped


def _job(config: ScalingConfig, spec: Any, n_domains: int, n: int, seed: int, width: int | None,
         fraction: float | None, order: tuple[int, ...] | None, study: str) -> Job:
    """A sweep point as a Job: config overrides < the width axis < the epochs rule (MLP step budgets)."""
    fields = {f.name for f in dataclasses.fields(spec.cls.Params)}
    hp = {k: v for k, v in config.overrides.items() if k in fields}
    if width is not None:
        hp["width"] = width
    if {"steps", "batch_size"} <= fields and "steps" not in config.overrides:
        defaults = {**dataclasses.asdict(spec.cls.Params()), **spec.params, **hp}
        rows = math.ceil(n / n_domains) if spec.protocol == "continual" else n
        hp["steps"] = max(int(defaults["steps"]), math.ceil(config.epochs * rows / max(int(defaults["batch_size"]), 1)))
    return Job(config.env, spec.name, seed, n_train=n, n_test=config.n_test, hparams=frozen(hp), fraction=fraction,
               order=order, study=study, keep_predictions=study == "scaling-path",
               eval_on=PATH_EVAL_INDEX if study == "scaling-path" else None)


def prediction_path(out_dir: Path, key: str) -> Path:
    return Path(out_dir) / PREDICTIONS_DIR / f"{key}.npz"


def _save_predictions(result: JobResult, out_dir: Path) -> None:
    """Path-dependence jobs: their predictions on the shifted test sets, written atomically before their records."""
    if result.predictions is None:
        return
    import os

    first = result.records[0]
    path = prediction_path(out_dir, first["key"])
    path.parent.mkdir(parents=True, exist_ok=True)
    shifted = {k: v for k, v in result.predictions.items() if "@" in k and ":" not in k}
    tmp = path.with_suffix(".tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez(fh, **shifted)
    os.replace(tmp, path)


def run(config: ScalingConfig, out: str | Path | None = None, jobs: int | None = None, backend: str = "joblib",
        resume: bool = False, progress: bool = True, max_jobs: int | None = None) -> Path:
    """Run (or resume) the sweep into `out`; returns the folder. Reports are written by `reports.scaling`."""
    config.validate()
    todo, skipped = plan(config)
    out_dir = Path(out) if out is not None else default_out_dir(f"scaling-{config.env}-")
    return execute(todo, out_dir, config.to_dict(), resume=resume, skipped=skipped, backend=backend, n_jobs=jobs,
                   progress=progress, desc=f"causalbench scaling {config.env}", config_file=CONFIG_FILE,
                   max_jobs=max_jobs, on_result=_save_predictions)
