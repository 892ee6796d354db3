"""`causalbench scaling`: the scaling study's sweep, fits and report from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import math
from typing import Any

from ..errors import CausalBenchError
from ..experiments.results import RESULTS_FILE, saved_config
from ..experiments.scaling import (CONFIG_FILE, DEFAULT_BUDGETS, DEFAULT_MIXTURES, DEFAULT_MODELS, DEFAULT_SIZES,
                                   MIN_FIT_SIZES, REGIMES, ScalingConfig, run)
from ..reports.scaling import write_scaling_report
from .common import Handler, jobs, seeds

DESCRIPTION = (
    "Does scaling static pretraining cure causal confusion? Trains MLPs of several sizes (WIDTHxDEPTH) at "
    "several training-set sizes N on each env (default: the capacity-hungry 'scaling' suite), on static data "
    "that contains a share rho of natural experiments (regime unobserved or observed), then fine-tunes on a "
    "small interventional budget against training from scratch; fits y = a + b N^-c to every curve and "
    f"writes tables and plots. A fit needs at least {MIN_FIT_SIZES} sizes (3 parameters and one residual "
    "degree of freedom); fewer sizes still run and are reported point by point.")


def _parse_list(text: str, name: str, kind: type) -> tuple:
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    out = []
    for t in items:
        try:
            value = float(t)
        except ValueError:
            raise CausalBenchError(f"{name}: {t!r} is not a number (expected a comma-separated list, e.g. "
                                   f"{'1e2,1e3,1e4' if kind is int else '0,0.01,0.1'})") from None
        if kind is int:
            if not math.isfinite(value) or value != int(value):
                raise CausalBenchError(f"{name}: {t!r} is not an integer")
            value = int(value)
        out.append(value)
    return tuple(out)


def _hparams(text: str) -> dict[str, Any]:
    """'max_updates=3000,lr=1e-3' -> {'max_updates': 3000, 'lr': 0.001} (numbers parsed, anything else a string)."""
    out: dict[str, Any] = {}
    for item in _csv(text):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise CausalBenchError(f"--hparams: {item!r} is not KEY=VALUE")
        try:
            value: Any = float(raw)
            value = int(value) if value.is_integer() and "." not in raw and "e" not in raw.lower() else value
        except ValueError:
            value = raw.strip()
        out[key.strip()] = value
    return out


def _csv(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in str(text).split(",") if t.strip())


def configure_scaling(p: argparse.ArgumentParser) -> Handler:
    """Add the `causalbench scaling` arguments; return its handler."""
    p.description = DESCRIPTION
    p.add_argument("--env", help="comma-separated environment ids (default: the registered 'scaling' suite of "
                   "capacity-hungry envs)")
    p.add_argument("--quick", action="store_true",
                   help=f"a small sweep ({MIN_FIT_SIZES} sizes so fits exist, 2 small models, 2 seeds, one shared test "
                        "suite): under 2 minutes on 2 cores")
    p.add_argument("--sizes", default=None, help=f"training-set sizes N, at least {MIN_FIT_SIZES} for a fit "
                   f"(default: {','.join(f'{n:g}' for n in DEFAULT_SIZES)})")
    p.add_argument("--models", default=None, help=f"MLP sizes, WIDTHxDEPTH or PARAMS@DEPTH (the width with about PARAMS parameters on the env's inputs; default: {','.join(DEFAULT_MODELS)}: "
                   "about 1e3 to 1e6 parameters)")
    p.add_argument("--mixtures", default=None, help="shares rho of natural-experiment units in the training data "
                   f"(default: {','.join(f'{r:g}' for r in DEFAULT_MIXTURES)})")
    p.add_argument("--regimes", default=None, help=f"how natural experiments appear: {'; '.join(f'{r.name}: {r.summary}' for r in REGIMES.values())} (default: unobserved,observed)")
    p.add_argument("--mixture-model", default=None, help="the model of the mixture and fine-tuning axes "
                   "(default: the second-largest of --models)")
    p.add_argument("--budgets", default=None, help="cumulative interventional fine-tuning budgets, increasing "
                   f"(default: {','.join(map(str, DEFAULT_BUDGETS))}; 'none' = no fine-tuning)")
    p.add_argument("--pretrain", default=None, help="static rows before fine-tuning (default: the largest size)")
    p.add_argument("--path-dependence", action=argparse.BooleanOptionalAction, default=None,
                   help="re-run fine-tuning with other data orders and reversed stages (default: on)")
    p.add_argument("--seeds", default=None, help="'5' = seeds 0..4 (default) or a list '0,5,7'")
    p.add_argument("--n-test", default=None, help="rows per test set (default 1000)")
    p.add_argument("--compute-cap", default=None,
                   help="skip (model, N) points with parameters x N above this (default: none), e.g. 1e10")
    p.add_argument("--shared-eval", action="store_true", help="score every job on one evaluation suite (cheaper)")
    p.add_argument("--hparams", default=None, metavar="K=V,...",
                   help="method hyper-parameters for every job, e.g. max_updates=3000,patience=5 (scaled-mlp "
                        "defaults: 20000 updates at most, patience 8; --quick: 400 and 3)")
    p.add_argument("--device", default=None, help="torch device of the MLPs: cpu (default) or cuda (needs a GPU "
                   "that torch sees; a one-line error otherwise)")
    p.add_argument("--out", default=None, help="output folder (default results/scaling-<timestamp>)")
    p.add_argument("--jobs", default=None, help="worker processes / Ray CPUs (default: all cores)")
    p.add_argument("--backend", choices=("joblib", "ray", "serial"), default="joblib",
                   help="joblib processes (default), Ray (a local instance, or the cluster in RAY_ADDRESS), serial")
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
        check_device(config.overrides.get("device", "cpu"))
        if args.backend == "ray" and str(config.overrides.get("device", "cpu")).startswith("cuda"):
            raise CausalBenchError("--backend ray runs CPU-only tasks (Ray hides GPUs from them); use --device cuda "
                                   "with --backend joblib on the GPU machine, or --backend ray with --device cpu")
        directory = run(config, out=out, jobs=n_jobs, backend=args.backend, resume=bool(args.resume),
                        progress=not args.no_progress)
        summary, paths = write_scaling_report(directory)
        print(summary)
        print(f"results: {directory / RESULTS_FILE}")
        for path in paths:
            print(f"wrote {path}")
        return 0

    return handler


def check_device(device: str) -> None:
    """A one-line error when the requested torch device is not there (torch is imported only for a GPU)."""
    if device == "cpu":
        return
    if not str(device).startswith("cuda"):
        raise CausalBenchError(f"--device must be cpu or cuda[:index], got {device!r}")
    import torch

    if not torch.cuda.is_available():
        raise CausalBenchError("--device cuda: torch sees no GPU (torch.cuda.is_available() is False); "
                               "install a CUDA build of torch or use --device cpu")


def config_from_args(args: argparse.Namespace) -> ScalingConfig:
    """A validated ScalingConfig from parsed arguments (one-line errors for bad input)."""
    given: dict[str, Any] = {}
    if args.env is not None:
        given["envs"] = _csv(args.env)
        if not given["envs"]:
            raise CausalBenchError("--env is empty")
    if args.sizes is not None:
        given["sizes"] = _parse_list(args.sizes, "--sizes", int)
    for name, flag in (("models", "--models"), ("regimes", "--regimes")):
        if getattr(args, name) is not None:
            given[name] = _csv(getattr(args, name))
    if args.mixtures is not None:
        given["mixtures"] = _parse_list(args.mixtures, "--mixtures", float)
    if args.budgets is not None:
        given["budgets"] = () if args.budgets.strip().lower() in ("", "none") else \
            _parse_list(args.budgets, "--budgets", int)
    if args.mixture_model is not None:
        given["mixture_model"] = args.mixture_model
    if args.seeds is not None:
        given["seeds"] = seeds(args.seeds)
    for name, flag in (("n_test", "--n-test"), ("pretrain", "--pretrain")):
        if getattr(args, name) is not None:
            values = _parse_list(getattr(args, name), flag, int)
            if len(values) != 1:
                raise CausalBenchError(f"{flag} takes one integer")
            given[name] = values[0]
    if args.compute_cap is not None:
        given["compute_cap"] = float(_parse_list(args.compute_cap, "--compute-cap", float)[0])
    if args.path_dependence is not None:
        given["path_dependence"] = args.path_dependence
    if args.shared_eval:
        given["shared_eval"] = True
    config = ScalingConfig.quick(**given) if args.quick else ScalingConfig(**given)
    extra = _hparams(args.hparams) if args.hparams is not None else {}
    if args.device is not None:
        extra["device"] = args.device
    if extra:
        config = dataclasses.replace(config, overrides={**config.overrides, **extra})
    return config.validate()
