"""IRMSynthetic: the synthetic chain SEM of Arjovsky et al. (2019), section 5.2, as the paper's code builds it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from causalbench.data import Dataset
from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.env.instances import InstanceSpace
from causalbench.env.mixture import Mixture
from causalbench.errors import SCMError
from causalbench.scm import SCM, Linear, Normal, Soft, Variable, exact, rng

SETTINGS = ("FOU", "FOS", "FEU", "FES", "POU", "POS", "PEU", "PES")
TRAINING_ENVS = (0.2, 2.0)     # the paper's training environments e (main.py: env_list ".2,2.,5.")
VALIDATION_ENV = 5.0           # the last environment of env_list: IRM selects its penalty weight there
PAPER_ENVS = (*TRAINING_ENVS, VALIDATION_ENV)
TARGET = "y_sum"


@dataclass(frozen=True)
class ChainSEM:
    """The matrices of the paper's `ChainEquationModel` (sem.py), each (dim/2) x (dim/2), and its scramble."""

    whx: np.ndarray
    why: np.ndarray
    whz: np.ndarray
    wxy: np.ndarray
    wyz: np.ndarray
    scramble: np.ndarray
    hidden: bool
    hetero: bool


@dataclass(frozen=True)
class CausalSolution:
    """The paper's true weights (`sem.solution()`): causal weights on x, zeros on z, and the scramble.

    `weights` are over the unscrambled observed variables (x..., z...); features are
    X = V @ scramble, so a predictor X @ b has variable-space weights scramble @ b
    (what the paper's `main.py` compares, through `errors()`).
    """

    weights: np.ndarray
    scramble: np.ndarray

    @property
    def feature_weights(self) -> np.ndarray:
        """The true weights in feature space: X @ feature_weights = V @ weights."""
        return self.scramble.T @ self.weights

    def errors(self, feature_weights: np.ndarray) -> tuple[float, float]:
        """(causal, non-causal) error of estimated feature-space weights: `errors()` of the paper's main.py,
        the mean squared difference over the entries where the true weight is non-zero / zero."""
        w_hat = self.scramble @ np.asarray(feature_weights, dtype=float).reshape(-1)
        causal = self.weights != 0
        diff2 = (self.weights - w_hat) ** 2
        return (float(diff2[causal].mean()) if causal.any() else 0.0,
                float(diff2[~causal].mean()) if (~causal).any() else 0.0)


def chain_sem(setting: str, dim: int, sem_seed: int) -> ChainSEM:
    """The paper's `ChainEquationModel(dim, ones=True, hidden=P, hetero=E, scramble=S)`, drawn from `sem_seed`.

    As in sem.py: wxy = wyz = I (ones=True, the paper's default); with hidden variables
    whx, why, whz ~ N(0, 1) / dim, else whx = I and why = whz = 0; the scramble is the Q of
    a QR decomposition of a standard Gaussian dim x dim matrix (numpy's LAPACK QR, as torch.qr),
    else the identity. Each matrix has its own stream, so e.g. FOU and FOS share everything
    but the scramble.
    """
    k = dim // 2
    hidden, hetero, scramble = setting[0] == "P", setting[1] == "E", setting[2] == "S"

    def gaussian(name: str, shape: tuple[int, int]) -> np.ndarray:
        return rng(sem_seed, "IRMSynthetic", name, str(dim)).standard_normal(shape)

    eye, zero = np.eye(k), np.zeros((k, k))
    whx, why, whz = ((gaussian("whx", (k, k)) / dim, gaussian("why", (k, k)) / dim, gaussian("whz", (k, k)) / dim)
                     if hidden else (eye, zero, zero))
    S = np.linalg.qr(gaussian("scramble", (dim, dim)))[0] if scramble else np.eye(dim)
    return ChainSEM(whx, why, whz, eye, eye, S, hidden, hetero)


