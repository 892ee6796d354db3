"""`causalbench run` (the main job) and `causalbench report` (rebuild tables and plots from records)."""

from __future__ import annotations

import argparse
import dataclasses

from ..env.registry import ENVS, make, suite
from ..errors import CausalBenchError
from ..experiments.config import DEFAULT_SUITE, RunConfig
from ..experiments.results import read_records, saved_config
from ..experiments.launchers import LAUNCHERS
from ..experiments.sweep import default_out_dir, plan_run
from ..experiments.tuning import BUILT_IN, load_table
from ..experiments.sweep import run as run_sweep
from ..methods import TRACKS, main_run_methods, method_spec
from ..reports.run import compact_table, write_report
from .common import Handler, _csv, hparams, integer, jobs, rows, seeds
from .hparams import check_hparams


def configure_run(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("--envs", type=_csv, default=None, help=f"comma-separated env ids (default: the {DEFAULT_SUITE!r} suite, {','.join(suite(DEFAULT_SUITE))})")
    p.add_argument("--methods", type=_csv, default=None, help="comma-separated methods (default: all that apply)")
    p.add_argument("--seeds", default=None, help="'3' = seeds 0,1,2 (default) or a list '0,5,7'")
    p.add_argument("--track", type=_csv, default=None,
                   help="only methods on these tracks: observational, observational+domains, interventional, online")
    p.add_argument("--n-train", default=None, help="training rows (default 5000)")
    p.add_argument("--n-test", default=None, help="rows per test set (default 2000)")
    p.add_argument("--hparams", default=None, metavar="KEY=VALUE,...",
                   help="hyper-parameter overrides for every selected method that has the field, e.g. steps=500,lr=0.01")
    p.add_argument("--out", default=None, help="output folder (default results/<timestamp>)")
    p.add_argument("--jobs", default=None, help="worker processes (default: all cores)")
    p.add_argument("--resume", metavar="DIR", default=None, help="continue an interrupted run in DIR")
    p.add_argument("--quick", action="store_true", help="tiny data and training budgets (smoke test, ~1 minute)")
    p.add_argument("--defaults", action="store_true",
                   help="train with each method's default hyper-parameters instead of the tuned table "
                        "(`causalbench tune`); records say which they used (hparams_source)")
    p.add_argument("--tuned", metavar="FILE", default=None,
                   help="a tuned hyper-parameter table written by `causalbench tune` (default: the built-in one)")
    p.add_argument("--backend", choices=LAUNCHERS.names(), default="joblib",
                   help="where jobs run: joblib worker processes (default), serial, or Ray (a local instance, or "
                        "the cluster in RAY_ADDRESS)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        n_jobs = jobs(args.jobs)
        if args.resume:
            given = [f"--{k.replace('_', '-')}" for k in RUN_OPTIONS if getattr(args, k) not in (None, False)]
            if given:
                raise CausalBenchError(f"--resume continues with the run's saved configuration; drop {', '.join(given)}")
            config = RunConfig.from_dict(saved_config(args.resume))
            out = args.resume
        else:
            config = config_from_args(args)
            out = args.out or str(default_out_dir())
        todo, skipped = plan_run(config)
        methods = {j.method for j in todo}
        print(f"plan: {len(todo)} jobs ({len({j.env_id for j in todo})} envs, {len(methods)} methods and references, "
              f"{len(config.seeds)} seeds), {len(skipped)} (env, method) pairs not applicable; writing to {out}")
        try:
            directory = run_sweep(config, out=out, jobs=n_jobs, resume=bool(args.resume),
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


RUN_OPTIONS = ("envs", "methods", "seeds", "track", "n_train", "n_test", "hparams", "quick", "out", "defaults", "tuned")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """A RunConfig from `run` arguments, every one validated (one-line errors) before anything is written."""
    given: dict = {}
    if args.envs is not None:
        if not args.envs:
            raise CausalBenchError("--envs is empty")
        for env_id in args.envs:
            ENVS.entry(env_id)
        given["envs"] = tuple(args.envs)
    if args.methods is not None:
        if not args.methods:
            raise CausalBenchError("--methods is empty")
        for name in args.methods:
            method_spec(name)
        given["methods"] = tuple(args.methods)
    if args.track is not None:
        bad = [t for t in args.track if t not in TRACKS] or ([] if args.track else [""])
        if bad:
            raise CausalBenchError(f"--track: unknown track {bad[0]!r}; tracks: {', '.join(TRACKS)}")
        given["tracks"] = tuple(args.track)
    if args.seeds is not None:
        given["seeds"] = seeds(args.seeds)
    if args.n_train is not None:
        given["n_train"] = rows(args.n_train, "--n-train", _widest(given.get("envs")))
    if args.n_test is not None:
        given["n_test"] = rows(args.n_test, "--n-test", _widest(given.get("envs")))
    if args.defaults and args.tuned:
        raise CausalBenchError("--defaults and --tuned exclude each other")
    given["tuning"] = None if args.defaults else (args.tuned or BUILT_IN)
    if given["tuning"] != BUILT_IN and given["tuning"] is not None:
        load_table(given["tuning"])   # a missing or malformed table fails here, in one line
    config = RunConfig.quick(**given) if args.quick else RunConfig(**given)
    selected = _selected_methods(config)
    if not selected:
        raise CausalBenchError(f"no selected method is on track(s) {', '.join(config.tracks)}")
    if args.hparams is not None:
        config = dataclasses.replace(config, overrides={**config.overrides,
                                                        **check_hparams(hparams(args.hparams), selected)})
    todo, skipped = plan_run(dataclasses.replace(config, references=False))
    if not todo:
        why = "; ".join(f"{s['method']} on {s['env_id']}: {s['reason']}" for s in skipped[:2]) or "no methods selected"
        raise CausalBenchError(f"nothing to run: no selected method applies to the selected envs ({why})")
    return config


def _selected_methods(config: RunConfig) -> list[str]:
    names = list(config.methods) or main_run_methods()
    return [n for n in names if not config.tracks or method_spec(n).track in config.tracks]


def _widest(env_ids: tuple[str, ...] | None) -> int:
    """Columns of the widest selected env's data (variables and features), for the memory estimate."""
    return max(len(e.scm.names) + len(e.feature_names) for e in map(make, env_ids or suite(DEFAULT_SUITE)))


def configure_report(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("dir", help="a run folder (containing results.jsonl)")

    def run(args: argparse.Namespace) -> int:
        for path in write_report(args.dir):
            print(f"wrote {path}")
        return 0

    return run


def configure_tune(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("--envs", type=_csv, default=None, help=f"comma-separated env ids (default: the {DEFAULT_SUITE!r} suite)")
    p.add_argument("--methods", type=_csv, default=None,
                   help="comma-separated methods (default: every static or continual method with a search space)")
    p.add_argument("--trials", default="20", help="random-search trials per (env, method), the same for every "
                                                  "method (default 20, DomainBed's; trial 0 = the defaults)")
    p.add_argument("--n-train", default="5000", help="training rows the selection sees (default 5000)")
    p.add_argument("--out", default=None, help="where to write the table (default: tuned.json here); the built-in "
                                               "table is baselines/tuned.json")
    p.add_argument("--jobs", default=None, help="worker processes (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        from ..experiments.tuning import tune, write_table

        envs = tuple(args.envs) if args.envs else suite(DEFAULT_SUITE)
        for env_id in envs:
            ENVS.entry(env_id)
        methods = tuple(args.methods) if args.methods else tuple(main_run_methods())
        for name in methods:
            method_spec(name)
        trials = integer(args.trials, "--trials", minimum=1)
        n_train = rows(args.n_train, "--n-train", _widest(envs))
        table = tune(envs, methods, n_train=n_train, trials=trials, jobs=jobs(args.jobs),
                     progress=not args.no_progress)
        path = write_table(table, args.out or "tuned.json")
        print(f"wrote {path}: {len(table.entries)} (env, method) pairs, {trials} trials each, selected on training "
              f"data drawn at seed {table.seed}")
        return 0

    return run
