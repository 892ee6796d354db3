"""The SCM engine: mechanisms, models, interventions, exact inference and pgmpy interop."""

from .mechanisms import (
    CPT,
    MECHANISMS,
    MLP,
    NONLINEARITIES,
    Additive,
    Bernoulli,
    Categorical,
    Constant,
    Linear,
    Logistic,
    Mechanism,
    Normal,
    Threshold,
    Uniform,
)
from .model import ROLES, SCM, PerSample, Sample, Soft, Units, Variable, derive, rng, stable_key

__all__ = [
    "SCM", "Variable", "Sample", "Units", "Soft", "PerSample", "ROLES", "derive", "rng", "stable_key",
    "Mechanism", "MECHANISMS", "NONLINEARITIES", "Constant", "Normal", "Uniform", "Bernoulli", "Categorical",
    "Linear", "Additive", "Logistic", "Threshold", "MLP", "CPT",
]
