"""The official evaluation: methods on hidden instances in isolated workers, ranked fairly; outside methods welcome.

Done-when tests of issue 12: an oracle-copying method does not score like the causal reference on hidden
instances, a probe finds no roles or env id in what it is handed, and a method in a package outside the
repository runs under `causalbench run --jobs 2` and `causalbench evaluate` and is published.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import causalbench as cb
from causalbench.env.instances import INSTANCE_SEED_BOUND
from causalbench.experiments.config import Job
from causalbench.experiments.job import run_job
from causalbench.leaderboard.evaluate import draw_instances, evaluate_method, evaluate_reference
from causalbench.leaderboard.format import SuiteSpec
from causalbench.scoring.suite import EFFECT_UNITS

N_TEST = 1000
COPY = SuiteSpec("copy-v1", ("IceCreamShorts-v1", "IRMLinear-v0"), (0,), n_test=N_TEST, n_train=200, instances=3)
FIXED = {env: (11, 22, 33) for env in COPY.envs}   # fixed instances: the test is deterministic


def test_an_oracle_copier_does_not_score_like_the_causal_reference_on_hidden_instances(outside):
    copier = f"{outside}:OracleCopier"
    pooled: dict[str, dict[str, list[float]]] = {"copier": {}, "reference": {}}
    for env in COPY.envs:
        # The attack works on the public instance: there the copier IS the causal reference.
        job = Job(env, copier, 0, n_train=200, n_test=N_TEST, hparams=(("env_id", env),))
        got = run_job(job).records[-1]["scores"]
        ref = run_job(dataclasses.replace(job, method="causal-reference", hparams=())).records[-1]["scores"]
        for m in ("effect_error", "ood_link"):
            assert got[m] == pytest.approx(ref[m], abs=1e-9), (env, m)
        # The official path: hidden instances, isolated workers, a cheater that knows the family.
        suite = dataclasses.replace(COPY, envs=(env,))
        instances = {env: FIXED[env]}
        cheat = evaluate_method(copier, suite, instances=instances, overrides={"env_id": env}, jobs=2)
        reference = evaluate_reference("causal-reference", suite, instances=instances, jobs=2)
        assert cheat["coverage"] == [1, 1] and not cheat["failures"], cheat["failures"]
        for name, e in (("copier", cheat), ("reference", reference)):
            for m in ("effect_error", "ood_link"):
                pooled[name].setdefault(m, []).extend(r[m] for r in e["results"][env]["runs"])
    # Effect contrasts are means over EFFECT_UNITS paired units and risks over N_TEST rows (sd(Y) units): five
    # standard errors of a unit-variance mean are far below the gap a copier that does not know the instance opens.
    gaps = {m: np.mean(pooled["copier"][m]) - np.mean(pooled["reference"][m]) for m in ("effect_error", "ood_link")}
    assert gaps["effect_error"] > 5 / np.sqrt(EFFECT_UNITS), gaps
    assert gaps["ood_link"] > 5 / np.sqrt(N_TEST), gaps
    assert np.mean(pooled["reference"]["effect_error"]) < 5 / np.sqrt(EFFECT_UNITS)   # the reference stays exact


def test_a_method_that_inspects_what_it_is_handed_finds_no_roles_and_no_env_id(outside, tmp_path):
    probe = f"{outside}:Probe"
    suite = SuiteSpec("probe-v1", ("IceCreamShorts-v1", "TreatmentRecovery-v0"), (0,), n_test=100, n_train=100,
                      instances=1)
    report = tmp_path / "seen.jsonl"
    entry = evaluate_method(probe, suite, overrides={"report": str(report)}, jobs=1)
    seen = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(seen) == 2 and entry["coverage"] == [2, 2]
    text = json.dumps(seen)
    secrets_ = {*suite.envs, "IceCream", "Treatment", *map(str, (s for v in entry["instances"].values() for s in v))}
    for env_id in suite.envs:
        public = cb.make(env_id)
        # (the action column is part of a decision task: every Task names it, under its anonymous column name)
        secrets_ |= {v for v in public.scm.names if v != "y"} | set(public.roles.values()) - {"action"}
    leaked = sorted(s for s in secrets_ if s in text)
    assert not leaked, leaked
    for s in seen:
        assert s["task"]["env_id"].startswith("task-") and s["task"]["roles"] is None and s["task"]["target"] == "y"
        assert s["dataset"]["roles"] == {} and s["dataset"]["spec"]["env_id"] == s["task"]["env_id"]
        assert s["dataset"]["spec"]["options"] == {} and s["dataset"]["spec"]["scm_hash"] == ""
        assert s["envs_in_process"] == 0   # no environment or SCM object exists in the worker
    # The probe does find the env id and variable names where they are handed over (in-process, public
    # instance: `causalbench run`), though roles are stripped for non-privileged methods there too.
    control = tmp_path / "control.jsonl"
    run_job(Job("IceCreamShorts-v1", probe, 0, n_train=100, n_test=100, hparams=(("report", str(control)),)))
    shown = json.loads(control.read_text())
    assert shown["task"]["env_id"] == "IceCreamShorts-v1" and "ice_cream" in shown["dataset"]["variables"]
    assert shown["dataset"]["roles"] == {} and shown["envs_in_process"] > 0


def test_instance_seeds_are_drawn_secretly_and_published_with_the_entry(outside):
    suite = SuiteSpec("two-v1", ("IRMLinear-v0",), (0, 1), n_test=50, n_train=100, instances=2)
    first, second = draw_instances(suite), draw_instances(suite)
    assert first != second and all(0 <= s < INSTANCE_SEED_BOUND for v in first.values() for s in v)
    entry = evaluate_method(f"{outside}:TrainingMean", suite, jobs=1)
    seeds = entry["instances"]["IRMLinear-v0"]
    assert len(seeds) == 2 and max(seeds) > 2**32   # 63-bit seeds, not small guessable numbers
    runs = entry["results"]["IRMLinear-v0"]["runs"]
    assert sorted((r["instance"], r["seed"]) for r in runs) == sorted((s, k) for s in seeds for k in (0, 1))
    assert len({r["scm_hash"] for r in runs}) == 2 and entry["overall"]["effect_error"]["n"] == 4


def test_populate_baselines_evaluates_everything_on_one_instance_set(tiny, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("leaderboard_submit",
                                                  Path(__file__).resolve().parents[2] / "leaderboard" / "submit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = tmp_path / "board"
    status = module.populate_baselines(["erm-linear", "offline-policy"], tiny, root, jobs=2, progress=False,
                                       log=lambda s: None)
    assert status == {"erm-linear": "ok", "offline-policy": "ok", "causal-reference": "ok", "bayes-train": "ok",
                      "null": "ok"}
    entries = {p.stem: json.loads(p.read_text()) for p in (root / "entries").glob("*.json")}
    assert len({json.dumps(e["instances"], sort_keys=True) for e in entries.values()}) == 1
    assert entries["offline-policy"]["coverage"] == [1, 2] and "IRMLinear-v0" in entries["offline-policy"]["not_applicable"]
    assert entries["null"]["kind"] == "reference" and entries["erm-linear"]["baseline"]
    readme = (root / "README.md").read_text()
    ranked = readme.split("## Ranked: observational")[1].split("##")[0]
    assert "| 1 | erm-linear (baseline) |" in ranked and "offline" not in ranked   # partial coverage: not ranked
    per_env = readme.split("### TreatmentRecovery-v0")[1].split("###")[0]
    assert "offline-policy (baseline)" in per_env and "| ref | null (reference) |" in per_env
    assert "## Not applicable or failed" in readme and "Instance set 1, used by" in readme


def test_a_method_outside_the_repository_runs_evaluates_and_is_published(tmp_path, package_writer):
    """The README's "Add your own method" path, walked with a package in a temporary folder (PYTHONPATH), as a
    `module:Class` spec and as an installed entry point."""
    folder = package_writer(tmp_path / "site", {"cbtest-mean": "cbtest_outside.methods:TrainingMean"})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}
    work = tmp_path / "work"
    work.mkdir()

    def cli(*argv: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "causalbench.cli", *argv, "--no-progress"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    cli("run", "--quick", "--methods", "cbtest_outside.methods:TrainingMean,cbtest-mean", "--envs",
        "IRMLinear-v0,TreatmentRecovery-v0", "--seeds", "2", "--jobs", "2", "--out", "run")
    records = [json.loads(line) for line in (work / "run" / "results.jsonl").read_text().splitlines()]
    ran = {(r["method"], r["env_id"], r["seed"]) for r in records}
    for method in ("cbtest_outside.methods:TrainingMean", "cbtest-mean"):
        assert {(method, e, s) for e in ("IRMLinear-v0", "TreatmentRecovery-v0") for s in (0, 1)} <= ran
    done = cli("evaluate", "cbtest-mean", "--suite", "smoke-v3", "--jobs", "2", "--authors", "Ada Lovelace",
               "--leaderboard", "board", "--out", "cbtest-mean.entry.json")
    assert "published" in done.stdout
    entry = json.loads((work / "board" / "entries" / "cbtest-mean.json").read_text())
    assert entry["kind"] == "method" and entry["spec"] == "cbtest-mean" and entry["coverage"] == [2, 2]
    assert entry == json.loads((work / "cbtest-mean.entry.json").read_text())
    assert "| 1 | cbtest-mean |" in (work / "board" / "README.md").read_text()
    assert 'data-method="cbtest-mean"' in (work / "board" / "index.html").read_text()


def test_reused_worker_processes_find_a_folder_added_to_sys_path_later(tmp_path, package_writer):
    """joblib keeps its worker processes between calls; a method folder the caller adds to sys.path afterwards
    must still be found there (the caller's sys.path travels with the jobs)."""
    import importlib

    from causalbench.experiments.launchers import parallel_map

    list(parallel_map(abs, [-1, -2, -3, -4], 2))   # start (or reuse) two worker processes now
    folder = package_writer(tmp_path / "late")
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        suite = SuiteSpec("late-v1", ("IRMLinear-v0",), (0, 1), n_test=50, n_train=100, instances=2)
        entry = evaluate_method("cbtest_outside.methods:TrainingMean", suite, jobs=2)
    finally:
        sys.path.remove(str(folder))
    assert entry["coverage"] == [1, 1] and not entry["failures"], entry["failures"]
