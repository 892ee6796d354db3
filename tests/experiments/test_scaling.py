"""The scaling study: the fit, the plan, staged jobs, the regime query, determinism, Ray = joblib, errors."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from causalbench.cli import main
from causalbench.experiments.config import LATE_FIELDS, DataStage, Job, frozen
from causalbench.experiments.job import run_job
from causalbench.experiments.results import read_records
from causalbench.experiments.scaling import (FINETUNE_SEED_OFFSET, PATH_EVAL_INDEX, ModelSize, ScalingConfig, plan,
                                             prediction_path, run)
from causalbench.provenance import VERSION
from causalbench.reports.fit import fit_curve
from causalbench.reports.scaling_data import family
from causalbench.testing import one_line_error

SIZES = np.array([100, 300, 1000, 3000, 10_000, 30_000, 100_000])
# A tiny sweep on a cheap env touching every family: scale, mixture (both regimes), fine-tuning, scratch, path.
TINY = dict(envs=("IceCreamShorts-v1",), sizes=(40, 80), models=("4x1",), mixtures=(0.0, 0.5), budgets=(20, 40),
            seeds=(0, 1), n_test=100, overrides={"max_updates": 30, "patience": 2})


def strip_volatile(records: list[dict]) -> list[dict]:
    drop = {"timestamp", "fit_seconds", "git_hash"}
    return sorted(({k: v for k, v in r.items() if k not in drop} for r in records), key=lambda r: (r["key"], r["stage"]))


# ---------------------------------------------------------------- the fit


def test_fit_recovers_known_parameters_of_curves_that_flattened() -> None:
    gen = np.random.default_rng(0)
    for a, b, c in [(0.8, 2.0, 0.9), (0.02, 1.0, 0.7), (1.0, -0.5, 1.2)]:
        truth = a + b * (SIZES / SIZES[0]) ** -c
        Y = truth + 0.01 * gen.standard_normal((5, len(SIZES))) + 0.01 * gen.standard_normal((5, 1))
        fit = fit_curve(SIZES, Y)
        assert fit.status == "ok", fit
        assert fit.a_lo <= a <= fit.a_hi and fit.a_hi - fit.a_lo < 0.1
        assert abs(fit.c - c) < 0.25 * c and abs(fit.b - b) < 0.1 * abs(b)
        assert np.allclose(fit.predict(SIZES), truth, atol=0.03)


def test_a_curve_still_falling_at_n_max_is_not_extrapolated() -> None:
    """y = 0.3 + 2 (N/100)^-0.4: at N = 1e5 it is still 0.13 above its asymptote, far beyond the seed noise."""
    gen = np.random.default_rng(2)
    Y = 0.3 + 2.0 * (SIZES / 100.0) ** -0.4 + 0.005 * gen.standard_normal((5, len(SIZES)))
    fit = fit_curve(SIZES, Y)
    assert fit.status == "no plateau" and fit.a is None and fit.a_lo is None
    assert "not flat within N_max = 100000" in fit.reason and fit.slope < 0
    assert fit.describe() == "no plateau within N_max = 100000"


def test_fit_calls_degenerate_curves_what_they_are() -> None:
    gen = np.random.default_rng(1)
    flat = fit_curve(SIZES, 0.5 + 0.02 * gen.standard_normal((5, len(SIZES))))
    assert flat.status == "flat" and flat.a_lo <= 0.5 <= flat.a_hi
    few = fit_curve(SIZES[:3], np.ones((5, 3)))
    assert few.status == "too few points" and few.a is None
    log_like = fit_curve(SIZES, 1 - 0.1 * np.log10(SIZES) + 0.002 * gen.standard_normal((5, len(SIZES))))
    assert log_like.status == "no plateau" and log_like.a is None and log_like.slope == pytest.approx(-0.1, abs=0.01)


def test_the_asymptote_interval_carries_the_exponents_uncertainty() -> None:
    """Every bootstrap resample refits c: the interval is wider than the same bootstrap with c held at its
    estimate (which would ignore the exponent's uncertainty). Deterministic: same curve, same interval."""
    from causalbench.reports.fit import _means, _weights, _wls_line

    gen = np.random.default_rng(3)
    Y = 0.4 + 1.0 * (SIZES / 100.0) ** -0.8 + 0.03 * gen.standard_normal((5, len(SIZES)))
    fit, again = fit_curve(SIZES, Y, seed=11), fit_curve(SIZES, Y, seed=11)
    assert fit == again and fit.status == "ok" and fit.a_lo < 0.4 < fit.a_hi
    boot = np.random.default_rng([11, 0x5CA1E]).integers(0, 5, (1000, 5))
    fixed = []
    for rows in boot:
        mean, se = _means(Y[rows])
        fixed.append(_wls_line((SIZES / 100.0) ** -fit.c, mean, _weights(se, 5))[0])
    half_fixed = 2.776 * np.sqrt(5 / 4) * np.std(fixed, ddof=1)
    assert (fit.a_hi - fit.a_lo) / 2 > 1.2 * half_fixed


# ---------------------------------------------------------------- the plan


def test_model_sizes_by_parameter_target_fit_each_envs_inputs() -> None:
    m = ModelSize.parse("1e4@2")
    for d_in in (24, 512):
        w, d = m.resolve(d_in)
        assert d == 2 and abs(np.log10(m.parameters(d_in)) - 4) < 0.05
    assert ModelSize.parse("64x3").resolve(7) == (64, 3)
    for bad in ("64", "x2", "0x2", "1e4@0"):
        with one_line_error("model size"):
            ModelSize.parse(bad)


def test_plan_has_every_family_once_and_disjoint_seeds() -> None:
    config = ScalingConfig(**TINY)
    jobs = plan(config)
    assert len({j.key() for j in jobs}) == len(jobs)
    fam = {}
    for j in jobs:
        rec = {"method": j.method, "data_stages": [dataclasses.asdict(s) for s in j.stages],
               "hparams": dict(j.hparams), "regime_observed": j.regime_observed}
        fam.setdefault(family(rec), []).append(j)
    assert {k: len(v) for k, v in fam.items()} == {"static": 2 * 2 + 1 * 2 * 2 * 2, "finetune": 2, "scratch": 4,
                                                   "order": 4, "reversed": 2, "reference": 3 * 2}
    for j in fam["finetune"]:
        assert [s.kind for s in j.stages] == ["interventional", "interventional", "interventional"]
        assert j.stages[0].fraction == 0.0 and [s.n for s in j.stages[1:]] == [20, 40]
        assert {s.seed_offset for s in j.stages[1:]} == {FINETUNE_SEED_OFFSET} and j.eval_on == PATH_EVAL_INDEX
    assert all(j.eval_seed >= 1_000_000 for j in jobs)
    capped = plan(dataclasses.replace(config, compute_cap=60 * 21.0, budgets=()))   # 4x1 on 2 inputs: 21 params
    assert {j.n_train for j in capped if j.fraction is not None} == {40}


@pytest.mark.parametrize("change, match", [
    (dict(sizes=(5, 100)), "at least"), (dict(models=("abc",)), "model size"), (dict(mixtures=(0.0, 2.0)), "[0, 1]"),
    (dict(regimes=("sideways",)), "unknown"), (dict(budgets=(300, 100)), "increasing"),
    (dict(seeds=(FINETUNE_SEED_OFFSET,)), "seeds"), (dict(method="erm-linear"), "width and depth"),
    (dict(overrides={"bananas": 1}), "bananas"), (dict(envs=("Nope-v0",)), "Nope-v0"),
])
def test_bad_configurations_are_one_line_errors(change, match) -> None:
    with one_line_error(match):
        ScalingConfig(**{**TINY, **change}).validate()


def test_fields_added_late_leave_existing_job_keys_unchanged() -> None:
    job = Job("IRMLinear-v0", "erm-linear", 3, n_train=123)
    fields = {k: v for k, v in dataclasses.asdict(job).items() if k not in LATE_FIELDS}
    payload = {**fields, "resolved": job.resolved_hparams(), "version": VERSION}
    legacy = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]
    assert job.key() == legacy
    assert Job("IRMLinear-v0", "erm-linear", 3, n_train=123, regime_query=1).key() != legacy


