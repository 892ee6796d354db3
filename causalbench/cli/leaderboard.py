"""`causalbench evaluate` (train a method on the official suite, write a submission) and `causalbench submit`."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable, Mapping

from ..errors import SubmissionError
from ..leaderboard.evaluate import evaluate
from ..leaderboard.format import LEADERBOARD_DIR, OFFICIAL_SUITE, SUITES, SuiteSpec
from ..leaderboard.validate import check_submission, publish
from ..methods import method_spec
from .common import hparams, jobs
from .hparams import check_hparams


def _suite_arg(value: str) -> SuiteSpec:
    if value not in SUITES:
        raise argparse.ArgumentTypeError(f"unknown suite {value!r}; suites: {', '.join(SUITES)}")
    return SUITES[value]


def configure_evaluate(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """`causalbench evaluate METHOD`: a complete, valid submission in one command."""
    p.add_argument("method", help="a registered method (see `causalbench list --methods`)")
    p.add_argument("--out", default=None, help="manifest path, <name>.json (the .npz goes next to it)")
    p.add_argument("--suite", type=_suite_arg, default=OFFICIAL_SUITE,
                   help=f"suite: {', '.join(SUITES)} (default {OFFICIAL_SUITE.id}; smoke-v2 is a quick try)")
    p.add_argument("--name", default=None, help="method name on the leaderboard (default: METHOD)")
    p.add_argument("--authors", default="anonymous", help="comma-separated author names")
    p.add_argument("--paper", default=None, help="paper link (http or https)")
    p.add_argument("--description", default=None, help="one paragraph about the method")
    p.add_argument("--hparams", default=None, metavar="KEY=VALUE,...",
                   help="hyper-parameter overrides (recorded in the submission), e.g. steps=500,lr=0.01")
    p.add_argument("--jobs", default=None, help="worker processes (default: all cores)")
    p.add_argument("--no-claims", action="store_true", help="do not include claimed metrics")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        n_jobs = jobs(args.jobs)
        method_spec(args.method)
        overrides = check_hparams(hparams(args.hparams), [args.method]) if args.hparams is not None else {}
        authors = [a.strip() for a in args.authors.split(",") if a.strip()]
        path = evaluate(args.method, args.out, args.suite, name=args.name, authors=authors, paper=args.paper,
                        description=args.description, jobs=n_jobs or os.cpu_count() or 1,
                        progress=not args.no_progress, claims=not args.no_claims, overrides=overrides)
        print(f"wrote {path} and {path.with_suffix('.npz')} (suite {args.suite.id})")
        print(f"check it with: causalbench submit {path} --check"
              + ("" if args.suite is OFFICIAL_SUITE else f" --suite {args.suite.id}"))
        return 0

    return run


def configure_submit(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """`causalbench submit FILE [--check]`: validate, re-score, write the entry and the pages."""
    p.add_argument("file", help="submission manifest (.json) with its .npz next to it")
    p.add_argument("--check", action="store_true", help="validate and re-score only; write nothing")
    p.add_argument("--replace", action="store_true", help="overwrite an existing entry of the same method")
    p.add_argument("--suite", type=_suite_arg, default=OFFICIAL_SUITE, help=f"suite (default {OFFICIAL_SUITE.id})")
    p.add_argument("--leaderboard", default=None, help=f"leaderboard folder (default {LEADERBOARD_DIR})")

    def run(args: argparse.Namespace) -> int:
        if args.check:
            entry = check_submission(args.file, args.suite)
            print(_describe(entry) + " -- valid; nothing written")
            return 0
        if args.leaderboard is None and args.suite is not OFFICIAL_SUITE:
            raise SubmissionError(f"the leaderboard takes suite {OFFICIAL_SUITE.id!r}; "
                                  "use --check, or --leaderboard DIR")
        target = publish(args.file, args.leaderboard or LEADERBOARD_DIR, args.suite, replace=args.replace)
        print(_describe(json.loads(target.read_text())) + f" -- wrote {target}")
        return 0

    return run


def _describe(entry: Mapping[str, Any]) -> str:
    err = entry["overall"]["effect_error"]
    cov = entry["coverage"]
    mean = "n/a" if err["mean"] is None else f"{err['mean']:.3f} ± {err['std'] or 0:.3f} (n={err['n']})"
    return f"{entry['method']} [{entry['track']}]: {cov[0]}/{cov[1]} envs, mean effect error {mean}"
