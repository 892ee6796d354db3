"""RandomSCMRendered: a small nonlinear RandomSCM seen only through a 512-dim entangling rendering."""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from causalbench.scm import rng

from causalbench.envs.random_scm import RandomSCM

RENDER_DIM = 512
RENDER_WIDTH = 128          # tanh units of the rendering's first layer
COUPLING_ROUNDS = 3         # additive coupling layers (each preceded by a rotation of the latents)
COUPLING_UNITS = 16         # tanh units of each coupling function
COUPLING_GAIN = 2.0         # sd of a coupling unit's pre-activation and of its output layer (x sqrt(fan-in))
RENDER_STREAM = "RandomSCMRendered-v0"   # the rendering's weights: rng(0, RENDER_STREAM, ...); fixed for the id


class RandomSCMRendered(RandomSCM):
    """A 6-node nonlinear RandomSCM observed through a fixed 512-dim rendering that entangles every variable.

    ## Description
    The world is a `RandomSCM-v1`-family SCM with options `n_nodes` = 6, `n_hidden` = 3,
    `density` = 0.3, `nonlinearity` = "mlp", `graph_seed` = 0 (settable, as for the family;
    its own id seeds its mechanism weights). A method never sees the six observed variables
    as columns: it sees 512 features `r000`..`r511`, each a nonlinear function of all six,
    causes and confounded proxies alike, so "ignore the proxy column" is not available and a
    learner must untangle the rendering from data: the Bayes predictor, a nonlinear function
    of the latents, is a nonlinear function of the whole observation. Roles, the
    `intervened` mask and `Dataset.variables` refer to the latent variables, and the scorer
    evaluates every reference on the latent rows behind each input (reliance permutes a
    latent variable and re-renders), as for `IceCreamHD-v1`.

    ## Observation
    A deterministic, noise-free, injective map of the observed latents V (float64):
    1. z = (V - m) / s with m, s the training-mixture means and sds of the latents
       (from the fixed 200,000-unit pilot, 3 significant digits);
    2. u = T(z): three rounds of (a fixed rotation R_i of the 6 latents, then additive
       coupling z_A += g_i(z_B), z_B += g_i'(z_A) with A, B the two halves and g 16-unit
       tanh nets of gain 2): a bijection of R^6 whose every output mixes every latent nonlinearly;
    3. h = tanh(tanh(u W1 + b1) W2 + b2) (128 then 506 units);
    4. X = [h, u] Q with Q a fixed 512 x 512 orthogonal matrix.
    `decode` inverts it exactly (Q^T gives u, the couplings are undone in reverse order),
    so E[Y | X] = E[Y | V]: every published truth is exact. No column is a copy of a
    latent, and the best linear readout of X explains only about 73-90% of each latent's
    variance (it recovers the entangled u, not z). All weights come from the stream
    `RENDER_STREAM` and never change for this id. The dense 512-wide products round by block
    shape, so rows rendered in streamed blocks (`causalbench generate`) match `dataset()` to
    ~1e-15, not bit for bit (the latent variables themselves are bitwise identical).

    ## Variables
    Latent, as in `RandomSCM-v1`: `h0`..`h2` hidden binary confounders, `x0`..`x5` observed
    (8-unit MLP mechanisms), `y` the real target. Observed: r000..r511 = render(x0..x5).

    ## Roles
    Of the latent variables, computed from the graph (default instance): 3 causal, 2 proxies,
    1 anti-causal.

    ## Domains
    As in `RandomSCM-v1`: `calm` (hidden confounders ~ Bernoulli(0.2)) and `turbulent` (Bernoulli(0.6)).

    ## Shifts
    As in `RandomSCM-v1`: `confounder_shift@p` (confounder), `spurious_break@s` (spurious_break),
    `spurious_reversal@c` (spurious_reversal), `causal_shift@s` (causal_covariate); test rows
    are rendered with the same map.

    ## Natural experiments
    In interventional data (and the scaling study's mixture axis) a randomised unit has all
    six latent observed variables drawn independently from N(training mean, training sd),
    then rendered; hidden variables and `y`'s mechanism are untouched.

    ## Version History
    - v0: initial version.
    """

    id = "RandomSCMRendered-v0"
    summary = "A 6-node nonlinear RandomSCM seen through a 512-dim rendering that entangles causes and proxies."
    test_size = 2000

    def __init__(self, n_nodes: int = 6, n_hidden: int = 3, density: float = 0.3, nonlinearity: str = "mlp",
                 graph_seed: int = 0, instance: int | None = None) -> None:
        super().__init__(n_nodes=n_nodes, n_hidden=n_hidden, density=density, nonlinearity=nonlinearity,
                         graph_seed=graph_seed, instance=instance)

    @cached_property
    def standardisation(self) -> tuple[np.ndarray, np.ndarray]:
        """(m, s): training-mixture mean and sd of every latent, to 3 significant digits (machine-stable)."""
        V = self.pilot.columns(self.variables)
        r3 = np.vectorize(lambda v: float(f"{v:.3g}"))
        sd = r3(V.std(axis=0))
        return r3(V.mean(axis=0)), np.where(sd > 0, sd, 1.0)

    @cached_property
    def rendering(self) -> dict[str, object]:
        """The fixed weights of the observation map (read-only arrays)."""
        k = len(self.variables)
        a = k // 2
        gen = rng(0, RENDER_STREAM, "render", str(k))

        def rotation(d: int) -> np.ndarray:
            Q, R = np.linalg.qr(gen.standard_normal((d, d)))
            return Q * np.sign(np.diag(R))

        def coupling(d_in: int, d_out: int) -> tuple[np.ndarray, ...]:
            return (gen.normal(0, COUPLING_GAIN / math.sqrt(d_in), (d_in, COUPLING_UNITS)),
                    gen.normal(0, 0.5, COUPLING_UNITS),
                    gen.normal(0, COUPLING_GAIN / math.sqrt(COUPLING_UNITS), (COUPLING_UNITS, d_out)))

        rounds = [(rotation(k), coupling(k - a, a), coupling(a, k - a)) for _ in range(COUPLING_ROUNDS)]
        W1 = gen.normal(0.0, 1.5 / math.sqrt(k), (k, RENDER_WIDTH))
        b1 = gen.normal(0.0, 0.5, RENDER_WIDTH)
        W2 = gen.normal(0.0, 1.5 / math.sqrt(RENDER_WIDTH), (RENDER_WIDTH, RENDER_DIM - k))
        b2 = gen.normal(0.0, 0.5, RENDER_DIM - k)
        Q = rotation(RENDER_DIM)
        arrays = [W1, b1, W2, b2, Q] + [x for r, f, g in rounds for x in (r, *f, *g)]
        for x in arrays:
            x.setflags(write=False)
        return {"split": a, "rounds": rounds, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "Q": Q}

    @staticmethod
    def _g(x: np.ndarray, net: tuple[np.ndarray, ...]) -> np.ndarray:
        W, b, V = net
        return np.tanh(x @ W + b) @ V

    def entangle(self, z: np.ndarray) -> np.ndarray:
        """u = T(z): the coupling bijection of the standardised latents."""
        r = self.rendering
        a = r["split"]
        u = np.array(z, dtype=np.float64)
        for R, f, g in r["rounds"]:
            u = u @ R
            u[:, :a] += self._g(u[:, a:], f)
            u[:, a:] += self._g(u[:, :a], g)
        return u

    def disentangle(self, u: np.ndarray) -> np.ndarray:
        """z = T^-1(u): the couplings undone in reverse order."""
        r = self.rendering
        a = r["split"]
        z = np.array(u, dtype=np.float64)
        for R, f, g in reversed(r["rounds"]):
            z[:, a:] -= self._g(z[:, :a], g)
            z[:, :a] -= self._g(z[:, a:], f)
            z = z @ R.T
        return z

    def render(self, V: np.ndarray) -> np.ndarray:
        """Latent rows (n, 6), columns = `variables` -> observations (n, 512)."""
        r = self.rendering
        m, s = self.standardisation
        u = self.entangle((np.asarray(V, dtype=np.float64) - m) / s)
        h = np.tanh(np.tanh(u @ r["W1"] + r["b1"]) @ r["W2"] + r["b2"])
        return np.concatenate([h, u], axis=1) @ r["Q"]

    def decode(self, X: np.ndarray) -> np.ndarray:
        """The latent rows behind observations X: the exact inverse of `render` (up to rounding)."""
        k = len(self.variables)
        m, s = self.standardisation
        u = np.asarray(X, dtype=np.float64) @ self.rendering["Q"][-k:].T
        return self.disentangle(u) * s + m

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f"r{i:03d}" for i in range(RENDER_DIM))
