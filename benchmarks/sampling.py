"""Sampling speed: causalbench's engine vs hand-written numpy, pgmpy and the raw RNG, in one process.

    python benchmarks/sampling.py [--runs 5] [--quick]

Rows (rows/s = sampled units per CPU second; every figure is the median of `--runs` warm runs, the
implementations interleaved run by run in a rotating order so that load from other processes and
cold caches hit them alike, each run with a fresh seed; ratios are of medians in this run, at equal n):
- discrete networks (pgmpy's asia, sachs, alarm, child, insurance, imported with `SCM.from_pgmpy`),
  observational: ours vs a hand-tuned numpy inverse-CDF sampler written against the pgmpy CPDs (one
  generator, uniforms drawn straight into each float64 output column, parent states as uint8 codes,
  thresholds gathered by small-int fancy indexing: the same output, an (n, p) float64 matrix), vs the
  uniform-draw floor (numpy drawing n * p uniforms), and vs pgmpy `forward_sample` at n = 1e5; "cached"
  is ours with one repeated seed (its streams' seed words cached: what a fresh seed costs extra);
- do() on the middle node: ours vs the hand-tuned sampler with that node fixed vs pgmpy's comparable
  path, `model.do([node])` + `forward_sample(partial_samples=...)`, at n = 1e5;
- linear-Gaussian RandomSCM (nonlinearity="linear") with 50 and 300 nodes: ours (`scm.sample`, whose
  bytes are pinned: column by column, one pass per edge) and `scm.sample_linear` (one triangular
  matrix product, the same noise and law, float rounding of a different order), vs a hand-written
  column-by-column numpy sampler, a hand-written one-pass product, and the normal-draw floor.
BLAS runs on one thread (OMP_NUM_THREADS=1 unless set), as in the runner's workers and the tests.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one BLAS thread, as the runner's workers and the tests use

import argparse
import time
import warnings
from typing import Any, Callable

import numpy as np

import causalbench as cb
from causalbench.scm import SCM

NETWORKS = ("asia", "sachs", "alarm", "child", "insurance")
PGMPY_N = 100_000


def medians(fns: dict[str, Callable[[int], Any]], runs: int) -> dict[str, float]:
    """Median CPU seconds of each fn(seed), interleaved run by run after one warm-up run each.

    The order rotates every run, so each implementation follows each other one (e.g. pgmpy, which
    leaves the caches cold) equally often: a fixed order would charge that to whoever comes next.
    """
    times: dict[str, list[float]] = {k: [] for k in fns}
    names = list(fns)
    for run in range(runs + 1):
        for name in names[run % len(names):] + names[:run % len(names)]:
            t = time.process_time()
            fns[name](1000 + run)
            if run:
                times[name].append(time.process_time() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


def load(name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.utils import get_example_model

        return get_example_model(name)


class HandDiscrete:
    """A hand-tuned numpy inverse-CDF sampler for a pgmpy discrete network (no causalbench code)."""

    def __init__(self, model: Any) -> None:
        import networkx as nx

        order = list(nx.lexicographical_topological_sort(nx.DiGraph(list(model.edges()))))
        order += [v for v in model.nodes() if v not in order]
        self.names, pos = order, {v: i for i, v in enumerate(order)}
        self.nodes = []
        for v in order:
            cpd = model.get_cpds(v)
            cum = np.cumsum(cpd.get_values(), axis=0)[:-1].copy()
            parents = [pos[p] for p in cpd.variables[1:]]
            cards = [int(c) for c in cpd.cardinality[1:]]
            size = int(np.prod(cards)) if cards else 1
            dtype = np.uint8 if size <= 256 else np.uint16 if size <= 65536 else np.intp
            self.nodes.append((pos[v], parents, cards, cum, dtype))

    def sample(self, n: int, seed: int, fixed: dict[int, float] | None = None) -> np.ndarray:
        gen, fixed = np.random.default_rng(seed), fixed or {}
        out = np.empty((n, len(self.nodes)), order="F")
        codes: list[np.ndarray | None] = [None] * len(self.nodes)
        u, hit = np.empty(n), np.empty(n, dtype=bool)
        for j, parents, cards, cum, dtype in self.nodes:
            col = out[:, j]
            if j in fixed:
                col.fill(fixed[j])
                codes[j] = col.astype(np.uint8)
                continue
            if not parents:
                idx = None
            elif len(parents) == 1:
                idx = codes[parents[0]]
            else:
                idx = np.multiply(codes[parents[0]], cards[1], dtype=dtype)
                for i, (q, c) in enumerate(zip(parents[1:], cards[1:]), 1):
                    if i > 1:
                        idx *= c
                    np.add(idx, codes[q], out=idx, dtype=dtype)
            target = col if cum.shape[0] == 1 else u
            gen.random(out=target)
            for k in range(cum.shape[0]):
                thr = cum[k, 0] if idx is None else cum[k][idx]
                if k == 0:
                    np.greater_equal(target, thr, out=col)
                else:
                    np.greater_equal(u, thr, out=hit)
                    col += hit
            codes[j] = col.astype(np.uint8)
        return out


class HandLinear:
    """Hand-written linear-Gaussian samplers from (order, intercepts, weights, sds): column by column,
    and as one matrix product X = (c + E diag(sd)) (I - W)^-1."""

    def __init__(self, scm: SCM) -> None:
        self.order = scm.order
        pos = {v: i for i, v in enumerate(self.order)}
        p = len(self.order)
        self.c, self.sd, W = np.zeros(p), np.zeros(p), np.zeros((p, p))
        self.parents: list[list[tuple[int, float]]] = []
        for j, v in enumerate(self.order):
            c, w, sd = scm.mechanism(v).linear_form()  # type: ignore[misc]
            self.c[j], self.sd[j] = c, sd
            self.parents.append([(pos[q], float(x)) for q, x in w.items()])
            for q, x in w.items():
                W[pos[q], j] = x
        M = np.linalg.inv(np.eye(p) - W)
        self.SM, self.cM = self.sd[:, None] * M, self.c @ M

    def columns(self, n: int, seed: int) -> np.ndarray:
        gen = np.random.default_rng(seed)
        out = np.empty((n, len(self.order)), order="F")
        tmp = np.empty(n)
        for j, parents in enumerate(self.parents):
            col = out[:, j]
            gen.standard_normal(out=col)
            col *= self.sd[j]
            col += self.c[j]
            for q, w in parents:
                np.multiply(out[:, q], w, out=tmp)
                col += tmp
        return out

    def product(self, n: int, seed: int) -> np.ndarray:
        E = np.random.default_rng(seed).standard_normal((len(self.order), n)).T
        X = E @ self.SM
        X += self.cM
        return X


def discrete_rows(runs: int, networks: tuple[str, ...], sizes: tuple[int, ...]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.sampling import BayesianModelSampling
    print("Discrete networks, observational (rows/s; ratios of medians in this run)")
    print(f"{'network':<10} {'p':>3} {'n':>8} {'ours':>11} {'hand-tuned':>11} {'ours/hand':>9} {'cached/hand':>11} "
          f"{'floor':>11} {'ours/floor':>10} {'hand/floor':>10} {'pgmpy':>9} {'ours/pgmpy':>10} {'hand/pgmpy':>10}")
    for name in networks:
        model = load(name)
        scm = SCM.from_pgmpy(model, name=name)
        hand, p = HandDiscrete(model), len(scm.names)
        for n in sizes:
            fns = {"ours": lambda s, n=n: scm.sample(n, seed=s), "hand": lambda s, n=n: hand.sample(n, s),
                   "cached": lambda s, n=n: scm.sample(n, seed=1),
                   "floor": lambda s, n=n: np.random.default_rng(s).random(n * p)}
            if n == PGMPY_N:
                sampler = BayesianModelSampling(model)
                fns["pgmpy"] = lambda s, n=n: sampler.forward_sample(size=n, seed=s, show_progress=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = medians(fns, runs)
            r = {k: n / v for k, v in t.items()}
            pg = (f"{r['pgmpy']:>9,.0f} {r['ours'] / r['pgmpy']:>9.0f}x {r['hand'] / r['pgmpy']:>9.0f}x"
                  if "pgmpy" in r else f"{'-':>9} {'-':>10} {'-':>10}")
            print(f"{name:<10} {p:>3} {n:>8.0e} {r['ours']:>11,.0f} {r['hand']:>11,.0f} {r['ours'] / r['hand']:>9.2f} "
                  f"{r['cached'] / r['hand']:>11.2f} {r['floor']:>11,.0f} {r['ours'] / r['floor']:>10.2f} {r['hand'] / r['floor']:>10.2f} {pg}")


def do_rows(runs: int, networks: tuple[str, ...]) -> None:
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.sampling import BayesianModelSampling
    n = PGMPY_N
    print(f"\ndo(middle node = state 0), n = {n:.0e} (rows/s)")
    print(f"{'network':<10} {'node':<14} {'ours':>11} {'hand-tuned':>11} {'ours/hand':>9} {'pgmpy do+partial':>17} "
          f"{'ours/pgmpy':>10} {'hand/pgmpy':>10}")
    for name in networks:
        model = load(name)
        scm = SCM.from_pgmpy(model, name=name)
        hand = HandDiscrete(model)
        node = scm.order[len(scm.order) // 2]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mutilated = model.do([node])
            sampler = BayesianModelSampling(mutilated)
            partial = pd.DataFrame({node: np.zeros(n, dtype=int)})
            fixed = {hand.names.index(node): 0.0}
            t = medians({"ours": lambda s: scm.sample(n, seed=s, do={node: 0.0}),
                         "hand": lambda s: hand.sample(n, s, fixed),
                         "pgmpy": lambda s: sampler.forward_sample(size=n, seed=s, partial_samples=partial,
                                                                  show_progress=False)}, runs)
        r = {k: n / v for k, v in t.items()}
        print(f"{name:<10} {node[:14]:<14} {r['ours']:>11,.0f} {r['hand']:>11,.0f} {r['ours'] / r['hand']:>9.2f} "
              f"{r['pgmpy']:>17,.0f} {r['ours'] / r['pgmpy']:>9.0f}x {r['hand'] / r['pgmpy']:>9.0f}x")


def linear_rows(runs: int, node_counts: tuple[int, ...], n: int) -> None:
    print(f"\nLinear-Gaussian RandomSCM, n = {n:.0e} (rows/s; floor = numpy drawing n * p standard normals)")
    print(f"{'nodes':>5} {'p':>4} {'edges':>6} {'ours':>10} {'ours/floor':>10} {'ours 1-pass':>11} {'1-pass/floor':>12} "
          f"{'hand cols':>10} {'hand/floor':>10} {'hand 1-pass':>11} {'hand1p/floor':>12} {'floor':>10}")
    for nodes in node_counts:
        scm = cb.make("RandomSCM-v1", n_nodes=nodes, nonlinearity="linear").scm
        hand, p = HandLinear(scm), len(scm.names)
        edges = sum(len(scm.parents(v)) for v in scm.names)
        t = medians({"ours": lambda s: scm.sample(n, seed=s), "solve": lambda s: scm.sample_linear(n, seed=s),
                     "cols": lambda s: hand.columns(n, s), "product": lambda s: hand.product(n, s),
                     "floor": lambda s: np.random.default_rng(s).standard_normal(n * p)}, runs)
        r = {k: n / v for k, v in t.items()}
        f = r["floor"]
        print(f"{nodes:>5} {p:>4} {edges:>6} {r['ours']:>10,.0f} {r['ours'] / f:>10.2f} {r['solve']:>11,.0f} "
              f"{r['solve'] / f:>12.2f} {r['cols']:>10,.0f} {r['cols'] / f:>10.2f} {r['product']:>11,.0f} "
              f"{r['product'] / f:>12.2f} {f:>10,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median; default 5)")
    parser.add_argument("--quick", action="store_true", help="asia only, n = 1e4 (a smoke run, not a figure)")
    parser.add_argument("--only", choices=("discrete", "do", "linear"), default=None)
    args = parser.parse_args()
    networks = ("asia",) if args.quick else NETWORKS
    if args.only in (None, "discrete"):
        discrete_rows(args.runs, networks, (10_000,) if args.quick else (PGMPY_N, 1_000_000))
    if args.only in (None, "do"):
        do_rows(args.runs, networks)
    if args.only in (None, "linear"):
        linear_rows(args.runs, (50,) if args.quick else (50, 300), 10_000 if args.quick else 100_000)


if __name__ == "__main__":
    main()
