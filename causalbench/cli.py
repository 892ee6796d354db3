"""The `causalbench` command line: list, describe, generate, run, report, scaling, evaluate, submit.

Each subcommand is a (configure, handler) pair in COMMANDS; handlers import
their heavy dependencies lazily so `causalbench list` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from .errors import CausalBenchError

Handler = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], Handler]
COMMANDS: dict[str, tuple[str, Configure]] = {}


def command(name: str, help: str) -> Callable[[Configure], Configure]:
    """Register a subcommand: decorate a function that adds its arguments and returns its handler."""

    def wrap(configure: Configure) -> Configure:
        COMMANDS[name] = (help, configure)
        return configure

    return wrap


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _int_list(value: str) -> list[int]:
    try:
        return [int(float(v)) for v in _csv(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}") from None


def _float_list(value: str) -> list[float]:
    try:
        return [float(v) for v in _csv(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {value!r}") from None


def _seeds(value: str) -> list[int]:
    """'3' -> [0, 1, 2]; '0,5,7' -> [0, 5, 7]."""
    items = _int_list(value)
    return list(range(items[0])) if len(items) == 1 and "," not in value else items


# ---------------------------------------------------------------- list / describe / generate


@command("list", "list the registered environments (and methods)")
def _configure_list(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("--methods", action="store_true", help="list baseline methods instead of environments")

    def run(args: argparse.Namespace) -> int:
        if args.methods:
            from .methods import METHODS

            for entry in METHODS.entries():
                tracks = ", ".join(entry.meta.get("tracks", ()))
                print(f"{entry.name:<22} [{tracks}] {entry.summary}")
            return 0
        from .env import ENVS

        for entry in ENVS.entries():
            print(f"{entry.name:<24} {entry.summary}")
        return 0

    return run


@command("describe", "explain an environment: story, graph, roles, shifts and ground truth")
def _configure_describe(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("env", help="environment id, e.g. IceCreamShorts-v0")

    def run(args: argparse.Namespace) -> int:
        from .env import make

        print(make(args.env).describe())
        return 0

    return run


@command("generate", "write a dataset to .parquet, .csv or .npz")
def _configure_generate(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("env", help="environment id")
    p.add_argument("--kind", default="observational",
                   help="observational | domains | interventional | test (all test sets, one file each) | "
                        "logged (offline episodes of the gym task: .npz, or a Minari dataset with --minari)")
    p.add_argument("--n", type=lambda s: int(float(s)), default=10_000, help="number of rows (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--p", type=float, default=0.5, help="interventional: per-variable randomisation probability")
    p.add_argument("--fraction", type=float, default=1.0, help="interventional: fraction of units eligible")
    p.add_argument("--out", default=None, help="output file; suffix picks the format (.parquet/.csv/.npz)")
    p.add_argument("--minari", metavar="DATASET_ID", default=None,
                   help="with --kind logged: write a Minari dataset (e.g. causalbench/icecream/logged-v0)")

    def run(args: argparse.Namespace) -> int:
        from pathlib import Path

        from .env import make

        env = make(args.env)
        if args.kind == "logged":
            return _generate_logged(env, args)
        if args.out is None:
            raise CausalBenchError("--out FILE is required")
        if args.kind == "test":
            out = Path(args.out)
            for name, ds in env.test_sets(seed=args.seed, n=args.n).items():
                path = ds.save(out.with_name(f"{out.stem}.{name.replace('@', '_at_')}{out.suffix}"))
                print(f"wrote {path} ({ds.n} rows, fingerprint {ds.fingerprint[:12]})")
            return 0
        ds = env.dataset(args.kind, n=args.n, seed=args.seed, p=args.p, fraction=args.fraction)
        path = ds.save(args.out)
        print(f"wrote {path}: {ds.n} rows x {ds.d} features ({', '.join(ds.feature_names)}), "
              f"target {ds.target}, fingerprint {ds.fingerprint[:12]}")
        return 0

    return run


def _generate_logged(env: object, args: argparse.Namespace) -> int:
    import numpy as np

    from .offline import logged_episodes, to_minari

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


# ---------------------------------------------------------------- run / report


@command("run", "the main job: train every baseline on the default suite, score, tabulate and plot")
def _configure_run(p: argparse.ArgumentParser) -> Handler:
    from .runner import DEFAULT_ENVS

    p.add_argument("--envs", type=_csv, default=None, help=f"comma-separated env ids (default: {','.join(DEFAULT_ENVS)})")
    p.add_argument("--methods", type=_csv, default=None, help="comma-separated methods (default: all that apply)")
    p.add_argument("--seeds", type=_seeds, default=None, help="'3' = seeds 0,1,2 (default) or a list '0,5,7'")
    p.add_argument("--track", type=_csv, default=None,
                   help="only methods on these tracks: observational, observational+domains, interventional, online")
    p.add_argument("--n-train", type=lambda s: int(float(s)), default=None, help="training rows (default 5000)")
    p.add_argument("--n-test", type=lambda s: int(float(s)), default=None, help="rows per test set (default 2000)")
    p.add_argument("--out", default=None, help="output folder (default results/<timestamp>)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--resume", metavar="DIR", default=None, help="continue an interrupted run in DIR")
    p.add_argument("--quick", action="store_true", help="tiny data and training budgets (smoke test)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        from .report import compact_table, write_report
        from .runner import RunConfig, read_records, saved_config
        from .runner import run as run_sweep

        if args.resume:
            config = RunConfig.from_dict(saved_config(args.resume))
            out = args.resume
        else:
            given = {k: tuple(v) for k, v in (("envs", args.envs), ("methods", args.methods), ("seeds", args.seeds),
                                               ("tracks", args.track)) if v}
            given.update({k: v for k, v in (("n_train", args.n_train), ("n_test", args.n_test)) if v})
            config = RunConfig.quick(**given) if args.quick else RunConfig(**given)
            out = args.out
        directory = run_sweep(config, out=out, jobs=args.jobs, resume=bool(args.resume),
                              progress=not args.no_progress)
        paths = write_report(directory)
        print(compact_table(read_records(directory)))
        print(f"\nresults: {directory / 'results.jsonl'}")
        for path in paths:
            print(f"wrote {path}")
        return 0

    return run


@command("report", "rebuild the summary table and plots of a run from its JSON lines")
def _configure_report(p: argparse.ArgumentParser) -> Handler:
    p.add_argument("dir", help="a run folder (containing results.jsonl)")

    def run(args: argparse.Namespace) -> int:
        from .report import write_report

        for path in write_report(args.dir):
            print(f"wrote {path}")
        return 0

    return run


# ---------------------------------------------------------------- scaling / leaderboard
# These subcommands live next to their features; the modules keep their top-level imports light.


@command("scaling", "does more static data or a bigger model cure causal confusion? (sweep, fits, plots)")
def _configure_scaling(p: argparse.ArgumentParser) -> Handler:
    from .scaling import configure

    return configure(p)


@command("evaluate", "produce a complete leaderboard submission for a registered method")
def _configure_evaluate(p: argparse.ArgumentParser) -> Handler:
    from .submission import configure_evaluate

    return configure_evaluate(p)


@command("submit", "validate and re-score a leaderboard submission (--check: validate only, write nothing)")
def _configure_submit(p: argparse.ArgumentParser) -> Handler:
    from .submission import configure_submit

    return configure_submit(p)


# ---------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="causalbench",
        description="A benchmark suite for causal confusion: do methods learn causes or correlations, "
                    "and does scale fix it?",
        epilog="Start with `causalbench run` (the default suite) or `causalbench describe IceCreamShorts-v0`.",
    )
    parser.add_argument("--version", action="version", version=f"causalbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=configure(p))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except CausalBenchError as err:
        print(f"causalbench {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"causalbench {args.command}: interrupted; finished records are kept (use --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
