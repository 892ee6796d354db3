"""The scaling study: does scaling static pretraining, in data or in model size, cure causal confusion?

`causalbench scaling` plans four families of jobs per environment; every point is a `Job` run by
`run_job` (one record per training stage, with provenance and the method's compute):

- scale: static observational data (rho = 0); every model size (width x depth MLP) at every
  training-set size N, except points above the compute cap (parameters x N).
- mixture: a share rho of training units are natural experiments (every observed variable of
  the unit randomised: see each env's "Natural experiments" section), pooled with observational
  units, at every N, for the mixture model. The randomisation regime is `unobserved` (pooled
  rows, as in web data) or `observed` (a 0/1 regime column; the model is then asked about the
  randomised regime, regime 1: its interventional prediction). `observed@0` (optional) asks it
  about regime 0, what an i.i.d. test unit is. The rho = 0 curve is the scale axis's.
- finetune: the fine-tuning model pretrained on `pretrain` static rows, then fine-tuned on a
  growing interventional budget B_1 < B_2 < ... (stage k trains, continuing from stage k-1, on
  all B_k rows drawn so far: one stream of fully randomised units, independent of the static
  rows); against the same model trained from scratch on each B_k (the same rows).
- path: the fine-tuning runs again with other data orders (`shuffle_seed`) and with the two
  stages in the other order (interventional first, then static). Fine-tuning, scratch and path
  jobs are all scored on one common evaluation suite (index `PATH_EVAL_INDEX`) and keep their
  predictions on the shifted test sets, so path dependence is the scorer's `seed_disagreement`
  across seeds and across data orders.

Plus the exact references (`bayes-train`, `causal-reference`, `null`) on every evaluation suite.
Evaluation suites use seed EVAL_SEED_OFFSET + the training seed (disjoint from training data);
`shared_eval` puts every job on suite PATH_EVAL_INDEX (cheaper; intervals then omit the test
sample's variation). Outputs: results.jsonl, scaling.json (this configuration), predictions/,
and the report of `reports.scaling` (rebuilt from those alone).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..env.registry import ENVS, make, suite
from ..errors import CausalBenchError
from ..methods import method_set, method_spec
from .config import EVAL_SEED_OFFSET, DataStage, Job, frozen
from .job import JobResult
from .references import REFERENCES
from .sweep import default_out_dir, execute

CONFIG_FILE = "scaling.json"
PREDICTIONS_DIR = "predictions"
STUDY = "scaling"
SCALING_SUITE = "scaling"
SCALING_METHOD_SET = "scaling"   # registered beside the baselines (baselines/__init__.py): the model trained
DEFAULT_SIZES = (100, 300, 1000, 3000, 10_000, 30_000, 100_000)
DEFAULT_MODELS = ("1e3@1", "1e4@2", "1e5@3", "1e6@3")
DEFAULT_MIXTURES = (0.0, 1e-3, 1e-2, 1e-1)
DEFAULT_BUDGETS = (100, 300, 1000, 3000)
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
MIN_SIZE = 10
MIN_FIT_SIZES = 4          # a curve needs at least 4 sizes for the 3-parameter fit (one residual dof)
PATH_EVAL_INDEX = 0        # the common evaluation suite of fine-tuning, scratch and path jobs
FINETUNE_SEED_OFFSET = 500_000   # fine-tuning rows: env.dataset("interventional", B, seed + this, fraction=1)
PATH_SHUFFLES = (1001, 1002)     # extra data orders (shuffle_seed) of the path-dependence runs


@dataclass(frozen=True)
class Regime:
    """How natural-experiment units appear in the training data, and which regime the model is asked about."""

    name: str
    observed: bool
    query: int
    summary: str


REGIMES = {r.name: r for r in (
    Regime("unobserved", False, 0, "pooled rows: the model cannot tell randomised units from the rest"),
    Regime("observed", True, 1, "a 0/1 regime column; predictions ask about the randomised regime (1)"),
    Regime("observed@0", True, 0, "a 0/1 regime column; predictions ask about regime 0, like an i.i.d. test unit"),
)}


def mlp_parameters(d_in: int, width: int, depth: int) -> int:
    """Weights and biases of a d_in -> width^depth -> 1 MLP."""
    sizes = [d_in] + [width] * depth + [1]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


@dataclass(frozen=True)
class ModelSize:
    """An MLP size: "64x2" (2 hidden layers of 64 units), or "1e4@2" (depth 2, the width whose parameter
    count on the env's inputs is closest to 1e4: the same budget on a 24- and a 512-input env)."""

    spec: str
    width: int = 0           # fixed width (WxD), or 0 for a parameter target
    depth: int = 1
    target: float = 0.0      # parameter target (P@D)

    @classmethod
    def parse(cls, text: str) -> "ModelSize":
        t = str(text).strip().lower()
        try:
            if "@" in t:
                p, d = t.split("@")
                out = cls(t, 0, int(d), float(p))
            else:
                w, d = t.split("x")
                out = cls(t, int(w), int(d), 0.0)
        except ValueError:
            raise CausalBenchError(f"model size {text!r} must look like WIDTHxDEPTH (64x2) or PARAMS@DEPTH "
                                   "(1e4@2)") from None
        if out.depth < 1 or (out.width < 1 and out.target < 1):
            raise CausalBenchError(f"model size {text!r}: width, depth and parameters must be at least 1")
        return out

    def resolve(self, d_in: int) -> tuple[int, int]:
        """(width, depth) on an env with d_in inputs."""
        if self.width:
            return self.width, self.depth
        widths = np.arange(1, 1 << 14)
        counts = np.array([mlp_parameters(d_in, int(w), self.depth) for w in widths], dtype=float)
        return int(widths[int(np.argmin(np.abs(np.log(counts / self.target))))]), self.depth

    def parameters(self, d_in: int) -> int:
        return mlp_parameters(d_in, *self.resolve(d_in))


@dataclass(frozen=True)
class ScalingConfig:
    """What `causalbench scaling` runs; saved in scaling.json (what a job depends on is in its key and record)."""

    envs: tuple[str, ...] = ()                  # empty = the registered "scaling" suite
    method: str = field(default_factory=lambda: method_set(SCALING_METHOD_SET)[0])   # the registered set's model
    sizes: tuple[int, ...] = DEFAULT_SIZES
    models: tuple[str, ...] = DEFAULT_MODELS     # WIDTHxDEPTH or PARAMS@DEPTH
    mixtures: tuple[float, ...] = DEFAULT_MIXTURES
    regimes: tuple[str, ...] = ("unobserved", "observed")
    mixture_model: str = ""                     # "" = the second-largest model
    pretrain: int = 0                           # static rows before fine-tuning; 0 = the largest size run
    budgets: tuple[int, ...] = DEFAULT_BUDGETS  # cumulative interventional fine-tuning budgets; () = no fine-tuning
    path_dependence: bool = True
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    n_test: int = 1000
    compute_cap: float = 0.0                    # skip (model, N) with parameters x N above it; 0 = no cap
    shared_eval: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)   # method hyper-parameters (e.g. device, lr)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScalingConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    @classmethod
    def quick(cls, **kwargs: Any) -> "ScalingConfig":
        """`--quick`: both scaling envs, 4 sizes (so fits exist), 2 small models (the larger one on the mixture and
        fine-tuning axes), rho in {0, 0.1}, 2 seeds, one shared test suite, at most 400 updates with patience 3."""
        base = dict(sizes=(100, 300, 1000, 3000), models=("1e3@1", "1e4@2"), mixture_model="1e4@2",
                    mixtures=(0.0, 0.1), budgets=(100, 1000), seeds=(0, 1), n_test=300, shared_eval=True,
                    overrides={"max_updates": 400, "patience": 3})
        return cls(**{**base, **kwargs})

    @property
    def env_ids(self) -> tuple[str, ...]:
        return self.envs or suite(SCALING_SUITE)

    @property
    def model_sizes(self) -> tuple[ModelSize, ...]:
        return tuple(ModelSize.parse(m) for m in self.models)

    @property
    def mixing_model(self) -> ModelSize:
        if self.mixture_model:
            return ModelSize.parse(self.mixture_model)
        models = sorted(self.model_sizes, key=lambda m: m.parameters(64))
        return models[max(len(models) - 2, 0)]

    def validate(self) -> "ScalingConfig":
        """Raise a one-line CausalBenchError for anything that cannot run."""
        for env_id in self.env_ids:
            ENVS.entry(env_id)
        spec = method_spec(self.method)
        fields = {f.name for f in dataclasses.fields(spec.cls.Params)}
        if not {"width", "depth"} <= fields:
            raise CausalBenchError(f"--method {self.method}: the study needs a method with width and depth "
                                   "hyper-parameters (e.g. scaled-mlp)")
        for name, values in (("--sizes", self.sizes), ("--models", self.models), ("--mixtures", self.mixtures),
                             ("--budgets", self.budgets), ("--regimes", self.regimes)):
            if len(set(values)) != len(values):
                raise CausalBenchError(f"{name} has duplicates: {','.join(map(str, values))}")
        if not self.sizes or any(n < MIN_SIZE for n in self.sizes) or not self.models:
            raise CausalBenchError(f"--sizes and --models must be non-empty and sizes at least {MIN_SIZE} rows")
        self.model_sizes, self.mixing_model  # noqa: B018  (parse errors surface here)
        if any(not 0.0 <= r <= 1.0 for r in self.mixtures):
            raise CausalBenchError(f"--mixtures must lie in [0, 1], got {','.join(map(str, self.mixtures))}")
        unknown = [r for r in self.regimes if r not in REGIMES]
        if unknown or not self.regimes:
            raise CausalBenchError(f"--regimes: unknown {unknown or 'empty'}; regimes: {', '.join(REGIMES)}")
        if any(b < MIN_SIZE for b in self.budgets) or list(self.budgets) != sorted(self.budgets):
            raise CausalBenchError(f"--budgets must be increasing and at least {MIN_SIZE} rows each")
        if self.budgets and not spec.cls.warm_start:
            raise CausalBenchError(f"--method {self.method} cannot be fine-tuned (no warm start); use --budgets ''")
        if not self.seeds or any(not 0 <= s < FINETUNE_SEED_OFFSET for s in self.seeds) \
                or len(set(self.seeds)) != len(self.seeds):
            raise CausalBenchError(f"seeds must be distinct integers in [0, {FINETUNE_SEED_OFFSET}), "
                                   f"got {list(self.seeds)}")
        if self.n_test < MIN_SIZE or self.pretrain < 0 or self.compute_cap < 0:
            raise CausalBenchError(f"--n-test must be >= {MIN_SIZE}, --pretrain and --compute-cap >= 0")
        unknown_hp = sorted(set(self.overrides) - fields)
        if unknown_hp:
            raise CausalBenchError(f"{self.method} has no hyper-parameter(s) {unknown_hp}")
        return self


