"""Leaderboard maintenance: accept a submission, or (re)build the entries of every built-in baseline.

    python leaderboard/submit.py FILE [--check] [--replace]   # validate, re-score, write entries/<method>.json
    python leaderboard/submit.py --baselines [--jobs 2]        # evaluate + submit every registered baseline
    python leaderboard/submit.py --render                      # regenerate README.md and index.html

`causalbench submit FILE` runs the same checks (`causalbench.leaderboard.validate.publish`). Baseline entries
go through exactly the path an outside submission takes: `evaluate` writes a manifest and an .npz,
then `publish` validates, re-scores and writes the entry.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

from causalbench.errors import CausalBenchError
from causalbench.leaderboard.evaluate import (LEADERBOARD_DIR, OFFICIAL_SUITE, SUITES, SuiteSpec, check_submission, evaluate,
                                    load_entries, publish, render_leaderboard)


def populate_baselines(methods: Sequence[str] = (), suite: SuiteSpec = OFFICIAL_SUITE,
                       root: str | Path = LEADERBOARD_DIR, jobs: int = 2, keep: str | Path | None = None,
                       progress: bool = True, log: Callable[[str], None] = print) -> dict[str, str]:
    """Evaluate and publish each registered method (all by default); {method: "ok" | "skipped: ..." | "failed: ..."}.

    (env, method) pairs that do not apply are skipped exactly as the runner's `plan` skips them and
    recorded in the entry's `not_applicable`; a method that applies nowhere gets no entry.
    """
    from causalbench.methods import METHODS

    names = list(methods) or METHODS.names()
    root = Path(root)
    scratch = None if keep else tempfile.TemporaryDirectory(prefix="causalbench-baselines-")
    work = Path(keep) if keep else Path(scratch.name)
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _populate(names, bool(methods), suite, root, work, jobs, progress, log)
    finally:
        if scratch is not None:
            scratch.cleanup()


def _populate(names: Sequence[str], subset: bool, suite: SuiteSpec, root: Path, work: Path, jobs: int,
              progress: bool, log: Callable[[str], None]) -> dict[str, str]:
    from causalbench.methods import METHODS

    status: dict[str, str] = {}
    for name in names:
        start = time.perf_counter()
        try:
            manifest = evaluate(name, work / f"{name}.json", suite, authors=("causalbench maintainers",),
                                description=METHODS.entry(name).summary, jobs=jobs, progress=progress)
            target = publish(manifest, root, suite, replace=True, baseline=True, render=False)
        except CausalBenchError as err:
            status[name] = f"skipped: {err}" if "applies to none" in str(err) else f"failed: {err}"
        except Exception as err:  # a baseline still being written must not stop the others
            status[name] = f"failed: {type(err).__name__}: {' '.join(str(err).split())[:200]}"
        else:
            status[name] = "ok"
            log(f"{name}: wrote {target} ({time.perf_counter() - start:.0f} s)")
            continue
        log(f"{name}: {status[name]} ({time.perf_counter() - start:.0f} s)")
    if not subset:  # a full rebuild drops entries of baselines that are no longer registered
        for method, entry in load_entries(root).items():
            if entry.get("baseline") and method not in names:
                (root / "entries" / f"{method}.json").unlink()
                log(f"{method}: removed (no longer registered)")
    for path in render_leaderboard(root):
        log(f"wrote {path}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="leaderboard/submit.py", description=__doc__.split("\n\n")[0])
    p.add_argument("file", nargs="?", help="submission manifest (.json) with its .npz next to it")
    p.add_argument("--check", action="store_true", help="validate and re-score only; write nothing")
    p.add_argument("--replace", action="store_true", help="overwrite an existing entry of the same method")
    p.add_argument("--baselines", action="store_true", help="evaluate and submit every built-in baseline")
    p.add_argument("--methods", default="", help="with --baselines: comma-separated subset of methods")
    p.add_argument("--jobs", type=int, default=2, help="with --baselines: worker processes (default 2)")
    p.add_argument("--keep", default=None, help="with --baselines: keep the generated submissions in this folder")
    p.add_argument("--render", action="store_true", help="only regenerate README.md and index.html")
    p.add_argument("--suite", default=OFFICIAL_SUITE.id, choices=sorted(SUITES), help="suite (default official)")
    p.add_argument("--leaderboard", default=None, help=f"leaderboard folder (default {LEADERBOARD_DIR})")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    suite = SUITES[args.suite]
    if args.leaderboard is None and suite is not OFFICIAL_SUITE and not args.check:
        p.error(f"the leaderboard takes suite {OFFICIAL_SUITE.id!r}; use --check, or --leaderboard DIR")
    root = Path(args.leaderboard) if args.leaderboard else LEADERBOARD_DIR
    try:
        if args.render:
            for path in render_leaderboard(root):
                print(f"wrote {path}")
            return 0
        if args.baselines:
            start = time.perf_counter()
            methods = [m.strip() for m in args.methods.split(",") if m.strip()]
            status = populate_baselines(methods, suite, root, jobs=args.jobs, keep=args.keep,
                                        progress=not args.no_progress)
            failed = [m for m, s in status.items() if s.startswith("failed")]
            print(f"{sum(s == 'ok' for s in status.values())} entries written, "
                  f"{sum(s.startswith('skipped') for s in status.values())} skipped, {len(failed)} failed "
                  f"in {time.perf_counter() - start:.0f} s")
            return 1 if failed else 0
        if not args.file:
            p.error("give a submission FILE, --baselines or --render")
        if args.check:
            entry = check_submission(args.file, suite)
            print(f"{entry['method']}: valid ({entry['coverage'][0]}/{entry['coverage'][1]} envs); nothing written")
            return 0
        print(f"wrote {publish(args.file, root, suite, replace=args.replace)}")
        return 0
    except CausalBenchError as err:
        print(f"leaderboard/submit.py: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
