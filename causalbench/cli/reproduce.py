"""`causalbench reproduce NAME`: re-run a published experiment through the baselines and print it beside the paper."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..experiments.reproduce import REPRODUCTIONS, ReproduceConfig, checks, reproduce, summarize, table
from .common import Handler, _csv


def configure_reproduce(p: argparse.ArgumentParser) -> Handler:
    names = ", ".join(f"{e.name} ({e.summary})" for e in REPRODUCTIONS.entries())
    p.add_argument("name", help=f"the reproduction: {names}")
    p.add_argument("--settings", type=_csv, default=None, help="comma-separated settings (default: the paper's table)")
    p.add_argument("--methods", type=_csv, default=None, help="comma-separated method labels (default: all)")
    p.add_argument("--reps", type=int, default=None, help="repetitions per setting (default: the paper's)")
    p.add_argument("--n", type=int, default=None, help="rows per environment (default: the paper's)")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps of the iterative methods (default: the paper's)")
    p.add_argument("--quick", action="store_true",
                   help="a reduced run for tests: the spec's quick repetitions (irm2019: 2 per setting), paper settings otherwise")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--out", default=None, help="write records (JSON lines) and the table (markdown) to this folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace) -> int:
        spec = REPRODUCTIONS.get(args.name)
        config = ReproduceConfig(args.name, tuple(args.settings or ()), tuple(args.methods or ()), args.reps, args.n,
                                 args.steps, args.quick).resolve(spec)
        records = reproduce(config, jobs=args.jobs, progress=not args.no_progress)
        cells = summarize(records)
        text = table(spec, cells, config.settings)
        lines = [f"{spec.title}", f"published: {spec.source}",
                 f"reproduced: {config.reps} repetitions x n = {config.n} rows per environment"
                 + (f", {config.steps} steps" if config.steps else ", the paper's step counts")
                 + "; cells: causal / non-causal error", "", text, ""]
        lines += [f"[{'ok' if c.ok else 'NOT MET'}] {c.text}" for c in checks(spec, cells)]
        print("\n".join(lines))
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            with open(out / "records.jsonl", "w") as fh:
                for r in records:
                    fh.write(json.dumps({**r, "config": config.__dict__}, default=list) + "\n")
            (out / "table.md").write_text("\n".join(lines) + "\n")
            print(f"\nwrote {out / 'records.jsonl'} and {out / 'table.md'}")
        return 0

    return run
