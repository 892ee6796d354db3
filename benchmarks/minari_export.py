"""Minari export speed: episodes/s of `to_minari` for one-step logged episodes, at growing sizes.

    python benchmarks/minari_export.py [--sizes 200,1000,10000] [--env TreatmentRecovery-v0]

The export must be linear in episodes (episodes/s roughly flat across sizes). Before the fix,
Minari re-measured the whole dataset folder after every episode: 200 episodes took 6.7 s and
1,000 took 106 s on a 2-core machine. Datasets go to a temporary MINARI_DATASETS_PATH.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import causalbench as cb
from causalbench.env.offline import logged_episodes, to_minari


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1000,10000", help="comma-separated episode counts")
    parser.add_argument("--env", default="TreatmentRecovery-v0", help="a single-step decision env")
    args = parser.parse_args()
    env = cb.make(args.env)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MINARI_DATASETS_PATH"] = tmp
        print(f"{'episodes':>9} {'seconds':>8} {'episodes/s':>11}")
        for n in (int(float(s)) for s in args.sizes.split(",")):
            data = logged_episodes(env, n, seed=0)
            t = time.perf_counter()
            dataset = to_minari(env.id, data, f"causalbench/bench/logged{n}-v0")
            seconds = time.perf_counter() - t
            assert dataset.total_episodes == n
            print(f"{n:>9} {seconds:>8.2f} {n / seconds:>11.0f}")


if __name__ == "__main__":
    main()
