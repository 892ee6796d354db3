"""Where jobs run: in this process, in joblib worker processes, or on Ray; plus the shared progress bar."""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterator, Sequence


def parallel_map(fn: Callable[..., Any], items: Sequence[Any], n_jobs: int, *args: Any) -> Iterator[Any]:
    """fn(item, *args) for every item, in joblib worker processes when n_jobs > 1, yielded as they finish."""
    if n_jobs <= 1 or len(items) <= 1:
        for item in items:
            yield fn(item, *args)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(delayed(fn)(item, *args) for item in items)


def single_thread() -> None:
    """One BLAS/torch thread per worker: results do not depend on --jobs, and 2 cores are not oversubscribed."""
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)


def progress_bar(total: int, enabled: bool, desc: str = "causalbench run", unit: str = "job") -> Any:
    """The progress bar every long command shows (stderr; off with --no-progress)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5)
