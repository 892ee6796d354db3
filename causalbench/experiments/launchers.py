"""Where jobs run: a registry of launchers (this process, joblib worker processes, Ray), plus the progress bar.

A launcher maps a function over items and yields results as they finish; records never depend
on the launcher (every worker uses one BLAS/torch thread).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Iterator, Sequence

from ..errors import CausalBenchError
from ..registry import Registry

Launcher = Callable[[Callable[..., Any], Sequence[Any], int, tuple], Iterator[Any]]
LAUNCHERS: Registry[Launcher] = Registry("backend")


def serial(fn: Callable[..., Any], items: Sequence[Any], n_jobs: int, args: tuple) -> Iterator[Any]:
    for item in items:
        yield fn(item, *args)


def joblib_processes(fn: Callable[..., Any], items: Sequence[Any], n_jobs: int, args: tuple) -> Iterator[Any]:
    """joblib (loky) worker processes, results in completion order; serial for one job or one item."""
    if n_jobs <= 1 or len(items) <= 1:
        yield from serial(fn, items, n_jobs, args)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(delayed(fn)(item, *args) for item in items)


def ray_tasks(fn: Callable[..., Any], items: Sequence[Any], n_jobs: int, args: tuple) -> Iterator[Any]:
    """Ray tasks: on the cluster in RAY_ADDRESS, else on a local instance with n_jobs CPUs."""
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
        remote = ray.remote(num_cpus=1)(fn)
        pending = [remote.remote(item, *args) for item in items]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:
        if started:
            ray.shutdown()


LAUNCHERS.register("serial", serial, summary="in this process, one job after another")
LAUNCHERS.register("joblib", joblib_processes, summary="joblib worker processes on this machine (--jobs)")
LAUNCHERS.register("ray", ray_tasks, summary="Ray tasks: a local instance, or the cluster in RAY_ADDRESS")


def launch(backend: str, fn: Callable[..., Any], items: Sequence[Any], n_jobs: int, *args: Any) -> Iterator[Any]:
    """fn(item, *args) for every item on the named backend, yielded as they finish."""
    return LAUNCHERS.get(backend)(fn, items, n_jobs, args)


def parallel_map(fn: Callable[..., Any], items: Sequence[Any], n_jobs: int, *args: Any) -> Iterator[Any]:
    """fn(item, *args) in joblib worker processes when n_jobs > 1 (the default launcher)."""
    return joblib_processes(fn, items, n_jobs, args)


def single_thread() -> None:
    """One BLAS/torch thread per worker: results do not depend on --jobs, and 2 cores are not oversubscribed."""
    if sys.modules.get("torch") is not None:   # only when a method already imported it
        import torch

        torch.set_num_threads(1)


def progress_bar(total: int, enabled: bool, desc: str = "causalbench run", unit: str = "job") -> Any:
    """The progress bar every long command shows (stderr; off with --no-progress)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5)