# ---------------------------------------------------------------- staged jobs and the regime query


def test_a_staged_job_fine_tunes_and_records_every_stage() -> None:
    stages = (DataStage("observational", 200), DataStage("interventional", 40, 1.0, FINETUNE_SEED_OFFSET),
              DataStage("interventional", 80, 1.0, FINETUNE_SEED_OFFSET))
    job = Job("IceCreamShorts-v1", "scaled-mlp", 0, n_test=100, stages=stages,
              hparams=frozen({"width": 4, "depth": 1, "max_updates": 40}))
    records = run_job(job).records
    assert [r["stage"] for r in records] == [0, 1, 2] and {r["n_stages"] for r in records} == {3}
    assert [r["stage_domain"] for r in records] == ["observational:200", "interventional:40@1", "interventional:80@1"]
    assert [r["train_n"] for r in records] == [200, 40, 80] and records[0]["track"] == "interventional"
    assert records[2]["data_stages"][1]["seed_offset"] == FINETUNE_SEED_OFFSET
    assert records[2]["compute"]["updates"] == sum(r["compute"]["stage_compute"]["updates"] for r in records)
    with one_line_error("cannot be fine-tuned"):
        run_job(Job("IceCreamShorts-v1", "erm-linear", 0, n_test=100, stages=stages))
    with one_line_error("evaluation seeds"):
        run_job(Job("IceCreamShorts-v1", "scaled-mlp", 600_000, n_test=100, stages=stages[1:]))