@lru_cache(maxsize=8)
def _feature_count(env_id: str) -> int:
    return len(make(env_id).feature_names)


def _hp(config: ScalingConfig, env_id: str, model: ModelSize, **extra: Any) -> tuple[tuple[str, Any], ...]:
    """The job's hyper-parameters: overrides, then the model's width and depth on this env's inputs."""
    width, depth = model.resolve(_feature_count(env_id))
    return frozen({**config.overrides, "width": width, "depth": depth, **extra})


def _in_cap(config: ScalingConfig, env_id: str, model: ModelSize, n: int) -> bool:
    return not config.compute_cap or model.parameters(_feature_count(env_id)) * n <= config.compute_cap


def plan(config: ScalingConfig) -> list[Job]:
    """Every job of the sweep (duplicates removed by key), in a fixed order."""
    config.validate()
    jobs: list[Job] = []
    shared = PATH_EVAL_INDEX if config.shared_eval else None
    for env_id in config.env_ids:
        base = dict(n_test=config.n_test, study=STUDY, eval_on=shared)
        for model, n, s in itertools.product(config.model_sizes, config.sizes, config.seeds):
            if _in_cap(config, env_id, model, n):
                jobs.append(Job(env_id, config.method, s, n_train=n, hparams=_hp(config, env_id, model), fraction=0.0,
                                **base))
        mm = config.mixing_model
        for rho, name, n, s in itertools.product(config.mixtures, config.regimes, config.sizes, config.seeds):
            regime = REGIMES[name]
            if rho == 0 and regime.observed:
                continue          # no randomised unit: the regime column is constant; rho = 0 is the scale axis
            if _in_cap(config, env_id, mm, n):
                jobs.append(Job(env_id, config.method, s, n_train=n, hparams=_hp(config, env_id, mm), fraction=rho,
                                regime_observed=regime.observed, regime_query=regime.query, **base))
        jobs += _finetune_jobs(config, env_id)
        eval_seeds = {PATH_EVAL_INDEX} | (set() if config.shared_eval else set(config.seeds))
        jobs += [Job(env_id, ref, s, n_test=config.n_test, study=STUDY) for ref in REFERENCES.names()
                 for s in sorted(eval_seeds)]
    return list({j.key(): j for j in jobs}.values())


