"""Tuned hyper-parameters: selection once per (env, method) on training data, applied by runs, recorded."""

from __future__ import annotations

import dataclasses
import json

import pytest

from causalbench.cli import main
from causalbench.experiments.config import RunConfig
from causalbench.experiments.sweep import plan_run, run
from causalbench.experiments.results import read_records
from causalbench.experiments.tuning import (BUILT_IN, TUNING_SEED, TunedTable, load_table, tunable, tune,
                                            write_table)
from causalbench.env.registry import make, suite
from causalbench.methods import method_spec
from causalbench.methods.selection import search_space
from causalbench.testing import one_line_error

TINY = dict(envs=("IRMLinear-v0",), methods=("erm-linear", "erm-mlp", "online-bandit", "erm-causal-features"),
            n_train=300, trials=3, progress=False)


@pytest.fixture(scope="module")
def table() -> TunedTable:
    return tune(**TINY, jobs=1)


def test_tuning_is_deterministic_and_covers_only_tunable_pairs(table) -> None:
    again = tune(**TINY, jobs=2)
    assert again.to_dict() == table.to_dict()
    assert set(table.entries) == {("IRMLinear-v0", "erm-linear"), ("IRMLinear-v0", "erm-mlp")}
    assert table.seed == TUNING_SEED and table.trials == 3
    for (env_id, method), tuned in table.entries.items():
        spec = method_spec(method)
        assert set(tuned.hparams) <= set(search_space(spec.cls.Params(**spec.params)))
        assert tuned.strategy == "training-domain" and tuned.trials == 3   # two training domains


def test_online_and_privileged_methods_are_not_tuned() -> None:
    env = make("IceCreamShorts-v1")
    assert not tunable(env, "online-bandit") and not tunable(env, "erm-causal-features")
    assert tunable(env, "erm-mlp") and tunable(env, "irm")


def test_runs_apply_the_table_under_overrides_and_record_the_source(table, tmp_path) -> None:
    path = write_table(table, tmp_path / "tuned.json")
    assert load_table(path).to_dict() == table.to_dict()
    config = RunConfig(envs=("IRMLinear-v0",), methods=("erm-mlp", "erm-linear"), seeds=(0,), n_train=300,
                       n_test=200, tuning=str(path), references=False, overrides={"steps": 20})
    jobs, _ = plan_run(config)
    tuned = table.get("IRMLinear-v0", "erm-mlp").hparams
    mlp = next(j for j in jobs if j.method == "erm-mlp")
    assert dict(mlp.hparams) == {**tuned, "steps": 20} and mlp.hparams_source.startswith("tuned (tuned.json")
    defaults, _ = plan_run(dataclasses.replace(config, tuning=None))
    assert {j.hparams_source for j in defaults} == {"defaults"} and dict(defaults[0].hparams) == {"steps": 20}
    records = read_records(run(config, out=tmp_path / "run", jobs=1, progress=False))
    rec = next(r for r in records if r["method"] == "erm-mlp")
    assert rec["hparams_source"] == mlp.hparams_source
    assert all(rec["hparams"][k] == v for k, v in {**tuned, "steps": 20}.items())


def test_the_built_in_table_covers_the_default_suite() -> None:
    built_in = load_table(BUILT_IN)
    for env_id in suite("default"):
        env = make(env_id)
        for method in ("erm-mlp", "irm", "vrex", "groupdro", "continual"):
            if tunable(env, method):
                assert built_in.get(env_id, method) is not None, (env_id, method)


def test_tune_cli_and_bad_tables(tmp_path, capsys) -> None:
    out = tmp_path / "t.json"
    assert main(["tune", "--envs", "IRMLinear-v0", "--methods", "erm-linear", "--trials", "2", "--n-train", "200",
                 "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    assert json.loads(out.read_text())["entries"][0]["method"] == "erm-linear"
    for argv, words in ((["run", "--defaults", "--tuned", str(out)], "exclude each other"),
                        (["run", "--tuned", str(tmp_path / "missing.json")], "no tuned hyper-parameter table"),
                        (["tune", "--trials", "0"], "--trials")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
    (tmp_path / "bad.json").write_text("{}")
    with one_line_error("not a causalbench-tuned-hparams file"):
        load_table(tmp_path / "bad.json")