def test_the_observed_regime_is_queried_as_asked() -> None:
    base = dict(n_train=400, n_test=100, fraction=0.5, regime_observed=True,
                hparams=frozen({"width": 8, "depth": 1, "max_updates": 60}))
    q0, q1 = (run_job(Job("IceCreamShorts-v1", "scaled-mlp", 0, regime_query=q, keep_predictions=True, **base))
              for q in (0, 1))
    assert q1.records[0]["regime_query"] == 1 and q0.records[0]["regime_query"] == 0
    assert q0.records[0]["compute"] == q1.records[0]["compute"]          # the same model, asked differently
    assert not np.allclose(q0.predictions["id"], q1.predictions["id"])
    with one_line_error("regime_query"):
        run_job(Job("IceCreamShorts-v1", "scaled-mlp", 0, regime_query=2, **base))


# ---------------------------------------------------------------- determinism, resume and backends


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    return run(ScalingConfig(**TINY), out=tmp_path_factory.mktemp("tiny") / "a", jobs=1, progress=False)


def test_same_sweep_twice_gives_the_same_records(tiny_sweep, tmp_path) -> None:
    records = read_records(tiny_sweep)
    assert len({r["key"] for r in records}) == len(plan(ScalingConfig(**TINY)))
    kept = [r for r in records if family(r) in ("finetune", "order", "reversed") and r["stage"] == r["n_stages"] - 1]
    assert kept and all(prediction_path(tiny_sweep, r["key"]).exists() for r in kept)
    again = run(ScalingConfig(**TINY), out=tmp_path / "b", jobs=2, progress=False)
    assert strip_volatile(read_records(again)) == strip_volatile(records)


def test_ray_backend_gives_the_same_records(tiny_sweep, tmp_path) -> None:
    pytest.importorskip("ray", reason='Ray is not installed (pip install "causalbench-suite[ray]"); CI installs it')
    out = run(ScalingConfig(**TINY), out=tmp_path / "ray", jobs=2, backend="ray", progress=False)
    assert strip_volatile(read_records(out)) == strip_volatile(read_records(tiny_sweep))


