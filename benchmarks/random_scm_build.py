"""RandomSCM build time against its size: is it linear in the number of edges?

    python benchmarks/random_scm_build.py [--nodes 100,300,600] [--runs 5]

For each size (default options otherwise: density 0.3, tanh) prints medians over `--runs` warm runs of:
the whole `causalbench.make("RandomSCM-v1", n_nodes=...)`; its parts in envs/random_scm.py (the layout,
the pilot-scaled mechanisms: `build_scm`); and the `SCM(...)` constructor on the same variables (graph
and role validation in causalbench/scm/model.py). Reference: a hand-written numpy pass over the same
pilot work (gather each node's parent rows of 4,096 pilot units, one weighted sum), the floor of any
builder that scales mechanisms on a pilot sample.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import causalbench as cb
from causalbench.envs.random_scm import random_layout
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
    parser.add_argument("--nodes", default="100,300,600")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'n_nodes':>7} {'edges':>8} {'make s':>7} {'us/edge':>8} {'layout s':>9} "
          f"{'build_scm s':>12} {'SCM() s':>8} {'pilot floor s':>14} {'build/floor':>12}")
    for n in (int(x) for x in args.nodes.split(",")):
        env = cb.make("RandomSCM-v1", n_nodes=n)  # warm-up (imports, caches)
        o = env.options
        total = median_time(lambda: cb.make("RandomSCM-v1", n_nodes=n), args.runs)
        layout = median_time(lambda: random_layout(n, o["n_hidden"], o["density"], o["graph_seed"]), args.runs)
        mechs = median_time(env.build_scm, args.runs)
        variables = list(env.scm.variables.values())
        ctor = median_time(lambda: SCM(variables, name=env.id), args.runs)
        edges = env.scm.graph.number_of_edges()
        floor = pilot_floor(env, args.runs)
        print(f"{n:>7} {edges:>8,} {total:>7.2f} {total / edges * 1e6:>8.1f} {layout:>9.3f} "
              f"{mechs:>12.2f} {ctor:>8.2f} {floor:>14.2f} {mechs / floor:>12.2f}")
    print(f"\nmedians of {args.runs} warm runs; 'make' also includes the SCM constructor, the env's domain and "
          "shift validation and the back-door check")


if __name__ == "__main__":
    main()
