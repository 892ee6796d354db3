"""Built-in baselines: one file per method, one `register_method` line each (lazy entry points).

The same class may be registered twice with different tracks (e.g. ERM on observational
and on interventional data): the data differ, the learner does not.
"""

from causalbench.methods import register_method

register_method("erm-linear", "causalbench.baselines.erm_linear:ErmLinear", track="observational",
                summary="ERM with a linear model (OLS / logistic regression) on observational data.")
register_method("erm-linear-int", "causalbench.baselines.erm_linear:ErmLinear", track="interventional",
                summary="The same linear ERM trained on interventional data.")
