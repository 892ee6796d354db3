"""The exact references every run scores beside the methods: reference rows in reports, never ranked.

Each is named for exactly what it computes (see `causalbench.env.truth`) and is a function of
the observed-variable rows, so it is scored on the suite's latent rows, for rendered envs too.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..registry import Registry

Reference = Callable[[Any], Callable[[np.ndarray], np.ndarray]]
REFERENCES: Registry[Reference] = Registry("reference")
REFERENCE_TRACK = "reference"


def _causal(env: Any) -> Callable[[np.ndarray], np.ndarray]:
    return env.truth.causal_reference


def _bayes_train(env: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The training distribution's Bayes predictor; rows impossible in training get the training mean/prior."""
    return lambda V: np.nan_to_num(env.truth.bayes(V, "id"), nan=env.truth.null)


def _null(env: Any) -> Callable[[np.ndarray], np.ndarray]:
    return lambda V: np.full(len(V), env.truth.null)


REFERENCES.register("causal-reference", _causal, summary="E[Y | do(X = x)]: the structural regression")
REFERENCES.register("bayes-train", _bayes_train, summary="E_train[Y | X = x]: the best in-distribution predictor")
REFERENCES.register("null", _null, summary="the training mean (real target) or prior P(Y = 1) (binary)")
