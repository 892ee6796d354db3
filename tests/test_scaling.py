"""The scaling study: the fit, the thesis on a reduced sweep, determinism, Ray = joblib, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from causalbench.cli import main
from causalbench.experiments.results import read_records
from causalbench.experiments.scaling import ScalingConfig, plan, prediction_path, run
from causalbench.reports.fit import fit_curve
from causalbench.reports.scaling import write_scaling_report
from causalbench.reports.scaling_data import build_curves, fit_all, path_dependence
from causalbench.testing import one_line_error

SIZES = np.array([100, 300, 1000, 3000, 10_000, 30_000, 100_000])
# A tiny sweep touching every axis: sizes, widths, fractions, a continual method with two domain orders.
TINY = dict(env="IceCreamShorts-v1", methods=("erm-linear", "erm-mlp", "continual"), sizes=(40, 80), widths=(8,),
            fractions=(0.0, 0.5), seeds=(0, 1), n_test=200, path_size=80, overrides={"steps": 20})


def strip_volatile(records: list[dict]) -> list[dict]:
    drop = {"timestamp", "fit_seconds"}
    return sorted(({k: v for k, v in r.items() if k not in drop} for r in records), key=lambda r: (r["key"], r["stage"]))


# ---------------------------------------------------------------- the fit


def test_fit_recovers_known_parameters_on_synthetic_curves() -> None:
    gen = np.random.default_rng(0)
    for a, b, c in [(0.8, 2.0, 0.5), (0.02, 1.0, 0.3), (1.0, -0.5, 1.0)]:
        truth = a + b * (SIZES / SIZES[0]) ** -c
        Y = truth + 0.01 * gen.standard_normal((5, len(SIZES))) + 0.01 * gen.standard_normal((5, 1))
        fit = fit_curve(SIZES, Y)
        assert fit.status == "ok", fit
        assert fit.a_lo <= a <= fit.a_hi and fit.a_hi - fit.a_lo < 0.1
        assert abs(fit.c - c) < 0.25 * c and abs(fit.b - b) < 0.1 * abs(b)
        assert np.allclose(fit.predict(SIZES), truth, atol=0.03)
        assert fit.slope == pytest.approx(-fit.c * fit.b * (SIZES[-1] / SIZES[0]) ** -fit.c * np.log(10), rel=1e-9)
        assert fit.slope == pytest.approx(-c * b * (SIZES[-1] / SIZES[0]) ** -c * np.log(10), rel=0.2)
    exact = 0.3 + 0.7 * (SIZES / 100.0) ** -0.8
    one_seed = fit_curve(SIZES, exact[None, :])
    assert one_seed.status == "ok" and one_seed.a == pytest.approx(0.3, abs=1e-6) and "one seed" in one_seed.reason


def test_fit_calls_degenerate_curves_what_they_are() -> None:
    gen = np.random.default_rng(1)
    flat = fit_curve(SIZES, 0.5 + 0.02 * gen.standard_normal((5, len(SIZES))))
    assert flat.status == "flat" and "F-test" in flat.reason
    assert flat.a_lo <= 0.5 <= flat.a_hi and flat.describe().startswith("flat at")
    few = fit_curve(SIZES[:3], np.ones((5, 3)))
    assert few.status == "too few points" and few.a is None and few.describe() == "no fit (too few points)"
    log_like = fit_curve(SIZES, 1 - 0.1 * np.log10(SIZES) + 0.002 * gen.standard_normal((5, len(SIZES))))
    assert log_like.status == "no plateau" and log_like.a is None
    assert log_like.slope == pytest.approx(-0.1, abs=0.01)
    assert fit_curve(SIZES, np.full((3, len(SIZES)), np.nan)).status == "too few points"
    with_gap = np.tile(0.2 + (SIZES / 100.0) ** -0.5, (4, 1))
    with_gap[:, 2] = np.nan                     # a size where the metric is undefined is dropped, not zero
    assert fit_curve(SIZES, with_gap).n_sizes == len(SIZES) - 1


# ---------------------------------------------------------------- the thesis, on a reduced sweep


@pytest.fixture(scope="module")
def ice_cream(tmp_path_factory) -> dict:
    config = ScalingConfig(env="IceCreamShorts-v1", methods=("erm-linear", "erm-causal-features"),
                           sizes=(100, 300, 1000, 3000, 10_000), fractions=(0.0, 0.1, 1.0), seeds=(0, 1, 2, 3),
                           n_test=1000)
    out = run(config, out=tmp_path_factory.mktemp("ice") / "sweep", jobs=2, progress=False)
    curves = build_curves(read_records(out))
    metrics = ("ood_link", "ood_worst", "ood:spurious_reversal", "spurious_reliance", "effect_error")
    return fit_all(curves, metrics)


def _level(fit):
    """(estimate, low, high) of the asymptote, or of the level of a flat curve."""
    assert fit.status in ("ok", "flat"), fit
    return fit.a, fit.a_lo, fit.a_hi


CAUSAL = "erm-causal-features w64"


def test_erm_plateaus_on_ice_cream_what_the_data_say(ice_cream) -> None:
    """What a reduced IceCreamShorts sweep (ERM = OLS, 4 seeds, N = 1e2..1e4) shows on the v2 ruler.

    - Where the spurious link breaks (ood_link, and its reversal shifts alone), ERM's excess risk plateaus above
      the causal-features learner's (about 0.65 vs 0.23 in Var(Y) units); its spurious reliance (~0.73) and
      effect error (~0.49) stay flat: more data does not remove them.
    - The worst shift says the opposite: the causal-features learner's worst excess risk is *higher* (~2.4 vs
      ~1.7), on a confounder shift, where the ice-cream proxy of the hidden temperature still helps. This is the
      env's documented counter-example, not something to tune away; reports break OOD risk down by kind.
    """
    for metric in ("ood_link", "ood:spurious_reversal"):
        erm, causal = _level(ice_cream[("erm-linear f=0", metric)]), _level(ice_cream[(CAUSAL, metric)])
        assert erm[1] > causal[2], (metric, erm, causal)
    erm, causal = _level(ice_cream[("erm-linear f=0", "ood_worst")]), _level(ice_cream[(CAUSAL, "ood_worst")])
    assert erm[2] < causal[1], "ERM's worst-shift excess risk is no longer below the causal learner's: update README"
    for metric, floor in (("spurious_reliance", 0.6), ("effect_error", 0.4)):
        e, o = _level(ice_cream[("erm-linear f=0", metric)]), _level(ice_cream[(CAUSAL, metric)])
        assert e[1] > floor > o[2], (metric, e, o)


def test_interventional_training_lowers_the_plateau(ice_cream) -> None:
    """Pooled ERM with a fraction f of fully randomised units: f = 0.1 lowers the link-shift plateau only a little
    (the learner cannot tell randomised rows from confounded ones, so it fits the mixture); f = 1 brings it to the
    causal-features learner's level."""
    f0, f01, f1 = (_level(ice_cream[(f"erm-linear f={f}", "ood_link")]) for f in ("0", "0.1", "1"))
    causal = _level(ice_cream[(CAUSAL, "ood_link")])
    assert f01[0] < f0[0], (f0, f01)
    assert f01[0] > f1[2], (f01, f1)
    assert f1[2] < f0[1] and abs(f1[0] - causal[0]) < 0.05, (f1, causal)
    spur0, spur01 = (_level(ice_cream[(f"erm-linear f={f}", "spurious_reliance")]) for f in ("0", "0.1"))
    assert spur01[0] < spur0[0]


