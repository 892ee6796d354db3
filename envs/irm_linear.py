"""IRMLinear: the anti-causal linear example of Arjovsky et al. (2019), as a multi-domain env."""

from __future__ import annotations

from typing import Sequence

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.env.instances import InstanceSpace, Param
from causalbench.scm import SCM, Linear, Normal, Soft, Variable

DOMAIN_SCALES = (0.5, 2.0)
# Hidden instances: the causal weight, the anti-causal weight (signs too) and the two domains' scales vary.
IRM_SPACE = InstanceSpace((
    Param("w", 1.0, 0.5, 1.5, signed=True, description="causal weight of x1 on y"),
    Param("c", 1.0, 0.5, 1.5, signed=True, description="weight of y in x2 (the anti-causal child)"),
    Param("s_low", DOMAIN_SCALES[0], 0.3, 0.8, description="noise scale of the first training domain"),
    Param("s_high", DOMAIN_SCALES[1], 1.5, 3.0, description="noise scale of the second training domain"),
))


class IRMLinear(CausalEnv):
    """The spurious feature is an effect of the target whose reliability varies across domains.

    ## Description
    Arjovsky, Bottou, Gulrajani & Lopez-Paz (2019), "Invariant Risk
    Minimization", section 5.1. A cause X1 drives Y; X2 is a noisy *effect* of
    Y. Inside any one domain, X2 is more predictive than X1 when the domain's
    scale s is large, so least squares leans on X2 with a weight s^2 / (s^2 + 1)
    that changes from domain to domain. Only the causal weight (1, 0) is the
    same in every domain.

    ## Variables
    - `x1` X1 ~ N(0, s^2)
    - `y`  Y = X1 + N(0, s^2) (target)
    - `x2` X2 = Y + N(0, 1)

    ## Roles (computed from the graph)
    target: y; causal: x1; anti-causal: x2 (a child of the target).

    ## Known answers
    Within a domain of scale s, OLS of Y on (X1, X2) has weights
    (1 / (s^2 + 1), s^2 / (s^2 + 1)); the invariant solution is (1, 0), which
    is also the causal reference E[Y | do(X1 = x)] = x.

    ## Domains
    Two training domains with s = 0.5 and s = 2 (noise scale of X1 and Y).

    ## Shifts
    - `x2_noise@sigma` (spurious_break): X2 = Y + N(0, sigma^2), sigma in {3, 10}.
    - `x2_reversed@c` (spurious_reversal): X2 = -c Y + N(0, 1), c in {0.5, 1}.
    - `x1_scale@s` (causal_covariate): X1 ~ N(0, s^2), s in {2, 4}.
    - `irm_env@e` (noise): the paper's test environment, X1 and Y noise scale e in {5, 10}.

    ## Hidden instances
    A hidden instance draws Y = w X1 + N(0, s^2) and X2 = c Y + N(0, 1) with |w|, |c| in
    [0.5, 1.5] (random signs) and the domain scales s in [0.3, 0.8] and [1.5, 3]; its two
    feature columns are anonymised (x0, x1) and permuted. Shifts keep their names and
    severities (`x2_reversed@r`: X2 = -r c Y + N(0, 1)).

    ## Version History
    - v0: initial version (base SCM: s = 1).
    - (no new version) hidden instances added: the public instance's data are unchanged.
    """

    id = "IRMLinear-v0"
    summary = "Arjovsky et al. (2019) IRM example: the spurious feature is a child of the target."
    instance_space = IRM_SPACE

    def build_scm(self) -> SCM:
        return SCM([
            Variable("x1", Normal(0.0, 1.0), description="cause of y"),
            Variable("y", Linear({"x1": self.param("w")}, std=1.0), role="target"),
            Variable("x2", Linear({"y": self.param("c")}, std=1.0), description="noisy effect of y"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        return [Domain(f"s={s:g}", {"x1": Soft(std=s), "y": Soft(std=s)}, f"X1 and Y noise scale s = {s:g}")
                for s in (self.param("s_low"), self.param("s_high"))]

    def build_shifts(self) -> Sequence[Shift]:
        c0 = self.param("c")
        return [
            Shift("x2_noise", "spurious_break", (3.0, 10.0), lambda s: {"x2": Soft(std=s)}, "X2 becomes unreliable"),
            Shift("x2_reversed", "spurious_reversal", (0.5, 1.0),
                  lambda c: {"x2": Linear({"y": -c * c0}, std=1.0)}, "X2 flips sign"),
            Shift("x1_scale", "causal_covariate", (2.0, 4.0), lambda s: {"x1": Soft(std=s)}, "wider X1"),
            Shift("irm_env", "noise", (5.0, 10.0), lambda e: {"x1": Soft(std=e), "y": Soft(std=e)},
                  "the IRM paper's test environment"),
        ]
