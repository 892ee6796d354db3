"""Prediction submissions (unverified): write -> check -> publish, rendered rows equal a fresh re-score, CLI,
schema, protections. Method evaluation on hidden instances is tested in test_official.py."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from causalbench.errors import SubmissionError
from causalbench.env.registry import suite
from causalbench.experiments.config import EVAL_SEED_OFFSET, Job, RunConfig
from causalbench.experiments.job import run_job
from causalbench.scoring import score_predictions
from causalbench.cli.leaderboard import configure_evaluate, configure_submit
from causalbench.leaderboard.format import LEADERBOARD_DIR, OFFICIAL_SUITE, SCHEMA
from causalbench.leaderboard.predictions import write_predictions
from causalbench.leaderboard.validate import check_submission, publish, read_manifest
from causalbench.scoring.aggregate import t_quantile
from causalbench.testing import one_line_error

REPO = Path(__file__).resolve().parents[2]


def fresh_scores(manifest: Path, suite) -> dict[tuple[str, int], object]:
    """Re-score the .npz directly with the scorer, bypassing the submission code."""
    data = json.loads(manifest.read_text())
    out = {}
    with np.load(manifest.parent / data["predictions"]["file"], allow_pickle=False) as arrays:
        for env in suite.envs:
            for seed in suite.seeds:
                prefix = f"{env}/{seed}/"
                preds = {k[len(prefix):]: arrays[k] for k in arrays.files if k.startswith(prefix)}
                out[(env, seed)] = score_predictions(preds, env, EVAL_SEED_OFFSET + seed, suite.n_test)
    return out


def overall(fresh: dict, suite, metric: str) -> tuple[float, float, float]:
    """Per seed: mean over envs; then mean and a 95% Student-t interval over seeds, clipped at 0 (computed here)."""
    def value(s):
        return max(v for k, v in s.excess_risk.items() if k != "id") if metric == "ood_worst" else getattr(s, metric)
    per_seed = [np.mean([value(fresh[(env, seed)]) for env in suite.envs]) for seed in suite.seeds]
    mean, sd = float(np.mean(per_seed)), float(np.std(per_seed, ddof=1))
    half = t_quantile(len(per_seed) - 1) * sd / np.sqrt(len(per_seed))
    high = mean + half if metric != "spurious_reliance" else min(mean + half, 1.0)
    return mean, max(mean - half, 0.0), high


def test_valid_submission_is_accepted_as_unverified_and_rendered_row_matches_a_fresh_rescore(valid_submission, tiny,
                                                                                             tmp_path):
    root = tmp_path / "board"
    target = publish(valid_submission, root, tiny)
    assert target == root / "entries" / "tiny-erm.json"
    assert sorted(p.name for p in root.iterdir()) == [".lock", "README.md", "entries", "index.html"]
    entry = json.loads(target.read_text())
    assert entry["kind"] == "predictions" and entry["suite"] == tiny.manifest()
    fresh = fresh_scores(valid_submission, tiny)
    for (env, seed), s in fresh.items():
        got = next(r for r in entry["results"][env]["runs"] if r["seed"] == seed)
        for m in ("excess_risk_id", "ood_link", "ood_worst", "spurious_reliance", "effect_error"):
            assert got[m] == pytest.approx(getattr(s, m), rel=1e-12)
        assert entry["results"][env]["env_version"] == "v0"
    readme = (root / "README.md").read_text()
    assert "## Ranked" not in readme   # predictions are never ranked
    section = readme.split("## Unverified: prediction submissions (not ranked)")[1]
    row = next(line for line in section.splitlines() if line.startswith("| tiny-erm |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    for i, m in enumerate(("effect_error", "ood_link", "regret", "ood_worst", "spurious_reliance")):
        if m == "regret":
            continue
        mean, low, high = overall(fresh, tiny, m)
        assert cells[2 + i] == f"{mean:.3f} [{low:.3f}, {high:.3f}]", m
    assert "`IRMLinear-v0`" in readme and "version v0" not in readme.split("## Unverified")[0]
    page = (root / "index.html").read_text()
    tr = re.search(r'<tr data-method="tiny-erm".*?</tr>', page).group(0)
    assert 'data-kind="unverified"' in tr and '<table class="sortable" id="overall">' not in page
    values = [float(v) for v in re.findall(r'data-value="([-0-9.e+]+)"', tr)[:2]]
    assert values == pytest.approx([overall(fresh, tiny, m)[0] for m in ("effect_error", "ood_link")], rel=1e-12)


def test_predictions_are_trained_exactly_as_the_runner_trains(valid_submission, tiny):
    entry = check_submission(valid_submission, tiny)
    config = tiny.run_config(("erm-linear",))
    for env in tiny.envs:
        record = run_job(config.job(env, "erm-linear", 1)).records[-1]["scores"]
        got = next(r for r in entry["results"][env]["runs"] if r["seed"] == 1)
        for m in ("excess_risk_id", "ood_link", "ood_worst", "spurious_reliance", "effect_error", "regret"):
            assert got[m] == (pytest.approx(record[m], rel=1e-12) if record[m] is not None else None)


def test_every_registered_method_is_trained_as_the_runner_trains_it():
    """evaluate's training mirrors run_job: identical scores for every method and protocol (quick budgets)."""
    from causalbench.experiments.sweep import plan_run
    from causalbench.leaderboard.predictions import predict_job

    config = RunConfig.quick(envs=("IceCreamShorts-v1", "Copycat-v0"), seeds=(1,), references=False)
    first: dict[str, Job] = {}
    for job in plan_run(config)[0]:  # each method once, on the first env it applies to
        first.setdefault(job.method, job)
    assert {"erm-linear", "continual", "online-bandit"} <= set(first)  # static, continual and online protocols
    for job in first.values():
        record = run_job(job).records[-1]["scores"]
        ours = predict_job(job)[2].to_dict()
        assert {k: ours[k] for k in record if k != "fingerprints"} == {k: v for k, v in record.items()
                                                                         if k != "fingerprints"}, job


