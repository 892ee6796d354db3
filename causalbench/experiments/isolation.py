"""Isolated training: each (method, instance, seed) runs in its own worker process that receives only arrays.

`Isolated()` is an executor for `job.run_job` (`run_job(job, executor=Isolated())`), so isolated jobs
are trained and scored by the one job function. The harness keeps the environment, its SCM and the
truth; the worker is a fresh Python interpreter (what multiprocessing's "spawn" starts, launched with
`subprocess` so that it neither re-imports the harness's `__main__` nor depends on the launcher's start
method: it inherits no harness memory, only the environment variables and `sys.path`) and gets over a
socket pair:

- the method's import path, its hyper-parameters and the training seed;
- a `Task` whose `env_id` is an opaque task id, without roles (privileged methods excepted: they are
  references, marked and never ranked) and, for a hidden instance, with anonymised names only;
- per training stage, the track's data as plain arrays (X, y, domain labels, intervention mask),
  rebuilt into a `Dataset` without roles whose spec names the opaque task id;
- the inputs to predict (every test set and probe of the suite, stacked), answered with one array;
- online methods get an env proxy: a gymnasium (vector) env whose reset/step are forwarded to the
  real env in the harness.

Limits per job: wall-clock time (the harness kills the worker), address space and CPU time
(`resource.setrlimit` in the worker). A job that exceeds them, crashes or raises fails with a
one-line `IsolationError` naming the method, the job and the cause.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import resource
import socket
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Iterator

import numpy as np

from ..data import Dataset, DatasetSpec
from ..errors import CausalBenchError
from ..methods import Task, method_spec
from ..registry import load_entry_point
from ..scoring.score import predict_suite
from .isolation_proxy import make_proxy
from .job import Stage, observed_data, observed_inputs, observed_task, online_env
from .launchers import single_thread

TASK_PREFIX = "task-"


class IsolationError(CausalBenchError):
    """A job failed in its isolated worker: time or memory limit, a crash, or an error raised by the method."""


@dataclass(frozen=True)
class Isolated:
    """The isolating executor: one worker process per job, with a time limit (seconds, wall clock, all stages)
    and a memory limit (bytes of address space)."""

    seconds: float = 1800.0
    memory: int = 6 << 30

    def __call__(self, spec: Any, task: Any, hparams: dict[str, Any], job: Any, stages: list[Stage], suite: Any,
                 env: Any) -> Iterator[tuple[dict[str, Any], dict[str, np.ndarray]]]:
        worker = _Worker(self, job, env)
        try:
            worker.start(spec, role_free(observed_task(task, job), job, spec.cls.privileged), hparams, job.seed)
            for _, data in stages:
                start = time.perf_counter()
                if spec.protocol == "online":
                    worker.interact(online_env(env, job), job.budget)
                    info: dict[str, Any] = {"budget": job.budget, "num_envs": job.num_envs}
                else:
                    assert data is not None
                    worker.fit(role_free_arrays(observed_data(data, job, False), env, task_id(job)))
                    info = {"train_fingerprint": data.fingerprint, "train_kind": data.spec.kind, "train_n": data.n}
                info["fit_seconds"] = round(time.perf_counter() - start, 4)
                info["isolated"] = True
                yield info, _predict_suite(worker, suite, job)
        finally:
            worker.close()


def task_id(job: Any) -> str:
    """An opaque name for the job's task: a hash of the job (which holds the secret instance seed)."""
    return TASK_PREFIX + hashlib.sha256(f"{job.key()}:{job.env_options}".encode()).hexdigest()[:16]


def role_free(task: Any, job: Any, privileged: bool) -> dict[str, Any]:
    """The Task's fields as the worker gets them: an opaque env id, and roles only for privileged methods."""
    fields = dataclasses.asdict(task)
    fields["env_id"] = task_id(job)
    if not privileged:
        fields["roles"] = None
    return fields


