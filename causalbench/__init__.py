"""causalbench: a benchmark suite for causal confusion.

Structural causal model environments with hidden confounders generate
observational, interventional and domain-labelled data and OOD test shifts; a
scorer reports OOD risk and causal vs spurious reliance.

    >>> import causalbench as cb
    >>> env = cb.make("IceCreamShorts-v1")
    >>> train = env.dataset("observational", n=10_000, seed=0)

Importing the package registers every environment with gymnasium (lazily, by
entry-point string) under the `causalbench/` namespace: at once if gymnasium is
already imported, else the moment it is. Nothing else is imported until it is
used (not even numpy): names below resolve on first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from .env.gym_registration import register_when_gymnasium_imported as _register_gym_envs
from .env.registry import ENVS, list_envs, make, register_env
from .errors import CausalBenchError
from .provenance import VERSION as __version__

# gymnasium convention: importing the package registers its environment ids (by entry-point string,
# deferred until gymnasium itself is imported, so `causalbench list` does not pay for numpy).
_register_gym_envs()

# name -> module that defines it (imported on first access, PEP 562)
_LAZY = {
    "Dataset": "causalbench.data", "DatasetSpec": "causalbench.data",
    "CausalEnv": "causalbench.env.base", "Domain": "causalbench.env.base", "Shift": "causalbench.env.base",
    "score": "causalbench.scoring.score", "score_predictions": "causalbench.scoring.score",
    "score_policy": "causalbench.scoring.policy",
}

_LAZY_MODULES = ("results",)  # `cb.results.load(run_dir)` without importing pandas at `import causalbench`

__all__ = ["__version__", "CausalBenchError", "ENVS", "list_envs", "make", "register_env", *_LAZY, *_LAZY_MODULES]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(f"causalbench.{name}")
    raise AttributeError(f"module 'causalbench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_MODULES))
