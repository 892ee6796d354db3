"""IceCreamShorts: a hidden temperature drives both ice-cream sales and shorts sales."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.scm import SCM, Bernoulli, Linear, Normal, Soft, Variable

# Structural coefficients (see the class docstring): I = A*T + e_I, S = B*T + C*W + e_S.
A, B, C = 2.0, 1.5, 2.0
P_SALE = 2 / 7
PROMOTION_COST = 0.2   # v0: cost per unit of pushed ice cream
SALE_COST = 1.0        # v1: what a sale costs (it adds C = 2 to shorts sales)


class IceCreamShorts(CausalEnv):
    """Shorts sales rise with ice-cream sales, but only because both follow the weather.

    ## Description
    A seaside shop sells shorts. Its sales S rise on hot days and on sale days.
    The ice-cream kiosk next door sells more on hot days too. Temperature is not
    recorded, so in the shop's data ice-cream sales look like an excellent
    predictor of shorts sales. They are not a cause: closing the kiosk, or
    pushing ice cream, changes nothing for shorts.

    ## Variables
    - `temperature` T ~ N(mu_domain, 1) (hidden)
    - `ice_cream` I = 2 T + N(0, 1)
    - `sale_day` W ~ Bernoulli(2/7): the shop runs a sale
    - `shorts` S = 1.5 T + 2 W + N(0, 1) (target)

    ## Roles (computed from the graph)
    target: shorts; causal: sale_day; proxy: ice_cream (a confounded sibling).

    ## Known answers
    With T ~ N(0, 1): OLS of S on I has slope a b / (a^2 + 1) = 0.6; E[S | do(I = x)]
    does not depend on x; the causal reference E[S | do(I = i, W = w)] = 2 w (the training
    climates average T to 0). The training Bayes predictor E[S | I, W] uses ice cream.

    ## Domains
    Two climates: `cool` (T ~ N(-0.5, 1)) and `warm` (T ~ N(+0.5, 1)).

    ## Shifts
    - `kiosk_closed@s` (spurious_break): I = 2 (1 - s) T + N(0, 1), s in {0.5, 1}.
    - `kiosk_reversed@s` (spurious_reversal): I = -2 s T + N(0, 1), s in {0.5, 1}: a
      winter-only kiosk sells more on cold days.
    - `heatwave@s` (confounder): T ~ N(s, 1), s in {1, 2}. Ice cream tracks the
      hidden temperature, so here the spurious proxy *helps* a predictor: an
      honest counter-example to "causal is always better".
    - `sale_days@p` (causal_covariate): W ~ Bernoulli(p), p in {0.6, 0.9}.

    ## Decision task (gymnasium)
    v1: the shop decides whether to run a sale, do(W = w), w in {0, 1}, after seeing
    the kiosk's ice-cream sales; reward = S - 1 w. A sale adds 2 to shorts sales on any
    day, so running it is always optimal; a model that has not learnt the sale's effect
    (a constant predictor) never runs it (normalised regret 2: worse than random).
    Observation: ice_cream. The temperature is never observed.
    v0 (deprecated): the retailer set ice-cream sales, do(I = a), a in {-2, ..., 3},
    reward = S - 0.2 a. Ice cream has no effect, so the cheapest action is optimal, and a
    constant predictor, which knows nothing, is optimal too: the task cannot tell a
    causal model from an ignorant one.

    ## Version History
    - v0: initial version.
    - v1: the decision task is the sale (v0's ice-cream decision could not separate a causal
      model from a constant one). Same SCM, domains and shifts.
    """

    id = "IceCreamShorts-v1"
    summary = "Hidden temperature drives ice-cream and shorts sales; ice cream is a confounded proxy."
    action = "sale_day"

    def build_scm(self) -> SCM:
        return SCM([
            Variable("temperature", Normal(0.0, 1.0), hidden=True, description="daily temperature (standardised)"),
            Variable("ice_cream", Linear({"temperature": A}), description="ice-cream sales"),
            Variable("sale_day", Bernoulli(P_SALE), description="the shop runs a sale"),
            Variable("shorts", Linear({"temperature": B, "sale_day": C}), role="target", description="shorts sales"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        return [Domain("cool", {"temperature": Soft(mean=-0.5)}, "cool climate"),
                Domain("warm", {"temperature": Soft(mean=0.5)}, "warm climate")]

    def build_shifts(self) -> Sequence[Shift]:
        return [
            Shift("kiosk_closed", "spurious_break", (0.5, 1.0),
                  lambda s: {"ice_cream": Linear({"temperature": A * (1 - s)})}, "ice cream decouples from temperature"),
            Shift("kiosk_reversed", "spurious_reversal", (0.5, 1.0),
                  lambda s: {"ice_cream": Linear({"temperature": -A * s})}, "ice cream sells on cold days"),
            Shift("heatwave", "confounder", (1.0, 2.0),
                  lambda s: {"temperature": Soft(mean=s)}, "the hidden temperature shifts up"),
            Shift("sale_days", "causal_covariate", (0.6, 0.9),
                  lambda p: {"sale_day": Bernoulli(p)}, "more sale days"),
        ]

    @property
    def action_values(self) -> tuple[float, ...]:
        return (0.0, 1.0)

    def utility(self, y: np.ndarray, action: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=float) - SALE_COST * np.asarray(action, dtype=float)


class IceCreamShortsV0(IceCreamShorts):
    """IceCreamShorts-v0 (superseded): the ice-cream decision, which a constant predictor solves.

    Everything as in `IceCreamShorts` (see its docstring, "Decision task") except the decision:
    do(ice_cream = a), a in {-2, -1, 0, 1, 2, 3}, reward = S - 0.2 a.
    """

    id = "IceCreamShorts-v0"
    action = "ice_cream"

    @property
    def action_values(self) -> tuple[float, ...]:
        return (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0)

    def utility(self, y: np.ndarray, action: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=float) - PROMOTION_COST * np.asarray(action, dtype=float)
