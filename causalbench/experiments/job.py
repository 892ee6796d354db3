"""One job, the only place a method is trained and scored: `run`, `scaling` and `evaluate` all call `run_job`.

A job (1) builds the env and the evaluation suite, (2) trains the method stage by stage on its
track's data with its protocol (an *executor* does this: in this process by default, or in an
isolated worker that receives only arrays), (3) scores the predictions after every stage with
the scorer, and returns one JSON-able record per stage (plus, if asked, the predictions).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator

import numpy as np

from ..data import Dataset
from ..env.registry import make
from ..errors import CausalBenchError
from ..methods import TRACK_DATA, MethodSpec, make_task, method_spec
from ..provenance import VERSION
from ..scoring import get_suite, score_predictions
from ..scoring.score import predict_suite
from .config import EVAL_SEED_OFFSET, DataStage, Job
from .launchers import single_thread
from .references import REFERENCE_TRACK, REFERENCES
from .results import SCHEMA_VERSION

INTERVENTION_P = 1.0   # a randomised unit (the `fraction` axis) has every observed non-target variable randomised
Stage = tuple[str | None, Dataset | None]
# executor(spec, task, hparams, job, stages, suite, env) -> per stage: (train info, predictions on every suite input)
Executor = Callable[..., Iterator[tuple[dict[str, Any], dict[str, np.ndarray]]]]


@dataclass(frozen=True)
class JobResult:
    """What a job returns: one record per stage, and the final stage's predictions on every suite input if kept."""

    records: list[dict[str, Any]]
    predictions: dict[str, np.ndarray] | None = None


def stage_dataset(env: Any, job: Job, stage: DataStage) -> Dataset:
    """The rows of one `DataStage` of a staged job."""
    seed = job.seed + stage.seed_offset
    if seed >= EVAL_SEED_OFFSET:
        raise CausalBenchError(f"training seed {job.seed} + stage seed offset {stage.seed_offset} reaches the "
                               f"evaluation seeds ({EVAL_SEED_OFFSET} and above)")
    if stage.kind == "observational":
        return env.dataset("observational", n=stage.n, seed=seed)
    return env.dataset("interventional", n=stage.n, seed=seed, p=INTERVENTION_P, fraction=stage.fraction)


def training_stages(env: Any, spec: MethodSpec, job: Job) -> tuple[str, list[Stage]]:
    """(track as recorded, [(stage domain, dataset)]): what the method trains on, stage by stage."""
    if spec.protocol == "online":
        return spec.track, [(None, None)]
    if job.stages:
        if len(job.stages) > 1 and not spec.cls.warm_start:
            raise CausalBenchError(f"{job.method} cannot be fine-tuned in stages: its fit() does not continue "
                                   "from a fitted state (Method.warm_start)")
        randomised = any(s.kind == "interventional" and s.fraction > 0 for s in job.stages)
        return ("interventional" if randomised else spec.track), [(s.label, stage_dataset(env, job, s))
                                                                  for s in job.stages]
    if job.fraction is not None:
        data = env.dataset("interventional", n=job.n_train, seed=job.seed, p=INTERVENTION_P, fraction=job.fraction)
        return ("interventional" if job.fraction > 0 else spec.track), [(None, data)]
    data = env.dataset(TRACK_DATA[spec.track], n=job.n_train, seed=job.seed)
    if spec.protocol == "continual":
        parts = data.by_domain()
        order = job.order if job.order is not None else tuple(range(len(parts)))
        return spec.track, [(env.domains[k].name, parts[k]) for k in order]
    return spec.track, [(None, data)]


def online_env(env: Any, job: Job) -> Any:
    """The environment an online method learns in, already reset with the job's seed: the native
    vector env of a decision task, else the multi-step gymnasium task."""
    if env.episodic:
        genv = env.gym_env("id")
        genv.reset(seed=job.seed)
        genv.action_space.seed(job.seed)
        return genv
    from ..env.gym import CausalDecisionVectorEnv

    venv = CausalDecisionVectorEnv(env.id, num_envs=job.num_envs, **dict(job.env_options))
    venv.reset(seed=job.seed)
    return venv if env.columns is None else _in_instance_columns(venv, env)


def _in_instance_columns(venv: Any, env: Any) -> Any:
    """A decision vector env whose observations show the context as a hidden instance's columns do
    (a plain wrapper: gymnasium's observation wrappers refuse same-step autoreset envs)."""
    from gymnasium.spaces import Box
    from gymnasium.vector import VectorWrapper
    from gymnasium.vector.utils import batch_space

    class InstanceColumns(VectorWrapper):
        def reset(self, **kwargs: Any) -> Any:
            obs, info = self.env.reset(**kwargs)
            return env.observe_context(obs), info

        def step(self, actions: Any) -> Any:
            obs, *rest = self.env.step(actions)
            return (env.observe_context(obs), *rest)

    space = venv.single_observation_space
    ends = env.observe_context(np.stack([space.low, space.high]))
    wrapped = InstanceColumns(venv)
    wrapped.single_observation_space = Box(ends.min(axis=0), ends.max(axis=0), dtype=space.dtype)
    wrapped.observation_space = batch_space(wrapped.single_observation_space, venv.num_envs)
    return wrapped


def with_regime_column(data: Dataset) -> Dataset:
    """Training rows plus a 0/1 column saying whether the unit was randomised (the observed-regime axis)."""
    regime = (data.intervened.any(axis=1) if data.intervened is not None else np.zeros(data.n, bool)).astype(float)
    return Dataset(np.column_stack([data.X, regime]), data.y, (*data.feature_names, "regime"), data.roles,
                   data.target, data.target_kind, data.spec, data.domain, data.intervened, data.variables,
                   data.n_classes)


