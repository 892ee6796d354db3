"""`causalbench run` (the main job) and `causalbench report` (rebuild tables and plots from records)."""

from __future__ import annotations

import argparse

from ..env.registry import suite
from ..experiments.config import DEFAULT_SUITE, RunConfig
from ..experiments.results import read_records, saved_config
from ..experiments.launchers import LAUNCHERS
from ..experiments.sweep import default_out_dir, plan_run
from ..experiments.sweep import run as run_sweep
from ..reports.run import compact_table, write_report
from .common import Handler, _csv, _seeds


def configure_run(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("--envs", type=_csv, default=None, help=f"comma-separated env ids (default: the {DEFAULT_SUITE!r} suite, {','.join(suite(DEFAULT_SUITE))})")
    p.add_argument("--methods", type=_csv, default=None, help="comma-separated methods (default: all that apply)")
    p.add_argument("--seeds", type=_seeds, default=None, help="'3' = seeds 0,1,2 (default) or a list '0,5,7'")
    p.add_argument("--track", type=_csv, default=None,
                   help="only methods on these tracks: observational, observational+domains, interventional, online")
    p.add_argument("--n-train", type=lambda s: int(float(s)), default=None, help="training rows (default 5000)")
    p.add_argument("--n-test", type=lambda s: int(float(s)), default=None, help="rows per test set (default 2000)")
    p.add_argument("--out", default=None, help="output folder (default results/<timestamp>)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--resume", metavar="DIR", default=None, help="continue an interrupted run in DIR")
    p.add_argument("--quick", action="store_true", help="tiny data and training budgets (smoke test, ~1 minute)")
    p.add_argument("--backend", choices=LAUNCHERS.names(), default="joblib",
                   help="where jobs run: joblib worker processes (default), serial, or Ray (a local instance, or "
                        "the cluster in RAY_ADDRESS)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        if args.resume:
            config = RunConfig.from_dict(saved_config(args.resume))
            out = args.resume
        else:
            given = {k: tuple(v) for k, v in (("envs", args.envs), ("methods", args.methods), ("seeds", args.seeds),
                                               ("tracks", args.track)) if v}
            given.update({k: v for k, v in (("n_train", args.n_train), ("n_test", args.n_test)) if v})
            config = RunConfig.quick(**given) if args.quick else RunConfig(**given)
            out = args.out or str(default_out_dir())
        jobs, skipped = plan_run(config)
        methods = {j.method for j in jobs}
        print(f"plan: {len(jobs)} jobs ({len({j.env_id for j in jobs})} envs, {len(methods)} methods and references, "
              f"{len(config.seeds)} seeds), {len(skipped)} (env, method) pairs not applicable; writing to {out}")
        try:
            directory = run_sweep(config, out=out, jobs=args.jobs, resume=bool(args.resume),
                                  progress=not args.no_progress, backend=args.backend)
        except KeyboardInterrupt:
            print(f"causalbench run: interrupted; finished records are kept: continue with "
                  f"`causalbench run --resume {out}`")
            return 130
        paths = write_report(directory)
        print(compact_table(read_records(directory)))
        print(f"\nresults: {directory / 'results.jsonl'}")
        for path in paths:
            print(f"wrote {path}")
        return 0

    return run


def configure_report(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("dir", help="a run folder (containing results.jsonl)")

    def run(args: argparse.Namespace) -> int:
        for path in write_report(args.dir):
            print(f"wrote {path}")
        return 0

    return run