# ---------------------------------------------------------------- determinism and backends


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory) -> Path:
    return run(ScalingConfig(**TINY), out=tmp_path_factory.mktemp("tiny") / "a", jobs=1, progress=False)


def test_records_carry_provenance_and_every_axis(tiny_sweep) -> None:
    records = read_records(tiny_sweep)
    jobs, skipped = plan(ScalingConfig(**TINY))
    assert not skipped and len({r["key"] for r in records}) == len(jobs)
    r = next(r for r in records if r["method"] == "erm-linear" and r["fraction"] == 0.5)
    for field in ("env_version", "scm_hash", "hparams", "seed", "eval_seed", "package_version", "git_hash",
                  "train_fingerprint", "scores", "n_train", "fraction", "order", "study"):
        assert field in r
    assert r["track"] == "interventional" and r["train_kind"] == "interventional"
    assert {x["track"] for x in records if x["fraction"] == 0.0} == {"observational"}
    assert {x["hparams"]["width"] for x in records if x["method"] == "erm-mlp"} == {8}
    paths = [x for x in records if x["study"] == "scaling-path"]
    assert {tuple(x["order"]) for x in paths} == {("cool", "warm"), ("warm", "cool")}
    assert all(prediction_path(tiny_sweep, x["key"]).exists() for x in paths)


def test_same_sweep_twice_gives_the_same_records(tiny_sweep, tmp_path) -> None:
    again = run(ScalingConfig(**TINY), out=tmp_path / "b", jobs=2, progress=False)
    assert strip_volatile(read_records(again)) == strip_volatile(read_records(tiny_sweep))
    key = next(r["key"] for r in read_records(again) if r["study"] == "scaling-path")
    with np.load(prediction_path(again, key)) as a, np.load(prediction_path(tiny_sweep, key)) as b:
        assert all(np.array_equal(a[k], b[k]) for k in a.files)


def test_ray_backend_gives_the_same_records_as_jobs_1(tiny_sweep, tmp_path) -> None:
    pytest.importorskip("ray", reason='Ray is not installed (pip install "causalbench-suite[ray]"); CI installs it')
    out = run(ScalingConfig(**TINY), out=tmp_path / "ray", jobs=2, backend="ray", progress=False)
    assert strip_volatile(read_records(out)) == strip_volatile(read_records(tiny_sweep))