def role_free_arrays(data: Any, env: Any, name: str) -> dict[str, Any]:
    """A training dataset as arrays and anonymous names: no roles, no env id, no latent variable names."""
    intervened, variables = data.intervened, tuple(data.variables)
    if not env.instance.public:
        if env.columnar:   # mask columns follow the feature columns
            order = list(env.columns.order) if env.columns is not None else list(range(len(variables)))
            variables = tuple(env.feature_names)
        else:   # rendered observations: the mask's latent columns in an instance-specific order, unnamed
            order = list(np.argsort([hashlib.sha256(f"{name}:{v}".encode()).hexdigest() for v in data.variables]))
            variables = tuple(f"z{i}" for i in range(len(order)))
        if intervened is not None:
            intervened = intervened[:, order]
    return {"X": np.ascontiguousarray(data.X), "y": np.ascontiguousarray(data.y),
            "domain": data.domain, "intervened": intervened, "feature_names": tuple(data.feature_names),
            "variables": variables, "target": "y" if not env.instance.public else data.target,
            "target_kind": data.target_kind, "n_classes": data.n_classes, "kind": data.spec.kind, "name": name}


def _predict_suite(worker: "_Worker", suite: Any, job: Any) -> dict[str, np.ndarray]:
    return predict_suite(lambda X: worker.predict(observed_inputs(np.asarray(X, dtype=float), job)), suite)


# ---------------------------------------------------------------- the harness side of the pipe


class _Worker:
    """One worker process and its pipe, with the job's deadline."""

    def __init__(self, limits: Isolated, job: Any, env: Any) -> None:
        self.limits, self.what = limits, f"{job.method} on {job.env_id} (seed {job.seed})"
        ours, theirs = socket.socketpair()
        code = "import sys; from causalbench.experiments.isolation import worker_entry; worker_entry(*sys.argv[1:])"
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(theirs.fileno()), repr(limits.seconds),
                                      str(limits.memory)], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.deadline = time.monotonic() + limits.seconds
        self.conn.send(("path", list(sys.path)))

    def start(self, spec: Any, task: dict[str, Any], hparams: dict[str, Any], seed: int) -> None:
        self.call("start", method_candidates(spec), task, hparams, seed)

    def fit(self, arrays: dict[str, Any]) -> None:
        self.call("fit", arrays)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.call("predict", np.ascontiguousarray(X, dtype=float)))

    def interact(self, env: Any, budget: int) -> None:
        self.conn.send(("interact", proxy_description(env), int(budget)))
        while True:
            kind, payload = self._receive()
            if kind != "env":
                self._result(kind, payload)
                return
            op, args, kwargs = payload
            try:
                result = getattr(env, op)(*args, **kwargs)
            except Exception as err:   # the method stepped the env wrongly: its error, reported in the worker
                self.conn.send(("env-error", f"{type(err).__name__}: {err}"))
            else:
                self.conn.send(("env-result", result))

    def call(self, op: str, *args: Any) -> Any:
        self.conn.send((op, *args))
        kind, payload = self._receive()
        return self._result(kind, payload)

    def _receive(self) -> tuple[str, Any]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not self.conn.poll(remaining):
            self.kill()
            raise IsolationError(f"{self.what}: exceeded the time limit of {self.limits.seconds:g} s")
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            code = self._wait(5)
            hint = f", perhaps at its memory limit of {self.limits.memory / 2**30:.3g} GiB" if (code or 0) < 0 else ""
            raise IsolationError(f"{self.what}: the worker process died (exit code {code}{hint})") from None

    def _result(self, kind: str, payload: Any) -> Any:
        if kind == "error":
            raise IsolationError(f"{self.what}: {payload}")
        return payload

    def _wait(self, seconds: float) -> int | None:
        try:
            return self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self._wait(5)

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.conn.send(("close",))
                self._wait(5)
        except (OSError, ValueError):
            pass
        self.kill()
        self.conn.close()


