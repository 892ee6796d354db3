"""RandomSCM build time against its size: is it linear in the number of edges?

    python benchmarks/random_scm_build.py [--nodes 300,600,1000] [--runs 5]

For each size (default options otherwise: density 0.3, tanh) prints the median wall time of
`causalbench.make("RandomSCM-v0", n_nodes=...)` over `--runs` warm runs, the edge count, microseconds
per edge, and how much of the build is the `SCM(...)` constructor (graph and role validation, timed
by rebuilding the same SCM from its variables) versus the RandomSCM builder (layout, roles, pilot,
mechanisms). Reference: a pure numpy pass over the same pilot work (4,096 pilot units x edges, one
multiply-add each), the hand-written floor of a builder that must touch every edge's pilot column.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import causalbench as cb
from causalbench.scm import SCM


def median_time(fn, runs: int) -> float:
    ts = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - start)
    return float(np.median(ts))


def pilot_floor(env: cb.CausalEnv, runs: int) -> float:
    """One einsum per node over its parents' pilot rows: the arithmetic any pilot-scaled builder does."""
    order = env.scm.order
    row = {v: i for i, v in enumerate(order)}
    P = np.random.default_rng(0).standard_normal((len(order), 4096))
    parents = [[row[p] for p in env.scm.parents(v)] for v in order]
    weights = [np.ones(len(ps)) for ps in parents]

    def run() -> None:
        for ps, w in zip(parents, weights):
            if ps:
                np.einsum("i,ij->j", w, np.take(P, ps, axis=0))

    return median_time(run, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", default="300,600,1000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'n_nodes':>7} {'edges':>8} {'build s':>8} {'us/edge':>8} {'SCM() s':>8} {'builder s':>10} "
          f"{'pilot floor s':>14}")
    for n in (int(x) for x in args.nodes.split(",")):
        cb.make("RandomSCM-v0", n_nodes=n)  # warm-up (imports, caches)
        total = median_time(lambda: cb.make("RandomSCM-v0", n_nodes=n), args.runs)
        env = cb.make("RandomSCM-v0", n_nodes=n)
        variables = list(env.scm.variables.values())
        ctor = median_time(lambda: SCM(variables, name=env.id), args.runs)
        edges = env.scm.graph.number_of_edges()
        floor = pilot_floor(env, args.runs)
        print(f"{n:>7} {edges:>8,} {total:>8.2f} {total / edges * 1e6:>8.1f} {ctor:>8.2f} {total - ctor:>10.2f} "
              f"{floor:>14.2f}")
    print(f"\nmedians of {args.runs} warm runs; 'builder' = build minus the SCM constructor "
          "(networkx cycle check and role validation, outside envs/random_scm.py)")


if __name__ == "__main__":
    main()
