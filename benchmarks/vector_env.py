"""Gymnasium task speed: causalbench's envs vs hand-written references doing the same work, in one process.

    python benchmarks/vector_env.py [--num-envs 4096] [--runs 7]

Rows (IceCreamShorts-v1; env steps per second, one vector step of B envs counts B):
- native vector env (`vector_entry_point`, B envs) vs a plain batched-numpy bandit that draws the same
  units per step by hand (domain, temperature, ice-cream and shorts noise; obs = ice cream, action =
  run a sale a in {0, 1}, reward = shorts under do(sale = a) - 1 a), and vs gymnasium's SyncVectorEnv
  over the single env;
- single `CausalDecisionEnv` reset+step vs a plain gymnasium bandit (one unit per episode from
  `np_random`, same SCM written out by hand).
Every figure is the median of `--runs` warm runs, the implementations interleaved run by run so that
load from other processes hits them alike; ratios are of medians measured in this run.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import gymnasium as gym
import numpy as np

import causalbench  # noqa: F401  (registers the causalbench/ ids)

ENV = "IceCreamShorts-v1"
DOMAIN_MEANS = np.array([-0.5, 0.5])   # cool / warm climates: temperature ~ N(mean, 1)
A, B, C, SALE_COST = 2.0, 1.5, 2.0, 1.0


class PlainBatchedBandit:
    """The IceCreamShorts decision task for `num_envs` units per step, written by hand in numpy."""

    def __init__(self, num_envs: int, seed: int = 0) -> None:
        self.n, self.gen = num_envs, np.random.default_rng(seed)
        self._draw()

    def _draw(self) -> np.ndarray:
        g, n = self.gen, self.n
        temperature = DOMAIN_MEANS[g.integers(2, size=n)] + g.standard_normal(n)
        ice_cream = A * temperature + g.standard_normal(n)
        self.base = B * temperature + g.standard_normal(n)       # shorts without the sale
        return ice_cream.astype(np.float32)[:, None]

    def step(self, actions: np.ndarray) -> tuple:
        shorts = self.base + C * actions
        reward = shorts - SALE_COST * actions
        return self._draw(), reward, np.ones(self.n, bool), np.zeros(self.n, bool), {"outcome": shorts}


class PlainGymBandit(gym.Env):
    """The same task as a plain gymnasium env: one unit per episode drawn from `np_random`."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        g = self.np_random
        temperature = DOMAIN_MEANS[g.integers(2)] + g.standard_normal()
        self.ice_cream = A * temperature + g.standard_normal()
        self.base = B * temperature + g.standard_normal()
        return np.array([self.ice_cream], np.float32), {}

    def step(self, action: int) -> tuple:
        shorts = self.base + C * action
        return (np.array([self.ice_cream], np.float32), shorts - SALE_COST * action, True, False,
                {"outcome": shorts})


def vector_rate(env: object, steps: int, num_envs: int, actions: list[np.ndarray]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        for i in range(steps):
            env.step(actions[i % len(actions)])  # type: ignore[attr-defined]
        return steps * num_envs / (time.perf_counter() - start)
    return run


def single_rate(env: gym.Env, episodes: int) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        for i in range(episodes):
            env.reset()
            env.step(i % 2)
        return episodes / (time.perf_counter() - start)
    return run


def medians(runs: int, **fns: Callable[[], float]) -> dict[str, float]:
    """Median rate of each function over `runs` interleaved warm runs (one warm-up run each first)."""
    for fn in fns.values():
        fn()
    rates: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            rates[k].append(fn())
    return {k: float(np.median(v)) for k, v in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--sync-envs", type=int, default=64, help="sub-envs for SyncVectorEnv (its rate is per env)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    B = args.num_envs
    native = gym.make_vec(f"causalbench/{ENV}", num_envs=B, vectorization_mode="vector_entry_point")
    native.reset(seed=0)
    native.action_space.seed(0)
    acts = [native.action_space.sample() for _ in range(16)]
    plain = PlainBatchedBandit(B)
    sync = gym.make_vec(f"causalbench/{ENV}", num_envs=args.sync_envs, vectorization_mode="sync")
    sync.reset(seed=0)
    sync.action_space.seed(0)
    sync_acts = [sync.action_space.sample() for _ in range(16)]
    steps = max(20, 2_000_000 // B)
    vec = medians(args.runs, native=vector_rate(native, steps, B, acts), plain=vector_rate(plain, steps, B, acts),
                  sync=vector_rate(sync, 50, args.sync_envs, sync_acts))

    single = gym.make(f"causalbench/{ENV}").unwrapped
    single.reset(seed=0)
    bandit = PlainGymBandit()
    bandit.reset(seed=0)
    one = medians(args.runs, ours=single_rate(single, 20_000), plain=single_rate(bandit, 20_000))

    print(f"{'work':<44} {'causalbench':>14} {'reference':>14} {'ratio':>8}   reference")
    print(f"{f'native vector env, B={B} (steps/s)':<44} {vec['native']:>14,.0f} {vec['plain']:>14,.0f} "
          f"{vec['native'] / vec['plain']:>8.2f}   hand-written batched-numpy bandit, same units")
    print(f"{'':<44} {vec['native']:>14,.0f} {vec['sync']:>14,.0f} {vec['native'] / vec['sync']:>8.0f}x  "
          f"gymnasium SyncVectorEnv ({args.sync_envs} envs)")
    print(f"{'single CausalDecisionEnv reset+step (/s)':<44} {one['ours']:>14,.0f} {one['plain']:>14,.0f} "
          f"{one['ours'] / one['plain']:>8.2f}   hand-written gymnasium bandit")
    print(f"\nmedians of {args.runs} warm runs, interleaved; hand-tuned numpy = the batched bandit "
          f"({vec['plain']:,.0f} steps/s)")


if __name__ == "__main__":
    main()
