"""`causalbench evaluate` (the official evaluation of a method, or a prediction submission) and `causalbench submit`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import SubmissionError
from ..experiments.isolation import Isolated
from ..experiments.results import saved_config
from ..experiments.sweep import default_out_dir
from ..leaderboard.evaluate import About, evaluate_method, publish_entries
from ..leaderboard.format import LEADERBOARD_DIR, OFFICIAL_SUITE, SUITES, SuiteSpec
from ..leaderboard.predictions import default_name, write_predictions
from ..leaderboard.render import fmt
from ..leaderboard.validate import check_submission, publish
from ..methods import method_spec
from .common import _csv, hparams, integer, jobs
from .hparams import check_hparams


def _suite_arg(value: str) -> SuiteSpec:
    if value not in SUITES:
        raise argparse.ArgumentTypeError(f"unknown suite {value!r}; suites: {', '.join(SUITES)}")
    return SUITES[value]


def configure_evaluate(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """`causalbench evaluate METHOD`: the official evaluation (hidden instances, isolated workers), one command."""
    p.add_argument("method", nargs="?", default=None,
                   help="a registered method, a 'package.module:Class' path or an installed entry point")
    p.add_argument("--methods", type=_csv, default=None, help="the method, as for `causalbench run` (one)")
    p.add_argument("--suite", type=_suite_arg, default=OFFICIAL_SUITE,
                   help=f"suite: {', '.join(SUITES)} (default {OFFICIAL_SUITE.id}; smoke-v3 is a quick try)")
    p.add_argument("--out", default=None, help="where to write the entry (default <name>.entry.json), or with "
                                               "--predictions the submission manifest <name>.json")
    p.add_argument("--leaderboard", default=None, help="also publish the entry into this leaderboard folder")
    p.add_argument("--replace", action="store_true", help="with --leaderboard: overwrite an entry of the same name")
    p.add_argument("--name", default=None, help="name on the leaderboard, a slug (default: from METHOD)")
    p.add_argument("--authors", default="anonymous", help="comma-separated author names")
    p.add_argument("--paper", default=None, help="paper link (http or https)")
    p.add_argument("--code", default=None, help="code link (http or https)")
    p.add_argument("--description", default=None, help="one paragraph about the method")
    p.add_argument("--hparams", default=None, metavar="KEY=VALUE,...",
                   help="hyper-parameter overrides (recorded in the entry), e.g. steps=500,lr=0.01")
    p.add_argument("--instances-from", default=None, metavar="ENTRY",
                   help="re-evaluate on the (published) instances of this entry file instead of fresh secret ones")
    p.add_argument("--time-limit", default=None, help=f"seconds per job (default {Isolated.seconds:g})")
    p.add_argument("--memory-limit", default=None, help=f"GiB per job (default {Isolated.memory / 2**30:g})")
    p.add_argument("--predictions", action="store_true",
                   help="write a prediction submission on the public instances instead (unverified, never ranked)")
    p.add_argument("--jobs", default=None, help="worker processes (default: all cores)")
    p.add_argument("--no-claims", action="store_true", help="with --predictions: no claimed metrics")
    p.add_argument("--work", default=None, metavar="DIR",
                   help="folder for the job records (default results/evaluate-<time>); an interrupted evaluation "
                        "resumes from it with --resume DIR")
    p.add_argument("--resume", default=None, metavar="DIR",
                   help="finish an interrupted evaluation (same method, instances and options; finished jobs kept)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        n_jobs = jobs(args.jobs) or os.cpu_count() or 1
        if args.resume:
            return _resume(args, n_jobs)
        method = _one_method(args)
        method_spec(method)
        overrides = check_hparams(hparams(args.hparams), [method]) if args.hparams is not None else {}
        authors = tuple(a.strip() for a in args.authors.split(",") if a.strip())
        name = args.name or default_name(method)
        if args.predictions:
            path = write_predictions(method, args.out, args.suite, name=name, authors=authors, paper=args.paper,
                                     description=args.description, jobs=n_jobs, progress=not args.no_progress,
                                     claims=not args.no_claims, overrides=overrides)
            print(f"wrote {path} and {path.with_suffix('.npz')} (suite {args.suite.id}, public instances)")
            print(f"check it with: causalbench submit {path} --check"
                  + ("" if args.suite is OFFICIAL_SUITE else f" --suite {args.suite.id}"))
            return 0
        about = About(name, authors, args.paper, args.code, args.description)
        limits = Isolated(float(integer(args.time_limit, "--time-limit", 1)) if args.time_limit else Isolated.seconds,
                          int(float(args.memory_limit) * 2**30) if args.memory_limit else Isolated.memory)
        instances = _instances(args.instances_from) if args.instances_from else None
        work = Path(args.work) if args.work else default_out_dir("evaluate-")
        print(f"job records in {work} (interrupted? causalbench evaluate --resume {work})")
        entry = evaluate_method(method, args.suite, about=about, instances=instances, jobs=n_jobs,
                                progress=not args.no_progress, executor=limits, overrides=overrides, work=work)
        return _write(entry, args)

    return run


def _resume(args: argparse.Namespace, n_jobs: int) -> int:
    """`evaluate --resume DIR`: the saved method, suite, instances and options; the missing jobs only."""
    saved = saved_config(args.resume)
    try:
        about = About(**{**saved["about"], "authors": tuple(saved["about"]["authors"])})
        suite, iso = SUITES[saved["suite"]], saved["isolation"]
        executor = Isolated(iso["seconds"], iso["memory"]) if iso else None
        entry = evaluate_method(saved["evaluate"], suite, about=about, instances=saved["instances"], jobs=n_jobs,
                                progress=not args.no_progress, executor=executor, overrides=saved["overrides"],
                                work=args.resume, resume=True)
    except (KeyError, TypeError) as err:
        raise SubmissionError(f"{args.resume} is not an evaluation folder ({err})") from None
    return _write(entry, args)


def _write(entry: Mapping[str, Any], args: argparse.Namespace) -> int:
    """Write the entry file (and publish it with --leaderboard)."""
    out = Path(args.out or f"{entry['method']}.entry.json")
    out.write_text(json.dumps(entry, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(_describe(entry) + f" -- wrote {out}")
    if args.leaderboard:
        target = publish_entries([entry], args.leaderboard, replace=args.replace)[0]
        print(f"published {target}")
    return 0


def _one_method(args: argparse.Namespace) -> str:
    given = ([args.method] if args.method else []) + list(args.methods or [])
    if len(given) != 1:
        raise SubmissionError("give exactly one method (as METHOD or --methods); evaluate writes one entry per method")
    return given[0]


def _instances(path: str) -> Mapping[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {env: [int(s) for s in seeds] for env, seeds in data["instances"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise SubmissionError(f"--instances-from: {path} is not an entry with published instances") from None


def configure_submit(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """`causalbench submit FILE [--check]`: validate and re-score a prediction submission (unverified entry)."""
    p.add_argument("file", help="prediction submission manifest (.json) with its .npz next to it")
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
        print(_describe(json.loads(target.read_text(encoding="utf-8"))) + f" -- wrote {target} (unverified)")
        return 0

    return run


def _describe(entry: Mapping[str, Any]) -> str:
    cov = entry["coverage"]
    return (f"{entry['method']} [{entry['track']}]: {cov[0]}/{cov[1]} envs, effect error "
            f"{fmt(entry['overall']['effect_error'])}, OOD link {fmt(entry['overall']['ood_link'])}")
