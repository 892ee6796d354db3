"""The scorer: OOD risk, causal vs spurious reliance, effect error, regret, seed disagreement."""

from .aggregate import Summary, summarize
from .score import regret, score, score_predictions, seed_disagreement, suite_inputs
from .scores import Scores
from .suite import EvalSuite, get_suite

__all__ = ["Scores", "Summary", "summarize", "score", "score_predictions", "regret", "seed_disagreement",
           "suite_inputs", "EvalSuite", "get_suite"]
