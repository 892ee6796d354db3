"""Resolving outside methods: a "module:Class" spec in the working directory is found as `python -m` finds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from causalbench.errors import CausalBenchError
from causalbench.methods import method_spec

# The outside package the leaderboard tests install (its TrainingMean is the method resolved here).
METHOD = (Path(__file__).resolve().parents[1] / "leaderboard" / "outside_methods.py").read_text()


@pytest.fixture
def package(tmp_path):
    (tmp_path / "cbtest_local").mkdir()
    (tmp_path / "cbtest_local" / "__init__.py").write_text("")
    (tmp_path / "cbtest_local" / "methods.py").write_text(METHOD)
    return tmp_path


def test_a_spec_in_the_working_directory_resolves_and_runs(package) -> None:
    code = ("import sys, causalbench as cb; from causalbench.methods import method_spec; "
            "s = method_spec('cbtest_local.methods:TrainingMean'); print(s.track, s.protocol, s.summary)")
    # -P: no working directory on sys.path (as for the `causalbench` console script); the spec must still resolve
    out = subprocess.run([sys.executable, "-P", "-c", code], cwd=package, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "observational static Predicts the training mean (P(Y = 1) for binary targets)."
    run = subprocess.run([str(Path(sys.executable).with_name("causalbench")), "run", "--methods", "cbtest_local.methods:TrainingMean",
                          "--envs", "IRMLinear-v0", "--seeds", "1", "--n-train", "200", "--n-test", "100", "--jobs", "2",
                          "--no-progress", "--out", str(package / "out")], cwd=package, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-800:]
    assert (package / "out" / "results.jsonl").read_text().count("cbtest_local.methods:TrainingMean") >= 1


def test_a_missing_module_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CausalBenchError, match=r"^cannot import method 'cbtest_nowhere.methods:X': No module named"):
        method_spec("cbtest_nowhere.methods:X")