def test_manifest_records_what_the_format_promises(valid_submission, tiny):
    data = read_manifest(valid_submission)
    assert data["format"] == "causalbench-submission" and data["format_version"] == 1
    assert data["suite"] == tiny.manifest() and data["track"] == "observational"
    assert set(data["claimed_metrics"]) == set(tiny.envs)
    with np.load(valid_submission.with_suffix(".npz"), allow_pickle=False) as arrays:
        assert all(arrays[k].dtype == np.float64 and arrays[k].ndim == 1 for k in arrays.files)
        assert {k.split("/")[0] for k in arrays.files} == set(tiny.envs)


def test_official_suite_is_the_runners_default():
    assert OFFICIAL_SUITE.envs == suite("default") and OFFICIAL_SUITE.instances >= 2
    assert OFFICIAL_SUITE.n_test == RunConfig().n_test and OFFICIAL_SUITE.n_train == RunConfig().n_train


def test_a_suite_id_never_changes_meaning():
    """Entries of official-v3 must stay comparable: changing the runner's defaults needs a new suite id."""
    assert OFFICIAL_SUITE.describe() == {
        "id": "official-v3", "seeds": [0], "n_test": 2000, "n_train": 5000, "budget": 20_000, "num_envs": 256,
        "instances": 3, "overrides": {},
        "envs": ["IceCreamShorts-v1", "IRMLinear-v0", "TreatmentRecovery-v0", "LabelFlip-v0", "Asia-v0",
                 "RandomSCM-v1", "IceCreamHD-v1", "GoalMisgen-v0", "Copycat-v0"]}


def test_check_validates_and_writes_nothing(valid_submission, tiny, tmp_path, capsys, files_under):
    before = files_under(valid_submission.parent)
    parser = argparse.ArgumentParser()
    handler = configure_submit(parser)
    args = parser.parse_args([str(valid_submission), "--check", "--leaderboard", str(tmp_path / "board")])
    args.suite = tiny
    assert handler(args) == 0
    assert "valid; nothing written" in capsys.readouterr().out
    assert not (tmp_path / "board").exists() and files_under(valid_submission.parent) == before