def test_resume_runs_only_what_is_missing(tiny_sweep, tmp_path) -> None:
    records = read_records(tiny_sweep)
    out = tmp_path / "resumed"
    out.mkdir()
    (out / "scaling.json").write_text((tiny_sweep / "scaling.json").read_text())
    keep = sorted({r["key"] for r in records})[: len(records) // 3]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records if r["key"] in keep) + '{"sch')
    run(ScalingConfig(**TINY), out=out, jobs=1, resume=True, progress=False)
    assert strip_volatile(read_records(out)) == strip_volatile(records)
    with one_line_error("different configuration"):
        run(ScalingConfig(**{**TINY, "seeds": (3,)}), out=out, jobs=1, resume=True, progress=False)


# ---------------------------------------------------------------- the command line


def test_help_says_how_many_sizes_a_fit_needs(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["scaling", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "A fit needs at least 4 sizes" in text and "--quick" in text and "--device" in text and "ray" in text


@pytest.mark.parametrize("extra, match", [
    (["--env", "Nope-v0"], "Nope-v0"),
    (["--sizes", "1e2,abc"], "--sizes"),
    (["--sizes", "150.5,300"], "not an integer"),
    (["--models", "64"], "model size"),
    (["--mixtures", "0,1.5"], "[0, 1]"),
    (["--regimes", "sideways"], "unknown"),
    (["--budgets", "300,100"], "increasing"),
    (["--jobs", "0"], "--jobs"),
    (["--device", "tpu"], "--device must be cpu or cuda"),
    (["--hparams", "max_updates"], "KEY=VALUE"),
    (["--hparams", "depht=3"], "no hyper-parameter"),
    (["--resume", "/nonexistent/dir"], "nothing to resume"),
])
def test_bad_inputs_give_one_line_errors(extra, match, capsys, tmp_path) -> None:
    assert main(["scaling", *extra, "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err and err.startswith("causalbench scaling: error:"), err
    assert not (tmp_path / "x").exists()


def test_hparams_reach_every_job_and_quick_keeps_its_schedule() -> None:
    from causalbench.cli.scaling import config_from_args, configure_scaling

    parser = argparse.ArgumentParser()
    configure_scaling(parser)
    config = config_from_args(parser.parse_args(["--quick", "--hparams", "patience=5,lr=3e-4"]))
    assert config.overrides == {"max_updates": 400, "patience": 5, "lr": 3e-4}
    assert all(dict(j.hparams)["patience"] == 5 for j in plan(config) if j.method == "scaled-mlp")


def test_device_cuda_without_a_gpu_is_one_line(capsys, tmp_path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the error path does not apply")
    assert main(["scaling", "--quick", "--device", "cuda", "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "torch sees no GPU" in err


def test_importing_the_cli_module_stays_light() -> None:
    code = ("import sys, causalbench.cli.scaling; heavy = [m for m in ('torch', 'matplotlib', 'pandas', 'ray') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"causalbench.cli.scaling imports {out} at import time"


# ---------------------------------------------------------------- the --quick run (CI)

QUICK_SECONDS = 180   # measured ~75-110 s on 2 otherwise idle cores; the bound leaves room for a shared machine


def test_quick_run_writes_records_fits_and_plots(quick_sweep) -> None:
    out, seconds = quick_sweep
    assert seconds < QUICK_SECONDS, f"--quick took {seconds:.0f} s"
    records = read_records(out)
    assert len({r["key"] for r in records}) == len(plan(ScalingConfig.quick()))
    for r in records:
        if r["method"] == "scaled-mlp":
            c = r["compute"]
            assert c["train_flops"] == 6.0 * c["params"] * c["samples_seen"] and c["updates"] >= 1
    envs = {r["env_id"] for r in records}
    for env in envs:
        for kind in ("scale", "mixture", "finetune"):
            assert (out / "plots" / f"{env}-{kind}.png").exists()
    fits = json.loads((out / "fits.json").read_text())
    assert {f["env_id"] for f in fits} == envs and all(f["n_sizes"] == 4 for f in fits)
    assert all(f["status"] in ("ok", "flat", "no plateau") for f in fits)    # 4 sizes: every curve has a fit
    finetune = json.loads((out / "finetune.json").read_text())
    assert {t["env_id"] for t in finetune} == envs and all(t["budgets"] == [0, 100, 1000] for t in finetune)
    paths = json.loads((out / "path_dependence.json").read_text())
    assert {p["env_id"] for p in paths} == envs and all(p["across_seeds"] > 0 for p in paths)
    assert all(p[k]["ci_low"] >= 0 for p in paths for k in ("across_data_orders", "across_stage_orders")
               if p[k]["n"] > 1)     # disagreements are >= 0, and so are their intervals
    text = (out / "scaling.md").read_text()
    assert "no plateau within N_max" in text or "flat at" in text


def test_the_report_is_rebuilt_identically_and_resume_finds_nothing_to_do(quick_sweep, capsys) -> None:
    from causalbench.reports.scaling import write_scaling_report

    out, _ = quick_sweep
    before = {p: (out / p).read_text() for p in ("scaling.md", "fits.json", "finetune.json", "path_dependence.json")}
    n = len(read_records(out))
    assert main(["scaling", "--resume", str(out), "--no-progress"]) == 0
    assert len(read_records(out)) == n and "fitted asymptote" in capsys.readouterr().out
    write_scaling_report(out, plots=False)
    assert {p: (out / p).read_text() for p in before} == before
