"""What a sweep runs: `RunConfig` (recorded in config.json and in every record) and `Job` (one env x method x seed)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..env.registry import suite
from ..methods import method_spec
from ..provenance import VERSION

DEFAULT_SUITE = "default"
DEFAULT_SEEDS = (0, 1, 2)


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

    @classmethod
    def quick(cls, **kwargs: Any) -> "RunConfig":
        """A small, fast configuration for smoke tests (`--quick`)."""
        base = dict(seeds=(0,), n_train=400, n_test=400, budget=2000, num_envs=64, overrides={"steps": 60})
        return cls(**{**base, **kwargs})

    def resolved(self) -> "RunConfig":
        """The same configuration with the default suite's env ids filled in (what config.json records)."""
        return self if self.envs else dataclasses.replace(self, envs=suite(DEFAULT_SUITE))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class Job:
    """One (env, method, seed) of a sweep."""

    env_id: str
    method: str
    seed: int

    def key(self, config: RunConfig, hparams: dict[str, Any]) -> str:
        """Content key of a job: identical inputs <=> identical key (resume skips finished keys)."""
        payload = {"env": self.env_id, "method": self.method, "seed": self.seed, "hparams": hparams,
                   "n_train": config.n_train, "n_test": config.n_test, "budget": config.budget,
                   "num_envs": config.num_envs, "version": VERSION}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def job_hparams(job: Job, config: RunConfig) -> dict[str, Any]:
    """Method defaults < registration params < config overrides (where the method has the field)."""
    spec = method_spec(job.method)
    fields = {f.name for f in dataclasses.fields(spec.cls.Params)}
    return {**dataclasses.asdict(spec.cls.Params()), **spec.params,
            **{k: v for k, v in config.overrides.items() if k in fields}}
