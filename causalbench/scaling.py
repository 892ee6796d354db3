"""The scaling study: does more static data, or a bigger model, cure causal confusion?

`causalbench scaling --env ENV` trains each method at each training-set size N
(and, for methods with a `width` hyper-parameter, at each width; and, for the
static observational learners, at each fraction of interventional units in the
training data), scores every fit with the scorer, and appends one JSON-lines
record per job (and per continual stage) to `results.jsonl` with the runner's
provenance (package version, git hash, env version, scm hash, data
fingerprints, hparams). The study then fits y = a + b (N / N0)^-c to every
curve (`scaling_fit`), writes `scaling.md`, `fits.json` and plots, and, for
continual methods, a path-dependence report (`scaling_report`).

Axes, precisely:
- sizes: rows of training data. MLP methods train for max(their default steps,
  ceil(epochs x rows per fit / batch size)) Adam steps, so large N is not left
  unread (`--epochs`, default 1; rows per fit = N / #domains for continual).
- widths: every selected method whose hyper-parameters have a `width` field,
  except privileged references (the causal oracle runs at its default width).
- interventional fraction f: static methods on the observational track, except
  privileged references (the causal oracle). They train on
  `env.dataset("interventional", n, seed, p=1.0, fraction=f)`: on a fraction f
  of units every observed non-target variable is randomised. f = 0 is the
  observational distribution; fractions are nested (the randomised units at
  f = 0.01 are among those at f = 0.1) and share the rest of the units, so
  curves at different f are paired comparisons. Records say track
  "interventional" when f > 0. Other methods train on their own track's data
  and are drawn in every fraction's panel as references.
- path dependence (`--path-dependence`, default on): every continual-protocol
  method is also trained at `--path-size` rows on every order of the env's
  training domains (at most `--max-orders`) x seeds; its predictions on the
  shifted test sets of one common evaluation suite are saved under
  `predictions/`, and the report gives `seed_disagreement` across seeds, across
  orders and overall, plus the spread of the final spurious reliance.

Jobs run in joblib worker processes (`--jobs`) or on Ray (`--backend ray`, a
local instance, or the cluster in RAY_ADDRESS); records do not depend on either
(one BLAS/torch thread per job). A path-dependence job's predictions are written
(atomically) before its records, so a recorded job always has them. `--resume
DIR` skips finished jobs; on a finished sweep it only rebuilds the report.

Outputs in the folder: results.jsonl, scaling.json (the configuration),
skipped.json, predictions/, and the report (rebuilt from those alone):
scaling.md (fits, per-size means, path dependence), fits.json,
path_dependence.json, plots/scaling.png, plots/ood_by_shift.png,
plots/path_dependence.png.

The default sweep (4 methods, 7 sizes 1e2..1e5, widths 16/64/128, fractions
0/0.1/1, 5 seeds: 570 fits) takes about 4.5 minutes on IceCreamShorts-v0 with
`--jobs 2` on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
from pathlib import Path
from typing import Any

from .errors import CausalBenchError
from .runner import RESULTS_FILE, append_records, finished_keys, git_hash, progress_bar, read_records, saved_config
from .scaling_jobs import (CONFIG_FILE, DEFAULT_FRACTIONS, DEFAULT_METHODS, DEFAULT_SEEDS, DEFAULT_SIZES,
                           DEFAULT_WIDTHS, PATH_EVAL_SEED, ScalingConfig, ScalingJob, _cost, _env, _execute,
                           _save_predictions, job_hparams, job_key, plan, prediction_path, run_scaling_job)


# ---------------------------------------------------------------- the sweep


def default_out_dir(env_id: str) -> Path:
    return Path("results") / f"scaling-{env_id}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run(config: ScalingConfig, out: str | Path | None = None, jobs: int | None = None, backend: str = "joblib",
        resume: bool = False, progress: bool = True) -> Path:
    """Run (or resume) the sweep into `out`; returns the folder. Reports are written by `scaling_report`."""
    config.validate()
    if backend not in ("joblib", "ray"):
        raise CausalBenchError(f"unknown backend {backend!r}; use joblib or ray")
    out_dir = Path(out) if out is not None else default_out_dir(config.env)
    results = out_dir / RESULTS_FILE
    if results.exists() and not resume:
        raise CausalBenchError(f"{results} exists; use --resume {out_dir} to continue it, or another --out")
    todo, skipped = plan(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = out_dir / CONFIG_FILE
    if resume and saved.exists():
        if json.loads(saved.read_text()).get("config") != json.loads(json.dumps(config.to_dict())):
            raise CausalBenchError(f"{out_dir} was started with a different configuration; resume it without options")
    else:
        saved.write_text(json.dumps({"study": "scaling", "config": config.to_dict()}, indent=2))
    (out_dir / "skipped.json").write_text(json.dumps(skipped, indent=2))
    env = _env(config.env)
    keyed = [(job_key(j, config, hp), j, hp) for j in todo for hp in [job_hparams(j, config, len(env.domains))]]
    done = finished_keys(read_records(results)) if results.exists() else set()
    keyed = [(k, j, hp) for k, j, hp in keyed if k not in done]
    keyed.sort(key=lambda item: -_cost(item[1], item[2]))
    n_jobs = max(1, jobs or os.cpu_count() or 1)
    git = git_hash()
    bar = progress_bar(len(keyed), progress, desc=f"causalbench scaling {config.env}", unit="fit")
    try:
        for records, predictions in _execute([j for _, j, _ in keyed], config, n_jobs, git, backend):
            if predictions is not None:
                _save_predictions(prediction_path(out_dir, records[0]["key"]), predictions)
            append_records(results, records)
            bar.update(1)
    finally:
        bar.close()
    return out_dir


# ---------------------------------------------------------------- command line


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


def _parse_seeds(text: str) -> tuple[int, ...]:
    """'5' -> seeds 0..4; '0,5,7' -> those seeds."""
    values = _parse_list(text, "--seeds", int)
    return tuple(range(values[0])) if len(values) == 1 and "," not in text else values


def configure(p: argparse.ArgumentParser) -> Any:
    """Add the `causalbench scaling` arguments; return its handler."""
    p.add_argument("--env", help="environment id, e.g. IceCreamShorts-v0")
    p.add_argument("--methods", default=None,
                   help=f"comma-separated methods (default: {','.join(DEFAULT_METHODS)}; continual only on envs with "
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
    p.add_argument("--jobs", type=int, default=None, help="worker processes / Ray CPUs (default: all cores)")
    p.add_argument("--backend", choices=("joblib", "ray"), default="joblib",
                   help="joblib processes (default) or Ray (local instance, or the cluster in RAY_ADDRESS)")
    p.add_argument("--resume", metavar="DIR", default=None,
                   help="continue an interrupted sweep in DIR with its saved configuration (or rebuild its report)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handler(args: argparse.Namespace) -> int:
        from .scaling_report import write_scaling_report

        if args.resume:
            config = ScalingConfig.from_dict(saved_config(args.resume, CONFIG_FILE))
            out = args.resume
        else:
            config = config_from_args(args)
            out = args.out
        directory = run(config, out=out, jobs=args.jobs, backend=args.backend, resume=bool(args.resume),
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
        raise CausalBenchError("--env is required, e.g. --env IceCreamShorts-v0 (see `causalbench list`)")
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
        given["seeds"] = _parse_seeds(args.seeds)
    if args.n_test is not None:
        given["n_test"] = _parse_list(args.n_test, "--n-test", int)[0]
    if args.path_size is not None:
        given["path_size"] = _parse_list(args.path_size, "--path-size", int)[0]
    for name in ("epochs", "max_orders", "path_dependence"):
        if getattr(args, name) is not None:
            given[name] = getattr(args, name)
    config = ScalingConfig(**given).validate()
    from .methods import method_spec

    for name in config.methods:
        method_spec(name)
    if args.jobs is not None and args.jobs < 1:
        raise CausalBenchError(f"--jobs must be at least 1, got {args.jobs}")
    return config


__all__ = ["ScalingConfig", "ScalingJob", "plan", "run", "run_scaling_job", "configure", "config_from_args",
           "prediction_path", "DEFAULT_SEEDS", "PATH_EVAL_SEED"]
