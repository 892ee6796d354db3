"""The command line: list, describe, generate, argument validation (one line, nothing written), --hparams."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import causalbench as cb
from causalbench.cli import main
from causalbench.testing import one_line_error


def test_list_shows_every_env(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(e in out for e in cb.list_envs())


def test_describe_explains_the_env(capsys) -> None:
    assert main(["describe", "IceCreamShorts-v1"]) == 0
    out = capsys.readouterr().out
    for needle in ("temperature", "spurious", "heatwave", "E[shorts | do(X = a)]", "[temperature] -> ice_cream"):
        assert needle in out


def test_generate_parquet(tmp_path, capsys) -> None:
    path = tmp_path / "x.parquet"
    assert main(["generate", "IceCreamShorts-v1", "--kind", "interventional", "--n", "1e4", "--seed", "0",
                 "--out", str(path)]) == 0
    frame = pd.read_parquet(path)
    assert len(frame) == 10_000 and "intervened_ice_cream" in frame


def test_generate_test_sets(tmp_path) -> None:
    assert main(["generate", "IRMLinear-v0", "--kind", "test", "--n", "100", "--out", str(tmp_path / "t.npz")]) == 0
    assert len(list(tmp_path.glob("t.*.npz"))) == len(cb.make("IRMLinear-v0").test_set_names())


@pytest.mark.parametrize("argv, match", [
    (["describe", "Nope-v0"], "unknown environment 'Nope-v0'"),
    (["generate", "IceCreamShorts-v1", "--kind", "bogus", "--out", "x.csv"], "unknown dataset kind"),
    (["generate", "IceCreamShorts-v1", "--out", "x.xlsx"], "unknown output format"),
])
def test_errors_are_one_line(argv, match, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize("argv, match", [
    (["run", "--seeds", "0"], "--seeds 0: a count of seeds must be at least 1"),
    (["run", "--seeds", "-1"], "--seeds -1: a count of seeds must be at least 1"),
    (["run", "--seeds", "0,-3"], "seeds must be >= 0"),
    (["run", "--seeds", "1,1"], "seed 1 is repeated"),
    (["run", "--seeds", "2.5"], "not an integer"),
    (["run", "--n-train", "0"], "--n-train must be at least 1"),
    (["run", "--n-test", "0"], "--n-test must be at least 1"),
    (["run", "--n-train", "1e30"], "would need about"),
    (["run", "--jobs", "0"], "--jobs must be at least 1"),
    (["run", "--track", "bogus"], "unknown track 'bogus'"),
    (["run", "--hparams", "bananas=3"], "no selected method has a hyper-parameter 'bananas'"),
    (["run", "--methods", "erm-linear", "--hparams", "ridge=abc"], "ridge='abc': expected a value of type float"),
    (["run", "--hparams", "steps"], "expected KEY=VALUE"),
    (["run", "--envs", "IRMLinear-v0", "--methods", "online-bandit"], "nothing to run"),
    (["scaling", "--env", "IceCreamShorts-v1", "--seeds", "0"], "a count of seeds must be at least 1"),
    (["scaling", "--env", "IceCreamShorts-v1", "--seeds", "-1"], "a count of seeds must be at least 1"),
    (["evaluate", "erm-linear", "--jobs", "0"], "--jobs must be at least 1"),
    (["evaluate", "erm-linear", "--hparams", "steps=5"], "no selected method has a hyper-parameter 'steps'"),
    (["generate", "IceCreamShorts-v1", "--n", "0"], "--n must be at least 1"),
    (["generate", "IceCreamShorts-v1", "--n", "1e30"], "needs ~"),
    (["generate", "IceCreamShorts-v1", "--seed", "-1"], "--seed must be at least 0"),
])
def test_bad_arguments_are_one_line_errors_before_anything_is_written(argv, match, tmp_path, monkeypatch,
                                                                      capsys) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    target = {"evaluate": out / "x.json", "generate": out / "x.csv"}.get(argv[0], out)
    extra = [] if argv[0] == "generate" else ["--no-progress"]
    assert main([*argv, "--out", str(target), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and "\n" not in err and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == [], "a rejected command must not create files or folders"


def test_resume_refuses_options_it_would_ignore(tmp_path, capsys) -> None:
    assert main(["run", "--resume", str(tmp_path), "--seeds", "3", "--no-progress"]) == 2
    assert "drop --seeds" in capsys.readouterr().err


def test_hparams_reach_the_selected_methods_records(tmp_path) -> None:
    out = tmp_path / "run"
    assert main(["run", "--quick", "--envs", "IRMLinear-v0", "--methods", "erm-mlp,erm-linear", "--seeds", "1",
                 "--hparams", "steps=7,ridge=0.5", "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    hp = {r["method"]: r["hparams"] for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert hp["erm-mlp"]["steps"] == 7 and "ridge" not in hp["erm-mlp"]
    assert hp["erm-linear"]["ridge"] == 0.5 and "steps" not in hp["erm-linear"]


def test_evaluate_records_hparams_in_the_submission(tmp_path) -> None:
    path = tmp_path / "sub.json"
    assert main(["evaluate", "erm-linear", "--suite", "smoke-v3", "--hparams", "ridge=0.5", "--out", str(path),
                 "--jobs", "1", "--no-progress"]) == 0
    assert json.loads(path.read_text())["hparams"]["ridge"] == 0.5


def test_make_refuses_unknown_options_naming_the_accepted_ones() -> None:
    with one_line_error("IceCreamShorts-v1: bad options ['bogus']: accepted options: instance"):
        cb.make("IceCreamShorts-v1", bogus=1)
    with one_line_error("accepted options: n_nodes, n_hidden, density, nonlinearity, graph_seed, instance"):
        cb.make("RandomSCM-v1", colour="red")
    assert cb.make("RandomSCM-v1", n_nodes=6).options["n_nodes"] == 6