def pretrain_rows(config: ScalingConfig) -> int:
    return config.pretrain or max(config.sizes)


def _finetune_jobs(config: ScalingConfig, env_id: str) -> list[Job]:
    """Pretrained-then-fine-tuned and scratch runs on the common suite; path-dependence variants."""
    if not config.budgets:
        return []
    model, n_pre = config.mixing_model, pretrain_rows(config)
    static = DataStage("interventional", n_pre, 0.0, 0)   # fraction 0: the scale axis's rows at N = n_pre
    tune = tuple(DataStage("interventional", b, 1.0, FINETUNE_SEED_OFFSET) for b in config.budgets)
    common = dict(n_test=config.n_test, study=STUDY, eval_on=PATH_EVAL_INDEX, keep_predictions=True)
    jobs = []
    for s in config.seeds:
        jobs.append(Job(env_id, config.method, s, n_train=n_pre, hparams=_hp(config, env_id, model), stages=(static, *tune),
                        **common))
        jobs += [Job(env_id, config.method, s, n_train=t.n, hparams=_hp(config, env_id, model), stages=(t,),
                     **{**common, "keep_predictions": False}) for t in tune]
    fields = {f.name for f in dataclasses.fields(method_spec(config.method).cls.Params)}
    if config.path_dependence:
        for s in config.seeds[:3]:
            if "shuffle_seed" in fields:
                jobs += [Job(env_id, config.method, s, n_train=n_pre, hparams=_hp(config, env_id, model, shuffle_seed=k),
                             stages=(static, *tune), **common) for k in PATH_SHUFFLES]
            jobs.append(Job(env_id, config.method, s, n_train=n_pre, hparams=_hp(config, env_id, model),
                            stages=(tune[-1], static), **common))
    return jobs


