"""IceCreamHD: IceCreamShorts observed through a fixed random 64-dim nonlinear embedding."""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from causalbench.env.instances import InstanceSpace
from causalbench.scm import rng

from causalbench.envs.ice_cream import A, ICE_CREAM_SPACE, P_SALE, IceCreamShorts

EMBED_DIM = 64
EMBED_WIDTH = 32            # units of the first tanh layer
EMBED_SEED = 0              # the embedding's weights come from rng(EMBED_SEED, EMBEDDING_STREAM, "embedding")
EMBEDDING_STREAM = "IceCreamHD-v0"   # every version keeps v0's embedding
# Standardisation of the latents (columns of `variables`) before embedding: their training-mixture
# mean and sd (temperature ~ N(+-0.5, 1) over the two climates has variance 1.25).
LATENT_MEAN = (0.0, P_SALE)
LATENT_SD = (math.sqrt(A * A * 1.25 + 1.0), math.sqrt(P_SALE * (1.0 - P_SALE)))


class IceCreamHD(IceCreamShorts):
    """IceCreamShorts with the same world but a 64-dimensional, nonlinearly entangled observation.

    ## Description
    Only the observation changes: the SCM, roles, training domains, shifts,
    decision task and every ground-truth number are those of `IceCreamShorts-v1`.
    A method no longer sees (ice_cream, sale_day) as two columns; it sees 64
    features x00..x63, each a nonlinear mixture of both. Roles, the `intervened`
    mask and `Dataset.variables` still refer to the two latent variables, and the
    scorer measures reliance by permuting a *latent* variable and re-rendering,
    so "does the model lean on ice cream?" keeps its meaning when ice cream is
    not a column. A linear model on the features is as confused as one on the
    latents; decoding the latents and applying the training Bayes predictor is optimal in distribution.

    ## Observation
    With z = (V - mean) / sd the standardised latents (training-mixture moments:
    ice_cream mean 0, sd sqrt(6); sale_day mean 2/7, sd sqrt(10)/7):
    h1 = tanh(z W1 + b1) (32 units), h2 = tanh(h1 W2 + b2) (62 units),
    X = [h2, z] Q, with W1, b1, W2, b2 Gaussian and Q a random 64 x 64
    orthogonal matrix, all fixed by `EMBED_SEED`. The map is injective (z is
    carried linearly, `decode` inverts it exactly up to rounding), deterministic
    and noise-free; float64.

    ## Variables
    Latent (as in `IceCreamShorts-v1`): `temperature` T (hidden), `ice_cream` I = 2 T + N(0, 1),
    `sale_day` W ~ Bernoulli(2/7), `shorts` S = 1.5 T + 2 W + N(0, 1) (target).
    Observed: x00..x63 = render(ice_cream, sale_day).

    ## Roles (computed from the graph)
    Of the latent variables: target shorts; causal sale_day; proxy ice_cream.

    ## Known answers
    Those of `IceCreamShorts-v1`: the causal reference E[S | do(W = w)] = 2 w, the Bayes
    predictors, true effects and decision values are computed on the latent variables. A
    predictor that decodes the latents and applies a reference scores exactly as that
    reference (tested).

    ## Domains
    As in `IceCreamShorts-v1`: `cool` (T ~ N(-0.5, 1)) and `warm` (T ~ N(+0.5, 1)).

    ## Shifts
    As in `IceCreamShorts-v1`: `kiosk_closed@s` (spurious_break), `kiosk_reversed@s`
    (spurious_reversal), `heatwave@s` (confounder), `sale_days@p` (causal_covariate). Latents
    leave the training range under `heatwave@2`, where a readout of saturating features
    extrapolates badly (a linear model on x00..x63 is far worse than a constant there).

    ## Decision task (gymnasium)
    As in `IceCreamShorts-v1`: do(sale_day = w) seeing the (rendered) day; for scoring, the
    action-set inputs are rendered too.

    ## Hidden instances
    The latent world varies as in `IceCreamShorts-v1`'s hidden instances (coefficients with random
    signs, sale rate, climate gap), and each instance draws its own embedding (W1, b1, W2, b2 and
    Q from the instance seed), so the public `decode` says nothing about an instance's columns.
    The latents are standardised with the instance's own training moments.

    ## Version History
    - v0: initial version (IceCreamShorts-v0's ice-cream decision).
    - v1: the decision of IceCreamShorts-v1 (run a sale); the same embedding.
    - (no new version) hidden instances added: the public instance's data are unchanged.
    """

    id = "IceCreamHD-v1"
    summary = "IceCreamShorts rendered into a 64-dim nonlinear observation: roles live in latent space."
    instance_space = InstanceSpace(ICE_CREAM_SPACE.params, columns=False,
                                   notes="a fresh random embedding (W1, b1, W2, b2, Q) per instance")

    @cached_property
    def latent_moments(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(means, sds) of the latents over the training mixture, which standardise them before embedding."""
        if self.instance.public:
            return LATENT_MEAN, LATENT_SD
        a, m, p = self.param("a"), self.param("climate"), self.param("p_sale")
        return (0.0, p), (math.sqrt(a * a * (1.0 + m * m) + 1.0), math.sqrt(p * (1.0 - p)))

    @cached_property
    def embedding(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(W1, b1, W2, b2, Q) of the fixed observation map."""
        gen = (rng(EMBED_SEED, EMBEDDING_STREAM, "embedding") if self.instance.public
               else rng(self.instance.seed, self.id, "instance", "embedding"))
        k, inner = len(self.variables), EMBED_DIM - len(self.variables)
        W1 = gen.normal(0.0, 1.5 / math.sqrt(k), size=(k, EMBED_WIDTH))
        b1 = gen.normal(0.0, 0.5, size=EMBED_WIDTH)
        W2 = gen.normal(0.0, 1.5 / math.sqrt(EMBED_WIDTH), size=(EMBED_WIDTH, inner))
        b2 = gen.normal(0.0, 0.5, size=inner)
        Q, R = np.linalg.qr(gen.standard_normal((EMBED_DIM, EMBED_DIM)))
        Q *= np.sign(np.diag(R))  # a unique (Haar) orthogonal matrix from the Gaussian draw
        for a in (W1, b1, W2, b2, Q):
            a.setflags(write=False)
        return W1, b1, W2, b2, Q

    def render(self, V: np.ndarray) -> np.ndarray:
        """Latent rows (n, 2), columns = `variables` -> observations (n, 64)."""
        W1, b1, W2, b2, Q = self.embedding
        mean, sd = self.latent_moments
        z = (np.asarray(V, dtype=np.float64) - mean) / sd
        h = np.tanh(np.tanh(z @ W1 + b1) @ W2 + b2)
        return np.concatenate([h, z], axis=1) @ Q

    def decode(self, X: np.ndarray) -> np.ndarray:
        """The latent rows behind observations X: the exact inverse of `render` (up to rounding)."""
        Q = self.embedding[4]
        z = np.asarray(X, dtype=np.float64) @ Q[-len(self.variables):].T
        mean, sd = self.latent_moments
        return z * sd + mean

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f"x{i:02d}" for i in range(EMBED_DIM))
