"""causalbench: a benchmark suite for causal confusion.

Structural causal model environments with hidden confounders generate
observational, interventional and domain-labelled data and OOD test shifts; a
scorer reports OOD risk and causal vs spurious reliance.

    >>> import causalbench as cb
    >>> env = cb.make("IceCreamShorts-v0")
    >>> train = env.dataset("observational", n=10_000, seed=0)

Importing the package registers every environment with gymnasium (lazily, by
entry-point string) under the `causalbench/` namespace; nothing heavy (torch,
pgmpy, matplotlib) is imported here.
"""

from __future__ import annotations

from typing import Any

from .data import Dataset, DatasetSpec
from .env import ENVS, CausalEnv, Domain, Shift, list_envs, make, register_env
from .errors import CausalBenchError

__version__ = "0.1.0"

# gymnasium convention: importing the package registers its environment ids (lazily, by entry-point string).
from .gym_registration import register_gym_envs as _register_gym_envs  # noqa: E402

_register_gym_envs()

__all__ = [
    "__version__", "CausalBenchError", "Dataset", "DatasetSpec", "CausalEnv", "Domain", "Shift", "ENVS",
    "list_envs", "make", "register_env", "score", "score_predictions",
]


def score(*args: Any, **kwargs: Any) -> Any:
    """Score a predictor on an environment (see `causalbench.scoring.score`)."""
    from .scoring import score as _score

    return _score(*args, **kwargs)


def score_predictions(*args: Any, **kwargs: Any) -> Any:
    """Score stored predictions (see `causalbench.scoring.score_predictions`)."""
    from .scoring import score_predictions as _score_predictions

    return _score_predictions(*args, **kwargs)
