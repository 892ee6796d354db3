"""`causalbench generate`: datasets, test sets and logged episodes to files (or a Minari dataset).

Training datasets stream to disk block by block (`env.export`): memory stays bounded whatever --n,
and the file holds exactly the rows of `env.dataset(kind, n, seed)`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..env.export import write
from ..env.offline import logged_episodes, to_minari
from ..env.registry import make
from ..env.stream import row_bytes
from ..errors import CausalBenchError
from ..resources import check_memory
from ..seeding import check_n
from .common import Handler, integer, rows


def configure_generate(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("env", help="environment id")
    p.add_argument("--kind", default="observational",
                   help="observational | domains | interventional | test (all test sets, one file each) | "
                        "logged (offline episodes of the gym task: .npz, or a Minari dataset with --minari)")
    p.add_argument("--n", default="10000", help="number of rows (default 10000)")
    p.add_argument("--seed", default="0", help="seed (default 0)")
    p.add_argument("--p", type=float, default=0.5, help="interventional: per-variable randomisation probability")
    p.add_argument("--fraction", type=float, default=1.0, help="interventional: fraction of units eligible")
    p.add_argument("--out", default=None, help="output file; suffix picks the format (.parquet/.csv/.npz)")
    p.add_argument("--minari", metavar="DATASET_ID", default=None,
                   help="with --kind logged: write a Minari dataset (e.g. causalbench/icecream/logged-v0)")

    def run(args: argparse.Namespace) -> int:
        env = make(args.env)
        args.seed = integer(args.seed, "--seed", minimum=0)
        if args.minari and args.kind != "logged":
            raise CausalBenchError("--minari writes logged episodes: add --kind logged")
        if args.kind == "logged":   # episodes are built in memory; datasets below are streamed to disk
            args.n = rows(args.n, "--n", len(env.scm.names) + len(env.feature_names))
            return _generate_logged(env, args)
        args.n = integer(args.n, "--n", minimum=1)
        if args.out is None:
            raise CausalBenchError("--out FILE is required")
        if args.kind == "test":
            check_memory(args.n * row_bytes(env) * len(env.test_set_names()), f"{env.id}: test sets of n={args.n:,}",
                         "use a smaller --n")
            out = Path(args.out)
            for name, ds in env.test_sets(seed=args.seed, n=args.n).items():
                path = ds.save(out.with_name(f"{out.stem}.{name.replace('@', '_at_')}{out.suffix}"))
                print(f"wrote {path} ({ds.n} rows, fingerprint {ds.fingerprint[:12]})")
            return 0
        kind = "domains" if args.kind == "observational+domains" else args.kind
        done = write(env, kind, check_n(args.n), args.seed, args.out, p=args.p, fraction=args.fraction)
        names = env.feature_names if done.d <= 8 else (*env.feature_names[:3], "...", env.feature_names[-1])
        print(f"wrote {done.path}: {done.n} rows x {done.d} features ({', '.join(names)}), "
              f"target {env.target}, fingerprint {done.fingerprint[:12]}")
        return 0

    return run


def _generate_logged(env: object, args: argparse.Namespace) -> int:
    data = logged_episodes(env, args.n, args.seed)  # type: ignore[arg-type]
    if args.minari:
        dataset = to_minari(env.id, data, args.minari)  # type: ignore[attr-defined]
        print(f"wrote Minari dataset {args.minari}: {dataset.total_episodes} episodes, {dataset.total_steps} steps")
        return 0
    if args.out is None or not args.out.endswith(".npz"):
        raise CausalBenchError("--kind logged writes .npz arrays (--out FILE.npz) or a Minari dataset (--minari ID)")
    with open(args.out, "wb") as fh:
        np.savez_compressed(fh, **data)
    print(f"wrote {args.out}: {len(data['actions'])} steps of {len(np.unique(data['episode_ids']))} episodes")
    return 0
