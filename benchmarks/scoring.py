"""Scoring cost: one linear predictor on one env with default test-set sizes, cold and cached.

    python benchmarks/scoring.py

"cold" builds the evaluation suite (test sets, probes, ground truth) for a new seed;
"cached" re-scores with the suite already in memory (the common case in sweeps).
"""

from __future__ import annotations

import time

import numpy as np

import causalbench as cb
from causalbench.scoring import get_suite


def main() -> None:
    print(f"{'env':<22} {'rows scored':>12} {'cold s':>8} {'cached s':>9}")
    for env_id in cb.list_envs():
        env = cb.make(env_id)
        w = np.random.default_rng(0).normal(size=len(env.feature_names))
        kind = env.target_kind
        predict = (lambda X: X @ w) if kind == "real" else (lambda X: 1 / (1 + np.exp(-np.clip(X @ w, -30, 30))))
        env.null_prediction, env.target_scale  # ground-truth constants are per env, not per seed
        start = time.perf_counter()
        cb.score(predict, env, seed=101)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(5):
            cb.score(predict, env, seed=101)
        cached = (time.perf_counter() - start) / 5
        print(f"{env_id:<22} {get_suite(env, 101).n_rows:>12,} {cold:>8.3f} {cached:>9.4f}")


if __name__ == "__main__":
    main()