def test_resume_runs_only_what_is_missing(tiny_sweep, tmp_path) -> None:
    records = read_records(tiny_sweep)
    out = tmp_path / "resumed"
    out.mkdir()
    for name in ("scaling.json",):
        (out / name).write_text((tiny_sweep / name).read_text())
    keep = sorted({r["key"] for r in records})[: len(records) // 3]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records if r["key"] in keep) + '{"sch')
    run(ScalingConfig(**TINY), out=out, jobs=1, resume=True, progress=False)
    assert strip_volatile(read_records(out)) == strip_volatile(records)
    with one_line_error("different configuration"):
        run(ScalingConfig(**{**TINY, "seeds": (3,)}), out=out, jobs=1, resume=True, progress=False)


def test_path_dependence_uses_the_scorers_disagreement(tiny_sweep) -> None:
    from causalbench.scoring import seed_disagreement

    (report,) = path_dependence(read_records(tiny_sweep), tiny_sweep)
    assert report["method"] == "continual" and report["runs"] == 4 and report["missing_predictions"] == 0
    runs = [r for r in read_records(tiny_sweep) if r["study"] == "scaling-path" and r["stage"] == 1]
    preds = []
    for r in runs:
        with np.load(prediction_path(tiny_sweep, r["key"])) as z:
            preds.append({k: z[k] for k in z.files})
    assert report["disagreement_all"] == pytest.approx(seed_disagreement(preds, "IceCreamShorts-v1", 0, n=200))
    for key in ("disagreement_across_seeds", "disagreement_across_orders"):
        assert report[key]["n"] == 2 and report[key]["mean"] >= 0
    assert report["spurious_reliance"]["n"] == 4


def test_cli_writes_records_fits_and_plots(tmp_path, capsys) -> None:
    out = tmp_path / "cli"
    argv = ["scaling", "--env", "IceCreamShorts-v1", "--methods", "erm-linear", "--sizes", "50,100,200,400",
            "--seeds", "2", "--interventional-fraction", "0,1", "--n-test", "200", "--out", str(out), "--jobs", "1",
            "--no-progress"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "erm-linear f=0" in text and "fitted asymptote" in text
    for name in ("results.jsonl", "scaling.md", "fits.json", "plots/scaling.png", "plots/ood_by_shift.png"):
        assert (out / name).exists(), name
    fits = json.loads((out / "fits.json").read_text())
    assert {f["curve"] for f in fits} == {"erm-linear f=0", "erm-linear f=1"}
    assert all(f["status"] in ("ok", "flat", "no plateau", "too few points") for f in fits)
    assert main(["scaling", "--resume", str(out), "--no-progress"]) == 0   # finished: just re-reports
    assert len(read_records(out)) == 2 * 4 * 2
    summary, _ = write_scaling_report(out, plots=False)
    assert "OOD excess risk on each kind of shift" in summary


# ---------------------------------------------------------------- input errors


@pytest.mark.parametrize("extra, match", [
    (["--env", "Nope-v0"], "Nope-v0"),
    (["--env", "IceCreamShorts-v1", "--methods", "erm-linear,nope"], "nope"),
    (["--env", "IceCreamShorts-v1", "--sizes", "1e2,abc"], "--sizes"),
    (["--env", "IceCreamShorts-v1", "--sizes", "150.5,300"], "not an integer"),
    (["--env", "IceCreamShorts-v1", "--sizes", "0,100"], "at least"),
    (["--env", "IceCreamShorts-v1", "--sizes", "100,100"], "duplicates"),
    (["--env", "IceCreamShorts-v1", "--interventional-fraction", "0,1.5"], "[0, 1]"),
    (["--env", "IceCreamShorts-v1", "--widths", "0"], "widths"),
    (["--env", "IceCreamShorts-v1", "--jobs", "0"], "--jobs"),
    (["--sizes", "100"], "--env is required"),
    (["--resume", "/nonexistent/dir"], "nothing to resume"),
])
def test_bad_inputs_give_one_line_errors(extra, match, capsys) -> None:
    assert main(["scaling", *extra, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err and err.startswith("causalbench scaling: error:"), err


def test_online_methods_are_skipped_with_a_reason() -> None:
    with one_line_error("nothing to run"):
        plan(ScalingConfig(env="IceCreamShorts-v1", methods=("online-bandit",)))
    jobs, skipped = plan(ScalingConfig(env="IRMLinear-v0", methods=("erm-linear", "online-bandit")))
    assert skipped and "interaction budget" in skipped[0]["reason"] and jobs


def test_importing_the_cli_module_stays_light() -> None:
    code = ("import sys, causalbench.cli.scaling; heavy = [m for m in ('torch', 'matplotlib', 'pandas', 'ray') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"causalbench.cli.scaling imports {out} at import time"
