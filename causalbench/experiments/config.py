"""What sweeps run: `Job` (one trained-and-scored unit of work, with every axis it varies on) and `RunConfig`.

A job is a pure description: its content key (sha256 of its fields and the benchmark version)
names it in the records, so a resumed sweep skips exactly what is done. `run`, `scaling` and
`evaluate` differ only in how they plan jobs; every job runs through `job.run_job`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..env.registry import suite
from ..errors import CausalBenchError
from ..methods import method_spec
from ..provenance import VERSION
from .references import REFERENCES

DEFAULT_SUITE = "default"
DEFAULT_SEEDS = (0, 1, 2)
# Evaluation sets are drawn with seed EVAL_SEED_OFFSET + the training seed, in their own stream namespace:
# disjoint from every training seed (training seeds are checked to stay below it).
EVAL_SEED_OFFSET = 1_000_000
STAGE_KINDS = ("observational", "interventional")
# Job fields added after schema 2's first records: they enter a job's key only when set, so the keys
# of existing records (and resumable folders) do not change.
LATE_FIELDS = {"stages": (), "regime_query": 0}


def frozen(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """A mapping as sorted (key, value) pairs: hashable, and JSON-stable."""
    return tuple(sorted((str(k), v) for k, v in (mapping or {}).items()))


@dataclass(frozen=True)
class DataStage:
    """One training stage of a staged job: `n` rows of a dataset kind, fitted after the previous stage's.

    "interventional" rows come from `env.dataset("interventional", n, seed + seed_offset, p=1,
    fraction=fraction)` (a `fraction` of units with every observed variable randomised),
    "observational" rows from `env.dataset("observational", n, seed + seed_offset)`. Stages of one
    job that must not share units take different `seed_offset`s; the same (kind, fraction,
    offset) at a larger n extends the same units (a growing buffer).
    """

    kind: str
    n: int
    fraction: float = 1.0
    seed_offset: int = 0

    def __post_init__(self) -> None:
        if self.kind not in STAGE_KINDS:
            raise CausalBenchError(f"stage kind must be one of {', '.join(STAGE_KINDS)}, got {self.kind!r}")
        if self.n < 1 or not 0.0 <= self.fraction <= 1.0 or self.seed_offset < 0:
            raise CausalBenchError(f"a stage needs n >= 1, fraction in [0, 1] and seed_offset >= 0, got {self}")

    @property
    def label(self) -> str:
        """e.g. "observational:10000" or "interventional:300@0.1"."""
        return f"{self.kind}:{self.n}" + (f"@{self.fraction:g}" if self.kind == "interventional" else "")


@dataclass(frozen=True)
class Job:
    """One method trained on one env (instance) with one seed, scored after every stage.

    Axes beyond (env, method, seed) are optional: the training-set size, hyper-parameter overrides,
    a share of units whose observed variables were randomised (`fraction`, with the randomisation
    regime shown to the method as a column when `regime_observed`), the order of the training
    domains (continual methods), env options (hidden instances), and whether the job's predictions
    on the shifted test sets are kept (path dependence, submissions).

    `stages` (fine-tuning): train on each `DataStage` in turn, continuing from the previous one
    (the method must declare `warm_start`), scored after every stage; it replaces `n_train` and
    `fraction` as the description of the training data. `regime_query`: with `regime_observed`, the
    regime value fed with every evaluation input (0: as observed, test units were not randomised;
    1: ask the model about the randomised regime, i.e. for interventional predictions).
    """

    env_id: str
    method: str
    seed: int
    n_train: int = 5000
    n_test: int = 2000
    budget: int = 20_000
    num_envs: int = 256
    hparams: tuple[tuple[str, Any], ...] = ()
    fraction: float | None = None
    regime_observed: bool = False
    order: tuple[int, ...] | None = None
    env_options: tuple[tuple[str, Any], ...] = ()
    study: str = "run"
    keep_predictions: bool = False
    eval_on: int | None = None    # the evaluation suite's index (default: the training seed; shared = comparable)
    hparams_source: str = "defaults"   # "defaults", or the tuned table the hparams came from (see tuning.py)
    stages: tuple[DataStage, ...] = ()
    regime_query: int = 0

    @property
    def eval_seed(self) -> int:
        return EVAL_SEED_OFFSET + (self.seed if self.eval_on is None else self.eval_on)

    def key(self) -> str:
        """Content key: identical jobs, resolved hyper-parameters and benchmark version <=> identical key."""
        fields = {k: v for k, v in dataclasses.asdict(self).items()
                  if k not in LATE_FIELDS or getattr(self, k) != LATE_FIELDS[k]}
        payload = {**fields, "resolved": self.resolved_hparams(), "version": VERSION}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def resolved_hparams(self) -> dict[str, Any]:
        """Method defaults < registration params < this job's overrides (only fields the method has)."""
        if self.method in REFERENCES:
            return {}
        spec = method_spec(self.method)
        fields = {f.name for f in dataclasses.fields(spec.cls.Params)}
        return {**dataclasses.asdict(spec.cls.Params()), **spec.params,
                **{k: v for k, v in self.hparams if k in fields}}


@dataclass(frozen=True)
class RunConfig:
    """What `causalbench run` runs; recorded in config.json and, per job, in every record."""

    envs: tuple[str, ...] = ()             # empty = the registered "default" suite
    methods: tuple[str, ...] = ()          # empty = every registered method that applies
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    tracks: tuple[str, ...] = ()           # empty = every track
    n_train: int = 5000
    n_test: int = 2000
    budget: int = 20_000                   # online protocol: environment steps
    num_envs: int = 256                    # online protocol: vector env width
    overrides: dict[str, Any] = field(default_factory=dict)  # hyper-parameter overrides where a field exists
    references: bool = True                # also score the exact references (reference rows, never ranked)
    tuning: str | None = "built-in"        # tuned hyper-parameter table (experiments/tuning.py); None = defaults

    @classmethod
    def quick(cls, **kwargs: Any) -> "RunConfig":
        """A small, fast configuration for smoke tests (`--quick`)."""
        base = dict(seeds=(0,), n_train=400, n_test=400, budget=2000, num_envs=64, overrides={"steps": 60})
        return cls(**{**base, **kwargs})

    def resolved(self) -> "RunConfig":
        """The same configuration with the default suite's env ids filled in (what config.json records)."""
        return self if self.envs else dataclasses.replace(self, envs=suite(DEFAULT_SUITE))

    def job(self, env_id: str, method: str, seed: int, tuned: Mapping[str, Any] | None = None,
            source: str = "defaults") -> Job:
        """A run job: tuned hyper-parameters (if any; {} = selection kept the defaults) under the overrides."""
        return Job(env_id, method, seed, n_train=self.n_train, n_test=self.n_test, budget=self.budget,
                   num_envs=self.num_envs, hparams=frozen({**(tuned or {}), **self.overrides}),
                   hparams_source=source if tuned is not None else "defaults")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
