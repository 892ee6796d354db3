"""Sampling speed: causalbench's vectorised engine vs pgmpy and vs the raw numpy RNG, in one process.

    python benchmarks/sampling.py [--quick]

Prints rows/s for observational and do() sampling at n = 1e5 and 1e6 on discrete
networks (pgmpy's bundled asia / sachs / alarm, imported with SCM.from_pgmpy) and
on a 20-node linear-Gaussian SCM, next to pgmpy's BayesianModelSampling.forward_sample
and simulate(do=...) on the same networks, and numpy's raw uniform / normal generation
for the same number of draws. Ratios are measured in this run, on this machine.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Callable

import numpy as np

from causalbench.scm import SCM, Linear, Normal, Variable


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def load_network(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.utils import get_example_model

        return get_example_model(name)


def linear_gaussian(p: int = 20, seed: int = 0) -> SCM:
    gen = np.random.default_rng(seed)
    variables = [Variable("x0", Normal())]
    for i in range(1, p):
        parents = {f"x{j}": float(gen.normal(0, 0.5)) for j in range(i) if gen.random() < 0.2}
        variables.append(Variable(f"x{i}", Linear(parents, std=1.0)))
    return SCM(variables, name="linear20")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller n and fewer networks (smoke run)")
    args = parser.parse_args()
    sizes = (10_000,) if args.quick else (100_000, 1_000_000)
    networks = ("asia",) if args.quick else ("asia", "sachs", "alarm")
    gen = np.random.default_rng(0)

    print(f"{'network':<9} {'n':>9} {'ours rows/s':>13} {'do() rows/s':>13} {'raw RNG rows/s':>15} "
          f"{'ours/RNG':>9} {'pgmpy rows/s':>13} {'ours/pgmpy':>11} {'do: ours/pgmpy':>15}")
    for name in networks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgmpy.sampling import BayesianModelSampling

            model = load_network(name)
            scm = SCM.from_pgmpy(model, target=None, name=name)
        p = len(scm.names)
        mid = scm.order[len(scm.order) // 2]
        for n in sizes:
            ours = n / best_time(lambda: scm.sample(n, seed=1))
            ours_do = n / best_time(lambda: scm.sample(n, seed=1, do={mid: 0.0}))
            raw = n / best_time(lambda: gen.random(n * p))
            n_pg = min(n, 100_000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sampler = BayesianModelSampling(model)
                state = model.get_cpds(mid).state_names[mid][0]
                pg = n_pg / best_time(lambda: sampler.forward_sample(size=n_pg, seed=1, show_progress=False), 1)
                n_do = 2_000
                pg_do = n_do / best_time(lambda: model.simulate(n_samples=n_do, do={mid: state}, seed=1,
                                                                 show_progress=False), 1)
            print(f"{name:<9} {n:>9.0e} {ours:>13,.0f} {ours_do:>13,.0f} {raw:>15,.0f} {ours / raw:>9.2f} "
                  f"{pg:>13,.0f} {ours / pg:>11.0f} {ours_do / pg_do:>15.0f}")

    scm = linear_gaussian()
    p = len(scm.names)
    for n in sizes:
        ours = n / best_time(lambda: scm.sample(n, seed=1))
        raw = n / best_time(lambda: gen.standard_normal(n * p))
        ours_do = n / best_time(lambda: scm.sample(n, seed=1, do={"x10": 1.0}))
        print(f"{'linear20':<9} {n:>9.0e} {ours:>13,.0f} {ours_do:>13,.0f} {raw:>15,.0f} {ours / raw:>9.2f} "
              f"{'-':>13} {'-':>11} {'-':>15}")
    print("\nraw RNG rows/s = numpy draws of the same number of uniforms (discrete) or normals (linear) per row;\n"
          "pgmpy forward_sample is timed at n = min(n, 1e5), simulate(do=...) at n = 2000 (it is slow).")


if __name__ == "__main__":
    main()
