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
from ..methods import method_spec
from ..provenance import VERSION
from .references import REFERENCES

DEFAULT_SUITE = "default"
DEFAULT_SEEDS = (0, 1, 2)
# Evaluation sets are drawn with seed EVAL_SEED_OFFSET + the training seed, in their own stream namespace:
# disjoint from every training seed (training seeds are checked to stay below it).
EVAL_SEED_OFFSET = 1_000_000


def frozen(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """A mapping as sorted (key, value) pairs: hashable, and JSON-stable."""
    return tuple(sorted((str(k), v) for k, v in (mapping or {}).items()))


@dataclass(frozen=True)
class Job:
    """One method trained on one env (instance) with one seed, scored after every stage.

    Axes beyond (env, method, seed) are optional: the training-set size, hyper-parameter overrides,
    a share of units whose observed variables were randomised (`fraction`, with the randomisation
    regime shown to the method as a column when `regime_observed`), the order of the training
    domains (continual methods), env options (hidden instances), and whether the job's predictions
    on the shifted test sets are kept (path dependence, submissions).
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

    @property
    def eval_seed(self) -> int:
        return EVAL_SEED_OFFSET + (self.seed if self.eval_on is None else self.eval_on)

    def key(self) -> str:
        """Content key: identical jobs, resolved hyper-parameters and benchmark version <=> identical key."""
        payload = {**dataclasses.asdict(self), "resolved": self.resolved_hparams(), "version": VERSION}
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
