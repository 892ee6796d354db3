"""The runner: records, determinism, resume after a kill, reports rebuilt from JSON lines."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path


from causalbench.cli import main
from causalbench.reports.run import write_report
from causalbench.experiments.config import RunConfig
from causalbench.experiments.results import append_records, finished_keys, read_records
from causalbench.experiments.sweep import plan, run
from causalbench.testing import one_line_error

SMALL = dict(envs=("IceCreamShorts-v0", "TreatmentRecovery-v0"), methods=("erm-linear", "erm-linear-int"),
             seeds=(0, 1))


def strip_volatile(records: list[dict]) -> list[dict]:
    drop = {"timestamp", "fit_seconds"}
    return sorted(({k: v for k, v in r.items() if k not in drop} for r in records), key=lambda r: (r["key"], r["stage"]))


def test_records_carry_provenance(tmp_path) -> None:
    out = run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)
    records = read_records(out)
    assert len(records) == 2 * 2 * 2
    r = records[0]
    for field in ("env_id", "env_version", "scm_hash", "method", "track", "protocol", "hparams", "seed",
                  "package_version", "train_fingerprint", "scores", "key"):
        assert field in r
    assert r["env_version"] == "v0" and set(r["scores"]["fingerprints"]) >= {"id"}


def test_same_command_twice_gives_identical_metrics_and_jobs_do_not_matter(tmp_path) -> None:
    a = run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)
    b = run(RunConfig.quick(**SMALL), out=tmp_path / "b", jobs=2, progress=False)
    assert strip_volatile(read_records(a)) == strip_volatile(read_records(b))


def test_existing_results_are_not_overwritten(tmp_path) -> None:
    run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)
    with one_line_error("--resume"):
        run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)


def test_resume_skips_finished_jobs_and_ignores_a_torn_line(tmp_path) -> None:
    config = RunConfig.quick(**SMALL)
    out = run(config, out=tmp_path / "a", jobs=1, progress=False)
    records = read_records(out)
    # Simulate an interruption: keep half of the jobs, then a torn half-written line.
    keep_keys = sorted({r["key"] for r in records})[:4]
    path = Path(out) / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records if r["key"] in keep_keys) + '{"schema": 1, "ke')
    run(config, out=out, jobs=1, resume=True, progress=False)
    again = read_records(out)
    keys = [(r["key"], r["stage"]) for r in again]
    assert len(keys) == len(set(keys)) == len(records)
    assert strip_volatile(again) == strip_volatile(records)


def test_killed_run_resumes_to_the_full_set(tmp_path) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "causalbench.cli", "run", "--quick", "--envs", "IceCreamShorts-v0,IRMLinear-v0,"
           "TreatmentRecovery-v0,LabelFlip-v0", "--methods", "erm-linear,erm-linear-int", "--seeds", "3",
           "--out", str(out), "--jobs", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    results = out / "results.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not results.exists() or len(results.read_text().splitlines()) < 3):
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()[-500:]}"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = read_records(out)
    assert 3 <= len(partial) < 24, "the run should have been killed part-way"
    assert main(["run", "--resume", str(out), "--no-progress"]) == 0
    final = read_records(out)
    keys = [(r["key"], r["stage"]) for r in final]
    assert len(keys) == len(set(keys)) == 24
    assert {(r["key"], r["stage"]) for r in partial} <= set(keys)


def test_resume_refuses_a_different_configuration(tmp_path) -> None:
    out = run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)
    with one_line_error("different configuration"):
        run(RunConfig.quick(**{**SMALL, "seeds": (5,)}), out=out, jobs=1, resume=True, progress=False)


def test_report_rebuilds_from_json_lines(tmp_path) -> None:
    out = run(RunConfig.quick(**SMALL), out=tmp_path / "a", jobs=1, progress=False)
    paths = write_report(out)
    names = {p.name for p in paths}
    assert {"summary.md", "ood_score.png", "reliance.png", "effect_error.png"} <= names
    text = (Path(out) / "summary.md").read_text()
    assert "## IceCreamShorts-v0" in text and "erm-linear-int | interventional" in text
    assert "kiosk_reversed@1" in text  # every OOD number names its test sets
    assert main(["report", str(out)]) == 0


def test_plan_skips_inapplicable_pairs_with_reasons() -> None:
    jobs, skipped = plan(RunConfig(envs=("IRMLinear-v0",), methods=("erm-linear",), seeds=(0,)))
    assert [j.method for j in jobs] == ["erm-linear"]
    with one_line_error("unknown environment"):
        plan(RunConfig(envs=("Nope-v0",)))
    with one_line_error("unknown method"):
        plan(RunConfig(envs=("IRMLinear-v0",), methods=("nope",)))


def test_finished_keys_need_every_stage() -> None:
    recs = [{"key": "a", "stage": 0, "n_stages": 2}, {"key": "b", "stage": 0, "n_stages": 1}]
    assert finished_keys(recs) == {"b"}


def test_append_isolates_a_torn_line(tmp_path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"torn": ')
    append_records(path, [{"schema": 1, "x": 1}])
    assert path.read_text().splitlines()[-1] == '{"schema": 1, "x": 1}'
