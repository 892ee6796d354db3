"""Built-in environments: one file per family, one `register_env` line each (lazy entry points)."""

from causalbench.env.registry import register_env, register_suite

register_env("IceCreamShorts-v1", "causalbench.envs.ice_cream:IceCreamShorts",
             summary="Hidden temperature drives ice-cream and shorts sales; ice cream is a confounded proxy.")
register_env("IceCreamShorts-v0", "causalbench.envs.ice_cream:IceCreamShortsV0", deprecated="IceCreamShorts-v1",
             summary="IceCreamShorts with v0's ice-cream decision, which a constant predictor solves (use v1).")
register_env("IRMLinear-v0", "causalbench.envs.irm_linear:IRMLinear",
             summary="Arjovsky et al. (2019) IRM example: the spurious feature is a child of the target.")
register_env("IRMSynthetic-v0", "causalbench.envs.irm_synthetic:IRMSynthetic",
             summary="Arjovsky et al. (2019) chain SEM (settings FOU/FOS/POU/POS...): causes x, effects z of y.")
register_env("TreatmentRecovery-v0", "causalbench.envs.treatment:TreatmentRecovery",
             summary="Hidden severity makes a helpful treatment look harmful in the records (Simpson's paradox).")
register_env("LabelFlip-v0", "causalbench.envs.label_flip:LabelFlip",
             summary="An anti-causal child of a binary label whose sign flips under shift.")
register_env("Asia-v0", "causalbench.envs.asia:Asia",
             summary="The classic Asia (chest clinic) Bayesian network with hidden nodes; exact pgmpy ground truth.")
register_env("RandomSCM-v1", "causalbench.envs.random_scm:RandomSCM",
             summary="A random nonlinear SCM family with hidden confounders and exact ground truth, for scaling studies.")
register_env("IceCreamHD-v1", "causalbench.envs.high_dim:IceCreamHD",
             summary="IceCreamShorts rendered into a 64-dim nonlinear observation: roles live in latent space.")
register_env("RandomSCMLarge-v0", "causalbench.envs.random_scm_large:RandomSCMLarge",
             summary="RandomSCM at scale: 24 observed nodes, 4 hidden confounders, MLP mechanisms (scaling study).")
register_env("RandomSCMRendered-v0", "causalbench.envs.random_scm_rendered:RandomSCMRendered",
             summary="A 6-node nonlinear RandomSCM seen through a 512-dim rendering that entangles causes and proxies.")
register_env("Copycat-v0", "causalbench.envs.copycat:Copycat",
             summary="Brake-light copycat (de Haan et al. 2019): behavioural cloning latches onto the light.",
             gym_entry_point="causalbench.envs.copycat_world:CopycatGymEnv", max_episode_steps=200)
register_env("GoalMisgen-v0", "causalbench.envs.goal_misgen:GoalMisgen",
             summary="Goal misgeneralisation gridworld: in training the coin always sits by the cue.",
             gym_entry_point="causalbench.envs.goal_misgen_world:GoalMisgenGymEnv", max_episode_steps=20)

# Suites: named lists of ids (the core refers to them by name, never to an env).
register_suite("default", ("IceCreamShorts-v1", "IRMLinear-v0", "TreatmentRecovery-v0", "LabelFlip-v0", "Asia-v0",
                           "RandomSCM-v1", "IceCreamHD-v1", "GoalMisgen-v0", "Copycat-v0"),
               summary="what `causalbench run` runs by default, and the official leaderboard suite")
register_suite("scaling", ("RandomSCMRendered-v0", "RandomSCMLarge-v0"),
               summary="the capacity-hungry envs of `causalbench scaling` (nonlinear, high-dimensional Bayes predictors)")
register_suite("smoke", ("IceCreamShorts-v1", "TreatmentRecovery-v0"), summary="a quick suite to try the tooling")
register_suite("conformance", ("IceCreamShorts-v1", "TreatmentRecovery-v0", "Copycat-v0"),
               summary="one real-target decision env, one binary decision env, one multi-step env: "
                       "`causalbench.testing.check_method` tries a method on each")
