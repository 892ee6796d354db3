"""Leaderboard maintenance: evaluate methods on secret hidden instances and publish their entries.

    python leaderboard/submit.py --baselines [--jobs 2]              # every built-in baseline and reference
    python leaderboard/submit.py --request leaderboard/requests/X.json  # an outside method's request
    python leaderboard/submit.py --method mypkg.mod:MyMethod --name my-method --authors "Ada"
    python leaderboard/submit.py FILE [--check] [--replace]           # a prediction submission (unverified)
    python leaderboard/submit.py --render                             # regenerate README.md and index.html

Methods go through exactly the path of `causalbench evaluate`: `evaluate_method` draws the instance seeds
with `secrets` when it starts, trains and scores every job in an isolated worker, and the entries (with
the seeds) are written only when evaluation is over. `--baselines` evaluates every registered method
and the exact references on one shared instance set and publishes them together.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from causalbench.errors import CausalBenchError
from causalbench.experiments.isolation import Isolated
from causalbench.experiments.references import REFERENCES
from causalbench.leaderboard.evaluate import (LEADERBOARD_DIR, OFFICIAL_SUITE, SUITES, About, SuiteSpec,
                                              draw_instances, evaluate_method, evaluate_reference, publish_entries)
from causalbench.leaderboard.predictions import default_name
from causalbench.leaderboard.publish import load_entries, render
from causalbench.leaderboard.request import read_request
from causalbench.leaderboard.validate import check_submission, publish

MAINTAINERS = ("causalbench maintainers",)


def populate_baselines(methods: Sequence[str] = (), suite: SuiteSpec = OFFICIAL_SUITE,
                       root: str | Path = LEADERBOARD_DIR, jobs: int = 2, progress: bool = True,
                       log: Callable[[str], None] = print, executor: Isolated = Isolated(),
                       references: bool = True) -> dict[str, str]:
    """Evaluate each registered method (all by default) and the references on one secret instance set, then
    publish every entry at once; {name: "ok" | "skipped: ..." | "failed: ..."}.

    (env, method) pairs that do not apply are skipped exactly as the runner skips them and recorded in the
    entry's `not_applicable`; a method that applies nowhere gets no entry.
    """
    from causalbench.methods import METHODS, main_run_methods

    names = list(methods) or main_run_methods()
    instances = draw_instances(suite)   # secret until the entries are written, after every evaluation
    entries, status = [], {}
    for name in names:
        start = time.perf_counter()
        try:
            entry = evaluate_method(name, suite, about=About(name, MAINTAINERS, description=METHODS.entry(name).summary),
                                    instances=instances, jobs=jobs, progress=progress, executor=executor,
                                    baseline=True)
        except CausalBenchError as err:
            status[name] = f"skipped: {err}" if "applies to none" in str(err) else f"failed: {err}"
        else:
            entries.append(entry)
            status[name] = "ok" if not entry["failures"] else f"failed: {sorted(entry['failures'].items())[0]}"
        log(f"{name}: {status[name]} ({time.perf_counter() - start:.0f} s)")
    for name in REFERENCES.names() if references else ():
        entries.append(evaluate_reference(name, suite, instances=instances, jobs=jobs, progress=progress))
        status[name] = "ok"
        log(f"{name}: ok")
    stale = [] if methods else [m for m, e in load_entries(Path(root)).items()
                                if e.get("baseline") and m not in names and m not in REFERENCES.names()]
    for path in publish_entries(entries, root, replace=True, remove=stale):
        log(f"wrote {path}")
    for name in stale:
        log(f"{name}: removed (no longer registered)")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="leaderboard/submit.py", description=__doc__.split("\n\n")[0])
    p.add_argument("file", nargs="?", help="a prediction submission manifest (.json) with its .npz next to it")
    p.add_argument("--check", action="store_true", help="with FILE: validate and re-score only; write nothing")
    p.add_argument("--replace", action="store_true", help="overwrite an existing entry of the same name")
    p.add_argument("--baselines", action="store_true", help="evaluate and publish every built-in baseline")
    p.add_argument("--methods", default="", help="with --baselines: comma-separated subset of methods")
    p.add_argument("--request", default=None, help="evaluate and publish the method of a request file")
    p.add_argument("--method", default=None, help="evaluate and publish this method ('module:Class' or a name)")
    p.add_argument("--name", default=None, help="with --method: its leaderboard name")
    p.add_argument("--authors", default="anonymous", help="with --method: comma-separated authors")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--render", action="store_true", help="only regenerate README.md and index.html")
    p.add_argument("--suite", default=OFFICIAL_SUITE.id, choices=sorted(SUITES), help="suite (default official)")
    p.add_argument("--leaderboard", default=None, help=f"leaderboard folder (default {LEADERBOARD_DIR})")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    suite = SUITES[args.suite]
    if args.leaderboard is None and suite is not OFFICIAL_SUITE and not args.check:
        p.error(f"the leaderboard takes suite {OFFICIAL_SUITE.id!r}; use --check, or --leaderboard DIR")
    root = Path(args.leaderboard) if args.leaderboard else LEADERBOARD_DIR
    progress = not args.no_progress
    try:
        if args.render:
            for path in render(root):
                print(f"wrote {path}")
            return 0
        if args.baselines:
            start = time.perf_counter()
            methods = [m.strip() for m in args.methods.split(",") if m.strip()]
            status = populate_baselines(methods, suite, root, jobs=args.jobs, progress=progress)
            failed = [m for m, s in status.items() if s.startswith("failed")]
            print(f"{sum(s == 'ok' for s in status.values())} entries evaluated, "
                  f"{sum(s.startswith('skipped') for s in status.values())} skipped, {len(failed)} with failures "
                  f"in {time.perf_counter() - start:.0f} s")
            return 1 if failed else 0
        if args.request or args.method:
            if args.request:
                request = read_request(args.request)
                method, about, overrides = request.method, request.about, dict(request.hparams)
            else:
                method, overrides = args.method, {}
                about = About(args.name or default_name(method), tuple(a.strip() for a in args.authors.split(",") if a.strip()))
            entry = evaluate_method(method, suite, about=about, jobs=args.jobs, progress=progress,
                                    overrides=overrides)
            print(f"wrote {publish_entries([entry], root, replace=args.replace)[0]}")
            return 0
        if not args.file:
            p.error("give a prediction submission FILE, --request, --method, --baselines or --render")
        if args.check:
            entry = check_submission(args.file, suite)
            print(f"{entry['method']}: valid ({entry['coverage'][0]}/{entry['coverage'][1]} envs); nothing written")
            return 0
        print(f"wrote {publish(args.file, root, suite, replace=args.replace)} (unverified)")
        return 0
    except CausalBenchError as err:
        print(f"leaderboard/submit.py: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
