"""Built-in environments: one file per family, one `register_env` line each (lazy entry points)."""

from causalbench.env import register_env

register_env("IceCreamShorts-v0", "causalbench.envs.ice_cream:IceCreamShorts",
             summary="Hidden temperature drives ice-cream and shorts sales; ice cream is the spurious feature.")
register_env("IRMLinear-v0", "causalbench.envs.irm_linear:IRMLinear",
             summary="Arjovsky et al. (2019) IRM example: the spurious feature is a child of the target.")
register_env("TreatmentRecovery-v0", "causalbench.envs.treatment:TreatmentRecovery",
             summary="Hidden severity makes a helpful treatment look harmful in the records (Simpson's paradox).")
