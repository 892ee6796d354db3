"""Streaming generation: peak memory and time of `causalbench generate` vs building the dataset in memory.

    python benchmarks/generate.py [--dir /tmp] [--big 1e8]

Each row runs in a fresh interpreter (so its peak RSS is its own) and reports wall time, CPU time
and peak resident memory:
- RandomSCM-v1, 1e7 rows to parquet: `generate` (streams blocks) vs the in-memory path it replaced
  (`env.dataset(...).save(path)`), beside the raw size of the sampled variables (n x p float64);
- IceCreamShorts-v1, --big rows (default 1e8) to parquet with `generate`: the case that must work in
  bounded memory (the in-memory path would need ~13 GB, and is not run);
- `python -c pass`'s peak RSS, the interpreter floor.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
mode, env_id, n, out = sys.argv[1], sys.argv[2], int(float(sys.argv[3])), sys.argv[4]
if mode == "stream":
    from causalbench.cli import main
    assert main(["generate", env_id, "--n", str(n), "--out", out]) == 0
elif mode == "memory":
    import causalbench as cb
    cb.make(env_id).dataset("observational", n, 0).save(out)
print("RESULT", time.perf_counter() - t0, time.process_time() - c0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(mode: str, env_id: str, n: float, out: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS bytes) of one child."""
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, env_id, repr(n), str(out)], capture_output=True,
                          text=True, check=True)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    wall, cpu, rss = (float(v) for v in line.split()[1:])
    if out.exists():
        out.unlink()
    return wall, cpu, rss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the files go (deleted after)")
    parser.add_argument("--big", type=float, default=1e8, help="rows of IceCreamShorts-v1 to stream")
    args = parser.parse_args()
    folder = Path(args.dir)
    t = time.perf_counter()
    floor = subprocess.run([sys.executable, "-c", "import resource; print(resource.getrusage(resource.RUSAGE_SELF)"
                            ".ru_maxrss)"], capture_output=True, text=True, check=True)
    print(f"python -c pass: peak RSS {int(floor.stdout) / 1024:,.0f} MB")
    print(f"{'env':<18} {'rows':>6} {'path':<22} {'wall s':>7} {'CPU s':>7} {'peak RSS':>10} {'raw sample':>11}")
    import causalbench as cb

    p_random = len(cb.make("RandomSCM-v1").scm.names)
    for mode, label in (("stream", "generate (streamed)"), ("memory", "dataset().save (old)")):
        wall, cpu, rss = run(mode, "RandomSCM-v1", 1e7, folder / f"bench-{os.getpid()}.parquet")
        print(f"{'RandomSCM-v1':<18} {1e7:>6.0e} {label:<22} {wall:>7.1f} {cpu:>7.1f} {rss / 2**20:>7,.0f} MB "
              f"{1e7 * p_random * 8 / 2**20:>8,.0f} MB")
    p_ice = len(cb.make("IceCreamShorts-v1").scm.names)
    wall, cpu, rss = run("stream", "IceCreamShorts-v1", args.big, folder / f"bench-{os.getpid()}.parquet")
    print(f"{'IceCreamShorts-v1':<18} {args.big:>6.0e} {'generate (streamed)':<22} {wall:>7.1f} {cpu:>7.1f} "
          f"{rss / 2**20:>7,.0f} MB {args.big * p_ice * 8 / 2**20:>8,.0f} MB")
    print(f"(total {time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
