"""The one engine: records, determinism, resume after interruption (no timing windows), locks, reports."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from causalbench.cli import main
from causalbench.experiments.config import EVAL_SEED_OFFSET, Job, RunConfig
from causalbench.experiments.job import run_job
from causalbench.experiments.results import FolderLock, append_records, read_records, recorded_stages
from causalbench.experiments.sweep import plan_run, run
from causalbench.reports.run import write_report
from causalbench.testing import one_line_error

SMALL = dict(envs=("IceCreamShorts-v1", "TreatmentRecovery-v0"), methods=("erm-linear", "erm-linear-int"),
             seeds=(0, 1), references=False)
CONTINUAL = dict(envs=("IRMLinear-v0",), methods=("continual", "erm-linear"), seeds=(0, 1), references=False)


def strip_volatile(records: list[dict]) -> list[dict]:
    drop = {"timestamp", "fit_seconds", "git_hash"}
    return sorted(({k: v for k, v in r.items() if k not in drop} for r in records), key=lambda r: (r["key"], r["stage"]))


def test_records_carry_provenance_and_disjoint_evaluation_seeds(tmp_path) -> None:
    out = run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)
    records = read_records(out)
    assert len(records) == 2 * 2 * 2
    for r in records:
        for field in ("env_id", "env_version", "scm_hash", "method", "track", "protocol", "hparams", "seed",
                      "eval_seed", "package_version", "train_fingerprint", "scores", "key", "study"):
            assert field in r, field
        assert r["eval_seed"] == EVAL_SEED_OFFSET + r["seed"] and r["study"] == "run"
    with one_line_error("training seeds must lie"):
        plan_run(RunConfig(envs=("IRMLinear-v0",), methods=("erm-linear",), seeds=(EVAL_SEED_OFFSET,)))


def test_references_are_scored_beside_the_methods(tmp_path) -> None:
    out = run(RunConfig.quick(**{**SMALL, "methods": ("erm-linear",), "references": True, "seeds": (0,)}),
              out=tmp_path / "r", jobs=1, progress=False)
    refs = {(r["env_id"], r["method"]) for r in read_records(out) if r["track"] == "reference"}
    assert {m for _, m in refs} == {"causal-reference", "bayes-train", "null"}
    bayes = [r for r in read_records(out) if r["method"] == "bayes-train"]
    assert all(r["scores"]["excess_risk_id"] == 0.0 for r in bayes)


def test_same_command_twice_gives_identical_records_whatever_the_backend(tmp_path) -> None:
    a = run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False, backend="serial")
    b = run(RunConfig.quick(**SMALL), out=tmp_path / "b", jobs=2, progress=False, backend="joblib")
    assert strip_volatile(read_records(a)) == strip_volatile(read_records(b))


def test_existing_results_are_not_overwritten(tmp_path) -> None:
    run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)
    with one_line_error("--resume"):
        run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)


def test_interrupted_run_resumes_to_the_full_set_without_duplicates(tmp_path) -> None:
    """Interrupt after k finished jobs (the engine's hook, not a timing window), then resume."""
    config = RunConfig.quick(**SMALL)
    full = read_records(run(config, out=tmp_path / "full", jobs=1, progress=False))
    out = run(config, out=tmp_path / "cut", jobs=1, progress=False, max_jobs=3)
    partial = read_records(out)
    assert len(partial) == 3
    run(config, out=out, jobs=1, resume=True, progress=False)
    again = read_records(out)
    keys = [(r["key"], r["stage"]) for r in again]
    assert len(keys) == len(set(keys)) == len(full)
    assert strip_volatile(again) == strip_volatile(full)
    assert main(["run", "--resume", str(out), "--no-progress"]) == 0      # a finished run: nothing to add
    assert len(read_records(out)) == len(full)


def test_a_torn_multi_stage_job_keeps_its_recorded_stages_and_adds_only_the_missing_ones(tmp_path) -> None:
    config = RunConfig.quick(**CONTINUAL)
    out = run(config, out=tmp_path / "c", jobs=1, progress=False)
    records = read_records(out)
    continual = sorted({r["key"] for r in records if r["protocol"] == "continual"})
    assert continual and all(r["n_stages"] == 2 for r in records if r["key"] in continual)
    # The run died after writing stage 0 of one continual job (and a torn line).
    victim = continual[0]
    kept = [r for r in records if not (r["key"] == victim and r["stage"] == 1)]
    path = Path(out) / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in kept) + '{"schema": 2, "ke')
    run(config, out=out, jobs=1, resume=True, progress=False)
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.startswith("{") and x.endswith("}")]
    idents = [(r["key"], r["stage"]) for r in lines]
    assert len(idents) == len(set(idents)) == len(records)   # stage 0 was not written twice
    assert strip_volatile(read_records(out)) == strip_volatile(records)


