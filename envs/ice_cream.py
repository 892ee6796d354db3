"""IceCreamShorts: a hidden temperature drives both ice-cream sales and shorts sales."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.env.instances import InstanceSpace, Param
from causalbench.scm import SCM, Bernoulli, Linear, Normal, Soft, Variable

# Structural coefficients (see the class docstring): I = A*T + e_I, S = B*T + C*W + e_S.
A, B, C = 2.0, 1.5, 2.0
P_SALE = 2 / 7
PROMOTION_COST = 0.2   # v0: cost per unit of pushed ice cream
SALE_COST = 1.0        # v1: what a sale costs (it adds C = 2 to shorts sales)
CLIMATE = 0.5          # the training climates: T ~ N(-+CLIMATE, 1)

# Hidden instances (see `causalbench.env.instances`): the structural coefficients, the sale rate and the
# climate gap vary; the graph, the shifts and the decision (a sale costs 1 and adds at least 1.5) do not.
ICE_CREAM_SPACE = InstanceSpace((
    Param("a", A, 1.0, 3.0, signed=True, description="ice cream on temperature (its sign too)"),
    Param("b", B, 1.0, 2.0, signed=True, description="shorts on temperature"),
    Param("c", C, 1.5, 3.0, description="effect of a sale on shorts"),
    Param("p_sale", P_SALE, 0.15, 0.45, description="P(sale day)"),
    Param("climate", CLIMATE, 0.3, 0.8, description="training climates T ~ N(-+climate, 1)"),
))


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

    ## Hidden instances
    The public instance is the one above. A hidden instance (`make(id, instance=seed)`) draws
    I = a T + e_I with |a| in [1, 3] and a random sign, S = b T + c W + e_S with |b| in [1, 2]
    (random sign) and c in [1.5, 3], P(sale) in [0.15, 0.45] and climates T ~ N(-+m, 1) with
    m in [0.3, 0.8]; its feature columns are anonymised (x0, x1) and permuted, and sale_day's
    codes are kept (it is the action). Shifts keep their names and severities (relative to the
    instance's own coefficients); running a sale stays optimal (it adds c >= 1.5 and costs 1).

    ## Version History
    - v0: initial version.
    - v1: the decision task is the sale (v0's ice-cream decision could not separate a causal
      model from a constant one). Same SCM, domains and shifts.
    - (no new version) hidden instances added: the public instance's data are unchanged.
    """

    id = "IceCreamShorts-v1"
    summary = "Hidden temperature drives ice-cream and shorts sales; ice cream is a confounded proxy."
    action = "sale_day"
    instance_space = ICE_CREAM_SPACE

    def build_scm(self) -> SCM:
        a, b, c = self.param("a"), self.param("b"), self.param("c")
        return SCM([
            Variable("temperature", Normal(0.0, 1.0), hidden=True, description="daily temperature (standardised)"),
            Variable("ice_cream", Linear({"temperature": a}), description="ice-cream sales"),
            Variable("sale_day", Bernoulli(self.param("p_sale")), description="the shop runs a sale"),
            Variable("shorts", Linear({"temperature": b, "sale_day": c}), role="target", description="shorts sales"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        m = self.param("climate")
        return [Domain("cool", {"temperature": Soft(mean=-m)}, "cool climate"),
                Domain("warm", {"temperature": Soft(mean=m)}, "warm climate")]

    def build_shifts(self) -> Sequence[Shift]:
        a = self.param("a")
        return [
            Shift("kiosk_closed", "spurious_break", (0.5, 1.0),
                  lambda s: {"ice_cream": Linear({"temperature": a * (1 - s)})}, "ice cream decouples from temperature"),
            Shift("kiosk_reversed", "spurious_reversal", (0.5, 1.0),
                  lambda s: {"ice_cream": Linear({"temperature": -a * s})}, "ice cream sells on cold days"),
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