def prediction_path(out_dir: Path, key: str) -> Path:
    return Path(out_dir) / PREDICTIONS_DIR / f"{key}.npz"


def _save_predictions(result: JobResult, out_dir: Path) -> None:
    """Fine-tuning jobs: final predictions on the shifted test sets (float32), written before their records."""
    if result.predictions is None:
        return
    path = prediction_path(out_dir, result.records[0]["key"])
    path.parent.mkdir(parents=True, exist_ok=True)
    shifted = {k: np.asarray(v, dtype=np.float32) for k, v in result.predictions.items() if "@" in k and ":" not in k}
    tmp = path.with_suffix(".tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **shifted)
    os.replace(tmp, path)


def run(config: ScalingConfig, out: str | Path | None = None, jobs: int | None = None, backend: str = "joblib",
        resume: bool = False, progress: bool = True, max_jobs: int | None = None) -> Path:
    """Run (or resume) the sweep into `out`; returns the folder. Reports are written by `reports.scaling`."""
    todo = plan(config)
    out_dir = Path(out) if out is not None else default_out_dir("scaling-")
    return execute(todo, out_dir, config.to_dict(), resume=resume, backend=backend, n_jobs=jobs, progress=progress,
                   desc="causalbench scaling", config_file=CONFIG_FILE, max_jobs=max_jobs, on_result=_save_predictions)


__all__ = ["ScalingConfig", "ModelSize", "Regime", "REGIMES", "plan", "run", "prediction_path", "pretrain_rows",
           "EVAL_SEED_OFFSET"]