class IRMSynthetic(CausalEnv):
    """Arjovsky et al.'s 10-dimensional chain SEM: recover the causal weights on x, ignore its effects z.

    ## Description
    Arjovsky, Bottou, Gulrajani & Lopez-Paz (2019), "Invariant Risk Minimization",
    section 5.2, built exactly as `ChainEquationModel` in the paper's code
    (facebookresearch/InvariantRiskMinimization, code/experiment_synthetic/sem.py,
    with main.py's defaults: ones=True, dim=10). An environment e scales the noise.
    Per environment, hidden h drives the causes x, x drives the hidden vector y, the
    target is the sum of y's components, and z is an effect of y. z is more
    predictive than x when its noise is small, so least squares leans on z by an
    amount that changes with e; only the causal weights (1 on each x, 0 on each z)
    predict equally well in every environment.
    Options: `setting` (default "FOU"), one of F/P (fully observed: h only feeds x;
    partially observed: h also confounds y and z), O/E (homoskedastic Y noise: z's noise
    scales with e; heteroskedastic: y's noise does), U/S (unscrambled; scrambled: the
    features are [x, z] @ S for a random orthogonal S); `dim` (default 10, even);
    `sem_seed` (default 0: draws the random matrices of P and S settings; the paper
    draws a new SEM per repetition).

    ## Variables
    With k = dim / 2, for i = 1..k and the environment's e:
    - `h<i>` hidden, N(0, e^2).
    - `x<i>` = sum_j whx[j, i] h_j + N(0, e^2) (causal).
    - `y<i>` hidden = x_i + sum_j why[j, i] h_j + N(0, s_y^2).
    - `y_sum` (target) = y_1 + ... + y_k (the paper's y.sum(1)).
    - `z<i>` = y_i + sum_j whz[j, i] h_j + N(0, s_z^2) (spurious).
    O settings: s_y = 1, s_z = e; E settings: s_y = e, s_z = 1. F settings: whx = I, why = whz = 0;
    P settings: whx, why, whz ~ N(0, 1) / dim. Observed features: [x, z] (U) or [x, z] @ S (S),
    named `s01`... in scrambled settings.

    ## Roles
    target: y_sum; causal: x<i> (through the hidden y<i>); spurious: z<i> (an effect of the
    hidden y<i>, linked to the target only through it).

    ## Known answers
    `causal_solution()`: the paper's `sem.solution()`, derived here from the SCM as the total
    effect of each observed variable on y_sum (1 for every x_i, 0 for every z_i) plus the
    scramble; its `errors(b)` is the paper's `errors()` of feature-space weights b.
    Published errors (200 SEMs per setting, the paper's results file): see
    `causalbench reproduce irm2019`.

    ## Domains
    The paper's training environments e = 0.2 and e = 2 (`e=0.2`, `e=2`): soft interventions
    scaling the noise of h, x and z (O) or y (E). `paper_environments()` adds the validation
    environment e = 5, as the paper's env_list ".2,2.,5.".

    ## Shifts
    - `irm_env@e` (noise): the paper's environment e in {5, 10}; e = 5 is its validation environment.
    - `z_noise@s` (spurious_break): z's noise sd becomes s in {3, 10}.
    - `z_reversed@c` (spurious_reversal): z = -c (y + whz' h) + N(0, 1), c in {0.5, 1}.
    - `x_scale@s` (causal_covariate): x's noise sd becomes s in {2, 4}.
    - `hidden_scale@s` (confounder): h ~ N(0, s^2), s in {2, 4} (in F settings h only feeds x,
      so this moves the causes' law only).
    Shifts act on the base SCM, e = 1.

    ## Version History
    - v0: initial version.
    """

    id = "IRMSynthetic-v0"
    summary = "Arjovsky et al. (2019) 10-dim chain SEM (FOU/FOS/POU/POS...): recover causal weights, ignore effects."

    instance_space = InstanceSpace((), notes="the paper's SEM stays as chosen (`sem_seed` draws the weights of the P "
                                   "and S settings; FOU has none): an instance anonymises and permutes the columns "
                                   "of an unscrambled setting")

    def __init__(self, setting: str = "FOU", dim: int = 10, sem_seed: int = 0, instance: int | None = None) -> None:
        if setting not in SETTINGS:
            raise SCMError(f"{self.id}: setting must be one of {', '.join(SETTINGS)}, got {setting!r}")
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 2 or dim % 2:
            raise SCMError(f"{self.id}: dim must be an even integer >= 2, got {dim!r}")
        if isinstance(sem_seed, bool) or not isinstance(sem_seed, (int, np.integer)) or sem_seed < 0:
            raise SCMError(f"{self.id}: sem_seed must be an integer >= 0, got {sem_seed!r}")
        super().__init__(setting=setting, dim=int(dim), sem_seed=int(sem_seed), instance=instance)

    # ---------------------------------------------------------- the model

    @cached_property
    def sem(self) -> ChainSEM:
        o = self.options
        return chain_sem(o["setting"], o["dim"], o["sem_seed"])

    @property
    def k(self) -> int:
        return self.options["dim"] // 2

    def _names(self, prefix: str) -> list[str]:
        width = len(str(self.k))
        return [f"{prefix}{i + 1:0{width}d}" for i in range(self.k)]

    def build_scm(self) -> SCM:
        sem, k = self.sem, self.k
        H, X, Y, Z = (self._names(p) for p in ("h", "x", "y", "z"))

        def weights(*blocks: tuple[list[str], np.ndarray, int]) -> dict[str, float]:
            return {names[j]: float(W[j, col]) for names, W, col in blocks for j in range(k) if W[j, col] != 0}

        variables = [Variable(h, Normal(0.0, 1.0), hidden=True, description="hidden noise source") for h in H]
        variables += [Variable(X[i], Linear(weights((H, sem.whx, i)), std=1.0),
                               description="a cause of y_sum") for i in range(k)]
        variables += [Variable(Y[i], Linear(weights((X, sem.wxy, i), (H, sem.why, i)), std=1.0), hidden=True,
                               description="hidden component of the target") for i in range(k)]
        variables.append(Variable(TARGET, Linear({y: 1.0 for y in Y}, std=0.0), role="target",
                                  description="the target: sum of the y components"))
        variables += [Variable(Z[i], Linear(weights((Y, sem.wyz, i), (H, sem.whz, i)), std=1.0),
                               description="an effect of y") for i in range(k)]
        return SCM(variables, name=self.id)

    def environment(self, e: float) -> dict[str, Soft]:
        """The intervention that makes the base SCM the paper's environment e (noise scales)."""
        scaled = self._names("h") + self._names("x") + self._names("y" if self.sem.hetero else "z")
        return {v: Soft(std=float(e)) for v in scaled}

    def build_domains(self) -> Sequence[Domain]:
        return [Domain(f"e={e:g}", self.environment(e), f"the paper's training environment e = {e:g}")
                for e in TRAINING_ENVS]

    def build_shifts(self) -> Sequence[Shift]:
        Z, X, H, Y = (self._names(p) for p in ("z", "x", "h", "y"))

        def reversed_z(c: float) -> dict[str, Any]:
            return {z: Linear({p: (-c * w if p in Y else w) for p, w in self.scm.mechanism(z).weights.items()},
                              std=1.0) for z in Z}

        return [
            Shift("irm_env", "noise", (VALIDATION_ENV, 10.0), self.environment,
                  "the paper's environment e (e = 5 is its validation environment)"),
            Shift("z_noise", "spurious_break", (3.0, 10.0), lambda s: {z: Soft(std=s) for z in Z},
                  "z becomes an unreliable effect of y"),
            Shift("z_reversed", "spurious_reversal", (0.5, 1.0), reversed_z, "z responds to -c y"),
            Shift("x_scale", "causal_covariate", (2.0, 4.0), lambda s: {x: Soft(std=s) for x in X}, "wider x"),
            Shift("hidden_scale", "confounder", (2.0, 4.0), lambda s: {h: Soft(std=s) for h in H},
                  "louder hidden h"),
        ]

    # ---------------------------------------------------------- observation

    def render(self, V: np.ndarray) -> np.ndarray:
        """Observed variables [x, z] (n, dim) -> features [x, z] @ S (the paper's scramble; identity if unscrambled)."""
        V = np.asarray(V, dtype=np.float64)
        return V @ self.sem.scramble if self.options["setting"][2] == "S" else super().render(V)

    @property
    def feature_names(self) -> tuple[str, ...]:
        if self.options["setting"][2] != "S":
            return super().feature_names
        width = len(str(self.options["dim"]))
        return tuple(f"s{i + 1:0{width}d}" for i in range(self.options["dim"]))

    # ---------------------------------------------------------- the paper's protocol

    def causal_solution(self) -> CausalSolution:
        """The paper's true weights, derived from the SCM: the total effect of each observed variable on y_sum."""
        base = exact.expectation(self.scm, TARGET, {v: 0.0 for v in self.variables})
        w = np.array([exact.expectation(self.scm, TARGET, {**{u: 0.0 for u in self.variables}, v: 1.0}) - base
                      for v in self.variables])
        w[np.abs(w) < 1e-12] = 0.0
        return CausalSolution(w, self.sem.scramble.copy())

    def paper_environments(self, n: int = 1000, seed: int = 0, env_list: Sequence[float] = PAPER_ENVS) -> Dataset:
        """n rows of each environment in `env_list` (main.py's `environments`), labelled 0, 1, ... in that order.

        The last one is the validation environment of the paper's IRM; its ERM and ICP use all of them.
        """
        envs = tuple(float(e) for e in env_list)
        scms = [self.scm.do(self.environment(e)) for e in envs]
        mix = Mixture(scms, [f"e={e:g}" for e in envs], n * len(envs), seed, (self.stream, "paper_environments"))
        return self._to_dataset(mix.sample(), "paper_environments", n * len(envs), seed,
                                {"env_list": list(envs)}, mix.labels)