def method_candidates(spec: Any) -> list[str]:
    """How the worker can find the method's class, best first: its "module:Class" spec, its class's import path,
    its name (registered built-ins and installed entry points resolve in the worker too)."""
    out = [spec.name] if ":" in spec.name else []
    out.append(f"{spec.cls.__module__}:{spec.cls.__qualname__}")
    return out + ([spec.name] if ":" not in spec.name else [])


def proxy_description(env: Any) -> dict[str, Any]:
    """What the worker needs to impersonate the env: its spaces (and width, for a vector env)."""
    vector = hasattr(env, "num_envs") and hasattr(env, "single_observation_space")
    out = {"vector": vector, "observation_space": env.observation_space, "action_space": env.action_space,
           "metadata": dict(getattr(env, "metadata", {}))}
    if vector:
        out.update(num_envs=int(env.num_envs), single_observation_space=env.single_observation_space,
                   single_action_space=env.single_action_space)
    return out


# ---------------------------------------------------------------- the worker


def worker_entry(fd: str, seconds: str, memory: str) -> None:
    """The worker interpreter's entry point: limits, the harness's `sys.path`, then the request loop."""
    _limit(float(seconds), int(memory))
    conn = Connection(int(fd))
    try:
        _, path = conn.recv()
    except (EOFError, OSError):
        return
    sys.path[:] = list(path)
    worker_main(conn)
    os._exit(0)   # no interpreter teardown work once the harness is done with us


def worker_main(conn: Any) -> None:
    """The worker's loop: build the method, then fit / interact / predict on request, one reply per request."""
    method = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        op, args = message[0], message[1:]
        if op == "close":
            return
        try:
            if op == "start":
                method = _build(*args)
                single_thread()
                result: Any = None
            elif method is None:
                raise RuntimeError("the method was not built")
            elif op == "fit":
                method.fit(_dataset(args[0]))
                result = None
            elif op == "predict":
                result = np.asarray(method.predict(args[0]))
            elif op == "interact":
                method.interact(make_proxy(conn, args[0]), args[1])
                result = None
            else:
                raise RuntimeError(f"unknown request {op!r}")
        except BaseException as err:  # noqa: B036 - everything the method raises is reported, one line
            conn.send(("error", _one_line(err)))
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                return
            continue
        conn.send(("ok", result))


def _limit(seconds: float, memory: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(seconds) + 30
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _resolve(candidates: list[str]) -> Any:
    for candidate in candidates:
        try:
            if ":" in candidate:
                found = load_entry_point(candidate)
                if isinstance(found, type):
                    return found
            else:
                return method_spec(candidate).cls
        except (ImportError, AttributeError, CausalBenchError):
            continue
    raise CausalBenchError(f"cannot import the method in an isolated worker (tried {', '.join(candidates)}); "
                           "give it as 'package.module:Class' or install it as an entry point")


def _build(candidates: list[str], task: dict[str, Any], hparams: dict[str, Any], seed: int) -> Any:
    cls = _resolve(candidates)
    fields = dict(task)
    for key in ("feature_names", "variables", "action_values", "context"):
        fields[key] = tuple(fields[key])
    fields["utility"] = tuple(tuple(u) for u in fields["utility"])
    return cls(Task(**fields), cls.Params(**hparams), seed)


def _dataset(arrays: dict[str, Any]) -> Dataset:
    spec = DatasetSpec(arrays["name"], arrays["kind"], int(len(arrays["y"])), 0, {}, "")
    return Dataset(arrays["X"], arrays["y"], arrays["feature_names"], {}, arrays["target"], arrays["target_kind"],
                   spec, arrays["domain"], arrays["intervened"], arrays["variables"], arrays["n_classes"])


def _one_line(err: BaseException) -> str:
    if isinstance(err, MemoryError):
        return "MemoryError: the method ran out of its memory limit"
    where = traceback.extract_tb(err.__traceback__)[-1:] if err.__traceback__ else []
    place = f" (at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno})" if where else ""
    return " ".join(f"{type(err).__name__}: {err}{place}".split())[:500]
