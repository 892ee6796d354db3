"""`causalbench scaling`: the scaling study's sweep, fits and report from the command line."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..errors import CausalBenchError
from ..experiments.results import RESULTS_FILE, saved_config
from ..experiments.scaling import (CONFIG_FILE, DEFAULT_FRACTIONS, DEFAULT_SIZES, DEFAULT_WIDTHS,
                                   ScalingConfig, run)
from ..methods import method_spec
from ..reports.scaling import write_scaling_report
from .common import Handler, jobs, seeds


def _parse_list(text: str, name: str, kind: type) -> tuple:
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    out = []
    for t in items:
        try:
            value = float(t)
        except ValueError:
            raise CausalBenchError(f"{name}: {t!r} is not a number (expected a comma-separated list, e.g. "
                                   f"{'1e2,1e3,1e4' if kind is int else '0,0.1,1'})") from None
        if kind is int:
            if not math.isfinite(value) or value != int(value):
                raise CausalBenchError(f"{name}: {t!r} is not an integer")
            value = int(value)
        out.append(value)
    if not out:
        raise CausalBenchError(f"{name} is empty")
    return tuple(out)


def configure_scaling(p: argparse.ArgumentParser) -> Handler:
    """Add the `causalbench scaling` arguments; return its handler."""
    p.add_argument("--env", help="environment id, e.g. IceCreamShorts-v1")
    p.add_argument("--methods", default=None,
                   help="comma-separated methods (default: the registered \"scaling\" method set; continual only on envs with "
                        "at least two training domains)")
    p.add_argument("--sizes", default=None, help="training-set sizes (default: "
                   f"{','.join(f'{n:g}' for n in DEFAULT_SIZES)})")
    p.add_argument("--widths", default=None, help="MLP widths, for methods with a width hyper-parameter (default: "
                   f"{','.join(map(str, DEFAULT_WIDTHS))}); 256 costs ~1.5 s and 1024 ~25 s per fit on one core")
    p.add_argument("--seeds", default=None, help="'5' = seeds 0..4 (default) or a list '0,5,7'")
    p.add_argument("--interventional-fraction", default=None, dest="fractions",
                   help="fractions of training units with every observed variable randomised, for static "
                        f"observational learners (default: {','.join(f'{f:g}' for f in DEFAULT_FRACTIONS)})")
    p.add_argument("--n-test", default=None, help="rows per test set (default 2000)")
    p.add_argument("--epochs", type=float, default=None,
                   help="MLP steps = max(default steps, epochs x rows / batch size) (default 1)")
    p.add_argument("--path-dependence", action=argparse.BooleanOptionalAction, default=None,
                   help="train continual methods on every order of the training domains (default: on)")
    p.add_argument("--path-size", default=None, help="training rows for the path-dependence runs (default 1e4)")
    p.add_argument("--max-orders", type=int, default=None, help="at most this many domain orders (default 6)")
    p.add_argument("--out", default=None, help="output folder (default results/scaling-<env>-<timestamp>)")
    p.add_argument("--jobs", default=None, help="worker processes / Ray CPUs (default: all cores)")
    p.add_argument("--backend", choices=("joblib", "ray"), default="joblib",
                   help="joblib processes (default) or Ray (local instance, or the cluster in RAY_ADDRESS)")
    p.add_argument("--resume", metavar="DIR", default=None,
                   help="continue an interrupted sweep in DIR with its saved configuration (or rebuild its report)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handler(args: argparse.Namespace) -> int:
        n_jobs = jobs(args.jobs)
        if args.resume:
            config = ScalingConfig.from_dict(saved_config(args.resume, CONFIG_FILE))
            out = args.resume
        else:
            config = config_from_args(args)
            out = args.out
        directory = run(config, out=out, jobs=n_jobs, backend=args.backend, resume=bool(args.resume),
                        progress=not args.no_progress)
        summary, paths = write_scaling_report(directory)
        print(summary)
        print(f"\nresults: {directory / RESULTS_FILE}")
        for path in paths:
            print(f"wrote {path}")
        return 0

    return handler


def config_from_args(args: argparse.Namespace) -> ScalingConfig:
    """A validated ScalingConfig from parsed arguments (one-line errors for bad input)."""
    if not args.env:
        raise CausalBenchError("--env is required, e.g. --env IceCreamShorts-v1 (see `causalbench list`)")
    given: dict[str, Any] = {"env": args.env}
    if args.methods is not None:
        given["methods"] = tuple(m.strip() for m in args.methods.split(",") if m.strip())
        if not given["methods"]:
            raise CausalBenchError("--methods is empty")
    if args.sizes is not None:
        given["sizes"] = _parse_list(args.sizes, "--sizes", int)
    if args.widths is not None:
        given["widths"] = _parse_list(args.widths, "--widths", int)
    if args.fractions is not None:
        given["fractions"] = _parse_list(args.fractions, "--interventional-fraction", float)
    if args.seeds is not None:
        given["seeds"] = seeds(args.seeds)
    if args.n_test is not None:
        given["n_test"] = _parse_list(args.n_test, "--n-test", int)[0]
    if args.path_size is not None:
        given["path_size"] = _parse_list(args.path_size, "--path-size", int)[0]
    for name in ("epochs", "max_orders", "path_dependence"):
        if getattr(args, name) is not None:
            given[name] = getattr(args, name)
    config = ScalingConfig(**given).validate()
    for name in config.methods:
        method_spec(name)
    jobs(args.jobs)
    return config