def observed_task(task: Any, job: Job) -> Any:
    """The Task as the method sees it: with the randomisation-regime column when the job shows it."""
    return dataclasses.replace(task, feature_names=(*task.feature_names, "regime")) if job.regime_observed else task


def observed_data(data: Dataset, job: Job, privileged: bool = True) -> Dataset:
    """A training stage as the method sees it: without roles unless it is privileged (DESIGN: roles are stripped
    from what a non-privileged method is handed), plus the regime column when the job shows it."""
    if not privileged and data.roles:
        data = dataclasses.replace(data, roles={})
    return with_regime_column(data) if job.regime_observed else data


def observed_inputs(X: np.ndarray, job: Job) -> np.ndarray:
    """Inputs to predict as the method sees them: test units were never randomised (regime column 0), unless
    the job asks about the randomised regime (`regime_query` 1: interventional predictions)."""
    return np.column_stack([X, np.full(len(X), float(job.regime_query))]) if job.regime_observed else X


def train_in_process(spec: MethodSpec, task: Any, hparams: dict[str, Any], job: Job, stages: list[Stage],
                     suite: Any, env: Any) -> Iterator[tuple[dict[str, Any], dict[str, np.ndarray]]]:
    """The default executor: build the method here, train each stage, predict every suite input."""
    method = spec.cls(observed_task(task, job), spec.cls.Params(**hparams), job.seed)
    single_thread()
    for _, data in stages:
        start = time.perf_counter()
        if spec.protocol == "online":
            method.interact(online_env(env, job), job.budget)
            info: dict[str, Any] = {"budget": job.budget, "num_envs": job.num_envs}
        else:
            assert data is not None
            method.fit(observed_data(data, job, spec.cls.privileged))
            info = {"train_fingerprint": data.fingerprint, "train_kind": data.spec.kind, "train_n": data.n}
        info["fit_seconds"] = round(time.perf_counter() - start, 4)
        compute = method.training_info()
        if compute:
            info["compute"] = compute
        yield info, predict_suite(lambda X: method.predict(observed_inputs(X, job)), suite)


@lru_cache(maxsize=8)
def cached_env(env_id: str, options: tuple[tuple[str, Any], ...]) -> Any:
    """One env instance per (id, options) per process: its pilot sample, truth and rendering are built once
    (a worker running many jobs of one env would otherwise rebuild them for every job)."""
    return make(env_id, **dict(options))


def run_job(job: Job, git: str | None = None, executor: Executor = train_in_process) -> JobResult:
    """Train and score one job; one record per stage."""
    try:
        env = cached_env(job.env_id, tuple(job.env_options))
    except TypeError:   # an unhashable option value: build it afresh
        env = make(job.env_id, **dict(job.env_options))
    suite = get_suite(env, job.eval_seed, job.n_test)
    base = {
        "schema": SCHEMA_VERSION, "study": job.study, "key": job.key(), "env_id": job.env_id,
        "env_version": job.env_id.rsplit("-", 1)[-1], "env_options": dict(job.env_options), "scm_hash": env.scm.hash,
        "method": job.method, "seed": job.seed, "eval_seed": job.eval_seed, "n_train": job.n_train,
        "n_test": job.n_test, "fraction": job.fraction, "regime_observed": job.regime_observed,
        "hparams_source": job.hparams_source,
        "package_version": VERSION, "git_hash": git,
    }
    if job.regime_query not in (0, 1):
        raise CausalBenchError(f"regime_query must be 0 or 1, got {job.regime_query!r}")
    if job.stages:   # recorded only when used, as in the job key
        base["data_stages"] = [dataclasses.asdict(s) for s in job.stages]
    if job.regime_observed or job.regime_query:
        base["regime_query"] = job.regime_query
    stamp = (lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    if job.method in REFERENCES:
        fn = REFERENCES.get(job.method)(env)
        preds = {k: np.asarray(fn(V), dtype=float) for k, V in suite.latents.items()}
        scores = score_predictions(preds, env, job.eval_seed, job.n_test)
        record = {**base, "track": REFERENCE_TRACK, "protocol": REFERENCE_TRACK, "hparams": {}, "n_stages": 1,
                  "stage": 0, "stage_domain": None, "order": None, "scores": scores.to_dict(), "timestamp": stamp()}
        return JobResult([record], preds if job.keep_predictions else None)
    spec = method_spec(job.method)
    task = make_task(env, spec.track, privileged=spec.cls.privileged)
    track, stages = training_stages(env, spec, job)
    hparams = job.resolved_hparams()
    base.update(track=track, protocol=spec.protocol, hparams=hparams, n_stages=len(stages),
                order=[env.domains[k].name for k in job.order] if job.order else None)
    records, preds = [], None
    for stage, ((domain, _), (info, preds)) in enumerate(zip(stages, executor(spec, task, hparams, job, stages,
                                                                                suite, env))):
        scores = score_predictions(preds, env, job.eval_seed, job.n_test)
        records.append({**base, "stage": stage, "stage_domain": domain, **info, "scores": scores.to_dict(),
                        "timestamp": stamp()})
    if len(records) != len(stages):
        raise CausalBenchError(f"{job.method} on {job.env_id}: the executor returned {len(records)} of "
                               f"{len(stages)} stages")
    return JobResult(records, preds if job.keep_predictions else None)
