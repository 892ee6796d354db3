"""Built-in baselines: one file per method, one `register_method` line each (lazy entry points).

The same class may be registered twice with different tracks (e.g. ERM on observational
and on interventional data): the data differ, the learner does not.
"""

from causalbench.experiments.reproduce import register_reproduction
from causalbench.methods import register_method, register_method_set

register_method("erm-causal-features", "causalbench.baselines.causal_features:CausalFeaturesMLP",
                track="observational",
                summary="Privileged: the ERM-MLP on the causal feature columns only (it is told the roles).")
register_method("erm-linear", "causalbench.baselines.erm_linear:ErmLinear", track="observational",
                summary="ERM with a linear model (OLS / logistic regression) on observational data.")
register_method("erm-mlp", "causalbench.baselines.erm_mlp:ErmMLP", track="observational",
                summary="ERM with an MLP (torch) on observational data.")
register_method("scaled-mlp", "causalbench.baselines.scaled_mlp:ScaledMLP", track="observational", main_run=False,
                summary="ERM with an MLP of any width and depth, trained to convergence by early stopping (scaling study).")
register_method("continual", "causalbench.baselines.continual:ContinualFinetune", track="observational+domains",
                protocol="continual", summary="ERM-MLP fine-tuned domain by domain, without access to earlier stages.")
register_method("continual-replay", "causalbench.baselines.continual:ContinualFinetune",
                track="observational+domains", protocol="continual", replay=0.2,
                summary="Continual fine-tuning with a small replay buffer of earlier stages.")
register_method("irm", "causalbench.baselines.irm:IRM", track="observational+domains",
                summary="Invariant Risk Minimization (IRMv1 penalty) across training domains.")
register_method("vrex", "causalbench.baselines.vrex:VREx", track="observational+domains",
                summary="V-REx: penalise the variance of risks across training domains.")
register_method("groupdro", "causalbench.baselines.groupdro:GroupDRO", track="observational+domains",
                summary="Group DRO: minimise the worst training-domain risk.")
register_method("erm-linear-int", "causalbench.baselines.erm_linear:ErmLinear", track="interventional",
                summary="The same linear ERM trained on interventional data.")
register_method("erm-mlp-int", "causalbench.baselines.erm_mlp:ErmMLP", track="interventional",
                summary="The same ERM-MLP trained on interventional data.")
register_method("vrex-int", "causalbench.baselines.vrex:VREx", track="interventional",
                summary="V-REx across intervention regimes (rows grouped by which variables were randomised).")
register_method("offline-policy", "causalbench.baselines.offline_policy:OfflinePolicy", track="observational",
                summary="Decision envs: per-action outcome model fitted on logged (confounded) data.")
register_method("online-bandit", "causalbench.baselines.online_bandit:OnlineBandit", track="online",
                summary="Decision envs: Thompson-sampling contextual bandit learning by acting.")
register_method("tabular-q", "causalbench.baselines.tabular_q:TabularQ", track="online",
                summary="Multi-step envs: tabular Q-learning from reward in the deployment dynamics.")

register_method_set("scaling", ("scaled-mlp",),
                    summary="what `causalbench scaling` trains: an MLP family of width x depth, fine-tunable")
register_reproduction("irm2019", "causalbench.baselines.irm2019:IRM2019",
                      summary="Arjovsky et al. (2019) sec. 5.2: ERM vs IRM causal / non-causal errors on the chain SEM")
