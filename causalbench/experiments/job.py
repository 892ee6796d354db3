"""One job: train a method on its track's data with its protocol, and score it after every stage.

`train_stages` is the training half (used to predict for submissions); `run_job` trains and
scores and returns one JSON-able record per stage. Runs in a worker process.
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any, Iterator

from ..env.registry import make
from ..methods import TRACK_DATA, make_task, method_spec
from ..provenance import VERSION
from ..scoring import score
from .config import Job, RunConfig, job_hparams
from .launchers import single_thread
from .results import SCHEMA_VERSION


def train_stages(job: Job, config: RunConfig) -> tuple[Any, list[str | None], Iterator[dict[str, Any]]]:
    """(method, stage domains, iterator): each step trains one more stage and yields its train info.

    The method is trained in place; after the iterator is exhausted it is fully trained. `run_job`
    scores it after every stage; leaderboard evaluation predicts with the final one.
    """
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
                method.interact(online_env(env, config, job.seed), config.budget)
                info = {"budget": config.budget, "num_envs": config.num_envs}
            else:
                method.fit(data)
                info = {"train_fingerprint": data.fingerprint, "train_kind": data.spec.kind, "train_n": data.n}
            yield {"stage_domain": domain, **info, "fit_seconds": round(time.perf_counter() - start, 4)}

    return method, [d for d, _ in stages], steps()


def run_job(job: Job, config: RunConfig, git: str | None = None) -> list[dict[str, Any]]:
    """Train and score one (env, method, seed); one record per stage."""
    env = make(job.env_id)
    spec = method_spec(job.method)
    hparams = job_hparams(job, config)
    method, domains, steps = train_stages(job, config)
    base = {
        "schema": SCHEMA_VERSION, "key": job.key(config, hparams), "env_id": job.env_id,
        "env_version": job.env_id.rsplit("-", 1)[-1], "scm_hash": env.scm.hash, "method": job.method,
        "track": spec.track, "protocol": spec.protocol, "hparams": hparams, "seed": job.seed,
        "n_train": config.n_train, "n_test": config.n_test, "n_stages": len(domains),
        "package_version": VERSION, "git_hash": git,
    }
    records = []
    for stage, info in enumerate(steps):
        scores = score(method.predict, env, seed=job.seed, n=config.n_test)
        records.append({**base, "stage": stage, **info, "scores": scores.to_dict(),
                        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})
    return records


def online_env(env: Any, config: RunConfig, seed: int) -> Any:
    """The environment an online method learns in, already reset with the job's seed: the native
    vector env of a decision task, else the multi-step gymnasium env."""
    if env.action is not None:
        from ..env.gym import CausalDecisionVectorEnv

        venv = CausalDecisionVectorEnv(env.id, num_envs=config.num_envs)
        venv.reset(seed=seed)
        return venv
    import gymnasium as gym

    from ..env.gym_registration import NAMESPACE

    genv = gym.make(f"{NAMESPACE}/{env.id}").unwrapped
    genv.reset(seed=seed)
    genv.action_space.seed(seed)
    return genv
