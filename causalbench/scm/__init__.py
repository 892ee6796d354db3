"""The SCM engine: mechanisms, models, interventions, exact inference and pgmpy interop."""

from ..seeding import derive, rng, stable_key
from .distributions import CPT, Bernoulli, Categorical, Normal, Uniform
from .interventions import Intervention, PerSample, Soft
from .mechanisms import MECHANISMS, NONLINEARITIES, Constant, Mechanism
from .model import ROLES, SCM, Sample, Units, Variable
from .regressions import MLP, Additive, Linear, Logistic, Threshold

__all__ = [
    "SCM", "Variable", "Sample", "Units", "Soft", "PerSample", "Intervention", "ROLES", "derive", "rng", "stable_key",
    "Mechanism", "MECHANISMS", "NONLINEARITIES", "Constant", "Normal", "Uniform", "Bernoulli", "Categorical",
    "Linear", "Additive", "Logistic", "Threshold", "MLP", "CPT",
]
