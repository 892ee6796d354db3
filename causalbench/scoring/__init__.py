"""The scorer: OOD excess risk, causal vs spurious reliance, effect error, regret, seed disagreement."""

from .aggregate import Summary, summarize
from .metrics import HEADLINE, METRICS, Metric
from .policy import PolicyScores, score_policy
from .score import score, score_predictions, seed_disagreement, suite_inputs
from .scores import Scores
from .suite import EvalSuite, get_suite

__all__ = ["Scores", "Summary", "summarize", "score", "score_predictions", "seed_disagreement", "suite_inputs",
           "EvalSuite", "get_suite", "METRICS", "HEADLINE", "Metric", "PolicyScores", "score_policy"]
