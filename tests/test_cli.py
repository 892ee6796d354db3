"""The command line: list, describe, generate, errors."""

from __future__ import annotations

import pandas as pd
import pytest

import causalbench as cb
from causalbench.cli import main


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
