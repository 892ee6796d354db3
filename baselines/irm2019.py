"""The reproduction `irm2019`: Arjovsky et al. (2019), section 5.2, synthetic experiments, through the baselines.

ERM and IRM are the registered `erm-linear` and `irm` with the overrides that make them the paper's
(`EmpiricalRiskMinimizer` and `InvariantRiskMinimization` of code/experiment_synthetic/models.py).
Published numbers: means over the 200 repetitions per setting in the paper's results file
(code/experiment_synthetic/synthetic_results.txt; training environments 0.2 and 2, validation 5,
n = 1,000 per environment, 100,000 Adam steps per reg).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from causalbench.experiments.reproduce import MethodRun, Reproduction

from .irm import PAPER_SYNTHETIC

SOURCE = ("facebookresearch/InvariantRiskMinimization, code/experiment_synthetic/synthetic_results.txt "
          "(mean over 200 repetitions per setting)")
# setting -> method -> (causal error, non-causal error), as `errors()` in the paper's main.py.
PUBLISHED = {
    "FOU": {"ERM": (0.00909, 0.00898), "IRM": (0.00287, 0.00241), "ICP": (0.02010, 0.00001)},
    "FOS": {"ERM": (0.00916, 0.00900), "IRM": (0.00415, 0.00350), "ICP": (0.84627, 0.00112)},
    "POU": {"ERM": (0.01895, 0.01790), "IRM": (0.01517, 0.01417), "ICP": (0.97001, 0.00000)},
    "POS": {"ERM": (0.02034, 0.01815), "IRM": (0.01897, 0.01592), "ICP": (1.00000, 0.00000)},
    "FEU": {"ERM": (0.82076, 0.82071), "IRM": (0.25646, 0.33333), "ICP": (1.00000, 0.80350)},
    "FES": {"ERM": (0.82283, 0.82215), "IRM": (0.25724, 0.33276), "ICP": (0.98583, 0.10311)},
    "PEU": {"ERM": (0.77380, 0.77416), "IRM": (0.21491, 0.33992), "ICP": (1.00000, 0.00000)},
    "PES": {"ERM": (0.77943, 0.77350), "IRM": (0.22028, 0.34007), "ICP": (1.00000, 0.00000)},
}


def paper_data(env: Any, n: int, seed: int) -> Any:
    """main.py's `environments`: n rows of e = 0.2, 2 and 5 (the last is IRM's validation environment)."""
    return env.paper_environments(n, seed)


def paper_errors(env: Any, weights: np.ndarray) -> tuple[float, float]:
    """main.py's `errors(sem_solution, sem_scramble @ method.solution())`."""
    return env.causal_solution().errors(weights)


IRM2019 = Reproduction(
    name="irm2019",
    title="Arjovsky, Bottou, Gulrajani & Lopez-Paz (2019), Invariant Risk Minimization, section 5.2",
    env_id="IRMSynthetic-v0",
    setting_option="setting",
    instance_option="sem_seed",
    settings=("FOU", "FOS", "POU", "POS"),
    methods=(
        MethodRun("ERM", "erm-linear", {"fit_intercept": False, "ridge": 0.0}),
        MethodRun("IRM", "irm", PAPER_SYNTHETIC),
    ),
    published=PUBLISHED,
    source=SOURCE,
    dataset=paper_data,
    errors=paper_errors,
    reps=200,
    n=1000,
    quick_reps=2,
    better=(("FOU", "IRM", "ERM"), ("FOS", "IRM", "ERM")),
    factor=2.0,
)