def test_reader_keeps_the_first_record_of_each_job_stage(tmp_path) -> None:
    path = tmp_path / "results.jsonl"
    rec = {"schema": 2, "key": "k", "stage": 0, "n_stages": 1, "value": 1}
    append_records(path, [rec, {**rec, "value": 2}])
    assert [r["value"] for r in read_records(path)] == [1]
    assert recorded_stages(read_records(path)) == {"k": {0}}


def test_a_second_run_into_a_busy_folder_refuses(tmp_path) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    with FolderLock(out):
        with one_line_error("in use by another causalbench process"):
            run(RunConfig.quick(**SMALL), out=out, jobs=1, progress=False)
    done = threading.Event()
    errors: list[str] = []

    def second() -> None:
        try:
            with FolderLock(out):
                pass
        except Exception as err:  # noqa: BLE001 - recorded for the assertion
            errors.append(str(err))
        done.set()

    with FolderLock(out):
        threading.Thread(target=second).start()
        done.wait(10)
    assert errors and "in use" in errors[0]


def test_resume_refuses_a_different_configuration(tmp_path) -> None:
    out = run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)
    with one_line_error("different configuration"):
        run(RunConfig.quick(**{**SMALL, "seeds": (5,)}), out=out, jobs=1, resume=True, progress=False)


def test_report_rebuilds_from_json_lines_byte_for_byte(tmp_path) -> None:
    out = run(RunConfig.quick(**{**SMALL, "references": True}), out=tmp_path / "a", jobs=2, progress=False)
    paths = write_report(out)
    names = {p.name for p in paths}
    assert {"summary.md", "ood_link.png", "reliance.png", "effect_error.png", "regret.png"} <= names
    text = (Path(out) / "summary.md").read_text()
    assert "## IceCreamShorts-v1" in text and "| erm-linear-int | interventional |" in text
    assert "kiosk_reversed@1" in text and "causal-reference | reference" in text
    before = {p.name: p.read_bytes() for p in paths}
    # Records in another order (as another --jobs would append them): the same bytes.
    path = Path(out) / "results.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(reversed(lines)) + "\n")
    after = {p.name: p.read_bytes() for p in write_report(out)}
    assert before == after
    assert main(["report", str(out)]) == 0


def test_plan_skips_inapplicable_pairs_with_reasons() -> None:
    jobs, skipped = plan_run(RunConfig(envs=("IRMLinear-v0",), methods=("erm-linear", "online-bandit"), seeds=(0,),
                                       references=False))
    assert [j.method for j in jobs] == ["erm-linear"]
    assert skipped and skipped[0]["method"] == "online-bandit" and skipped[0]["reason"]
    with one_line_error("unknown environment"):
        plan_run(RunConfig(envs=("Nope-v0",)))
    with one_line_error("unknown method"):
        plan_run(RunConfig(envs=("IRMLinear-v0",), methods=("nope",)))


def test_one_job_function_for_every_study() -> None:
    """A scaling point and an evaluation are the same job function: identical inputs, identical scores."""
    job = Job("IRMLinear-v0", "erm-linear", 0, n_train=300, n_test=200)
    a, b = run_job(job), run_job(job)
    assert a.records[0]["scores"] == b.records[0]["scores"] and a.records[0]["key"] == job.key()
    kept = run_job(Job("IRMLinear-v0", "erm-linear", 0, n_train=300, n_test=200, keep_predictions=True))
    assert kept.predictions is not None and set(kept.predictions) >= {"id", "x2_reversed@1"}


@pytest.mark.parametrize("code, words", [(28, "full disk"), (30, "read-only file system"), (13, "not writable")])
def test_disk_errors_are_one_line(tmp_path, monkeypatch, code, words) -> None:
    """A full or read-only disk (simulated at fsync, where the kernel reports them) gives one line, no traceback."""
    import os

    def refuse(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refuse)
    with one_line_error(words):
        run(RunConfig.quick(**SMALL), out=tmp_path / f"x{code}", jobs=1, progress=False)


def test_study_only_methods_run_only_when_named() -> None:
    """A method registered with main_run=False (the scaling study's scaled-mlp) is left out of the default run."""
    from causalbench.methods import METHODS, main_run_methods

    study_only = [m for m in METHODS.names() if m not in main_run_methods()]
    assert study_only and all(METHODS.entry(m).meta["main_run"] is False for m in study_only)
    planned = {j.method for j in plan_run(RunConfig(envs=("IRMLinear-v0",), seeds=(0,)))[0]}
    assert planned and not planned & set(study_only)
    named = {j.method for j in plan_run(RunConfig(envs=("IRMLinear-v0",), methods=tuple(study_only), seeds=(0,)))[0]}
    assert named == set(study_only) | {"causal-reference", "bayes-train", "null"}