def test_cli_evaluate_predictions_then_submit_on_the_smoke_suite(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    run = configure_evaluate(parser)
    out = tmp_path / "mine.json"
    assert run(parser.parse_args(["erm-linear", "--predictions", "--out", str(out), "--suite", "smoke-v3", "--name",
                                  "mine", "--authors", "A. One, B. Two", "--jobs", "1", "--no-progress"])) == 0
    assert read_manifest(out)["authors"] == ["A. One", "B. Two"]
    parser = argparse.ArgumentParser()
    submit = configure_submit(parser)
    with one_line_error("--check"):  # a non-official suite never goes into the official leaderboard
        submit(parser.parse_args([str(out), "--suite", "smoke-v3"]))
    assert submit(parser.parse_args([str(out), "--suite", "smoke-v3", "--leaderboard", str(tmp_path / "b")])) == 0
    assert (tmp_path / "b" / "entries" / "mine.json").exists()
    assert "wrote" in capsys.readouterr().out


def test_cli_wiring():
    from causalbench.cli import main

    with pytest.raises(SystemExit):
        main(["submit", "--help"])
    assert main(["submit", "/nonexistent/x.json", "--check"]) == 2


def test_existing_entries_are_protected(valid_submission, tiny, tmp_path):
    root = tmp_path / "board"
    publish(valid_submission, root, tiny)
    before = (root / "entries" / "tiny-erm.json").read_bytes()
    with one_line_error("--replace"):
        publish(valid_submission, root, tiny)
    publish(valid_submission, root, tiny, replace=True)
    assert (root / "entries" / "tiny-erm.json").read_bytes() == before
    # A built-in baseline's name (or entry) cannot be taken by an outside submission.
    data = json.loads(valid_submission.read_text())
    data["method"] = "erm-linear"
    renamed = tmp_path / "renamed.json"
    shutil.copy(valid_submission.with_suffix(".npz"), tmp_path / data["predictions"]["file"])
    renamed.write_text(json.dumps(data))
    with one_line_error("looks like the built-in 'erm-linear'"):
        publish(renamed, root, tiny)
    assert not (root / "entries" / "erm-linear.json").exists()
    publish(renamed, root, tiny, baseline=True)
    assert json.loads((root / "entries" / "erm-linear.json").read_text())["baseline"] is True


def test_a_leaderboard_holds_one_suite(valid_submission, tiny, tmp_path):
    root = tmp_path / "board"
    publish(valid_submission, root, tiny)
    with one_line_error("suite"):
        publish(valid_submission, root, OFFICIAL_SUITE)


def test_a_method_that_applies_nowhere_is_refused(tmp_path):
    from causalbench.leaderboard.format import SuiteSpec

    suite = SuiteSpec("x", ("IRMLinear-v0",), (0,), 20, n_train=100)
    with one_line_error("applies to none"):
        write_predictions("offline-policy", tmp_path / "x.json", suite)
    assert list(tmp_path.iterdir()) == []


def test_schema_file_is_the_schema_and_agrees_with_jsonschema(valid_submission):
    assert json.loads((REPO / "leaderboard" / "schema" / "submission-v1.json").read_text()) == SCHEMA
    def patterns(node):
        if isinstance(node, dict):
            yield from ([node["pattern"]] if isinstance(node.get("pattern"), str) else [])
            for v in node.values():
                yield from patterns(v)
    found = list(patterns(SCHEMA))
    assert len(found) >= 8 and all(p.startswith("^") and p.endswith("$") for p in found)  # check_schema anchors
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(SCHEMA)
    data = json.loads(valid_submission.read_text())
    assert validator.is_valid(data)
    from causalbench.leaderboard.format import check_schema

    for mutate in (lambda d: d.pop("authors"), lambda d: d.update(track="offline"), lambda d: d.update(extra=1),
                   lambda d: d["suite"].update(seeds=[0, 0]), lambda d: d.update(paper="ftp://x"),
                   lambda d: d["predictions"].update(file="../x.npz"), lambda d: d.update(format_version=2),
                   lambda d: d["claimed_metrics"]["IRMLinear-v0"]["0"].update(accuracy=1.0)):
        bad = json.loads(json.dumps(data))
        mutate(bad)
        assert not validator.is_valid(bad)
        with one_line_error(kind=SubmissionError):
            check_schema(bad)


def test_importing_the_submission_module_stays_light():
    code = ("import sys, causalbench.leaderboard.validate; "
            "heavy = [m for m in ('torch', 'pandas', 'matplotlib', 'pgmpy', 'sklearn') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_default_leaderboard_folder_is_the_checkouts():
    assert LEADERBOARD_DIR == REPO / "leaderboard" and (LEADERBOARD_DIR / "entries").is_dir()


def test_a_users_own_method_is_one_call_from_a_prediction_submission(tiny, tmp_path):
    """A method that is not a built-in (it predicts the training mean: no reliance on any feature)."""
    from causalbench.methods import METHODS, Method, register_method

    class Mean(Method):
        def fit(self, data):
            self.mean_ = float(np.mean(data.y))
            return self

        def predict(self, X):
            return np.full(len(X), self.mean_)

    register_method("test-training-mean", Mean, summary="the training mean", track="observational")
    try:
        path = write_predictions("test-training-mean", tmp_path / "mean.json", tiny, authors=["Someone"])
        target = publish(path, tmp_path / "board", tiny)
    finally:
        METHODS.unregister("test-training-mean")
    entry = json.loads(target.read_text())
    assert entry["coverage"] == [2, 2] and not entry["baseline"] and entry["kind"] == "predictions"
    assert entry["overall"]["spurious_reliance"]["mean"] == 0.0
    assert all(not s["reliance_defined"] for r in entry["results"].values() for s in r["runs"])
