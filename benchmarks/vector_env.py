"""Vector env speed: the native batched-numpy decision env vs gymnasium's SyncVectorEnv, same env, same process.

    python benchmarks/vector_env.py [--env IceCreamShorts-v1] [--num-envs 4096]

Prints environment steps per second (sub-env steps: one vector step of N envs counts N)
for the native `vector_entry_point` env and for SyncVectorEnv over the single env, and
their ratio. Random actions from the action space; one-step episodes autoreset.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import causalbench  # noqa: F401  (registers the causalbench/ ids)


def steps_per_second(env: gym.vector.VectorEnv, seconds: float) -> float:
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(16)]
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(actions[steps % 16])
        steps += 1
    return steps * env.num_envs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="IceCreamShorts-v1")
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--sync-envs", type=int, default=64, help="sub-envs for SyncVectorEnv (its rate is per step)")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    gym_id = f"causalbench/{args.env}"
    native = gym.make_vec(gym_id, num_envs=args.num_envs, vectorization_mode="vector_entry_point")
    sync = gym.make_vec(gym_id, num_envs=args.sync_envs, vectorization_mode="sync")
    fast = steps_per_second(native, args.seconds)
    slow = steps_per_second(sync, args.seconds)
    print(f"{args.env}: native vector env ({args.num_envs} envs) {fast:,.0f} steps/s; "
          f"SyncVectorEnv ({args.sync_envs} envs) {slow:,.0f} steps/s; ratio {fast / slow:,.0f}x")


if __name__ == "__main__":
    main()
