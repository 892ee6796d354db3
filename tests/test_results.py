"""`causalbench.results.load`: a run folder's records as a DataFrame; and the citation file."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import causalbench as cb
from causalbench.experiments.results import SCHEMA_VERSION


def _record(method: str, seed: int, regret, stage: int = 0) -> dict:
    return {"schema": SCHEMA_VERSION, "env_id": "IceCreamShorts-v1", "env_version": "v1", "method": method,
            "seed": seed, "stage": stage, "track": "observational", "n_train": 100, "key": f"{method}{seed}",
            "hparams": {"lr": 0.1, "steps": 5},
            "scores": {"env_id": "IceCreamShorts-v1", "seed": 99, "risk_id": 1.5, "causal_reliance": 0.25,
                       "spurious_reliance": 0.75, "effect_error": 0.5, "regret": regret, "ood_link": None,
                       "risk": {"id": 1.5, "heatwave@2": 3.0}, "reliance": {"ice_cream": 0.3}}}


def test_one_row_per_record_with_headline_scores_as_columns(tmp_path) -> None:
    records = [_record("erm-linear", 0, 0.5), _record("erm-linear", 1, None), _record("irm", 0, 1.0)]
    lines = [json.dumps(r) for r in records] + [json.dumps({"schema": 999}), '{"schema": 1, "env_id": "torn']
    (tmp_path / "results.jsonl").write_text("\n".join(lines))
    df = cb.results.load(tmp_path)
    assert len(df) == 3 and list(df["method"]) == ["erm-linear", "erm-linear", "irm"]
    assert list(df["seed"]) == [0, 1, 0] and list(df["scores.seed"]) == [99, 99, 99]  # disagreeing names kept apart
    assert "scores.env_id" not in df and (df["env_id"] == "IceCreamShorts-v1").all()  # agreeing names merged
    for name, value in (("risk_id", 1.5), ("causal_reliance", 0.25), ("spurious_reliance", 0.75),
                        ("effect_error", 0.5)):
        assert df[name].dtype == float and (df[name] == value).all(), name
    assert df["regret"].iloc[0] == 0.5 and math.isnan(df["regret"].iloc[1])  # undefined = NaN
    assert df["risk"].iloc[0] == {"id": 1.5, "heatwave@2": 3.0} and df["hparams"].iloc[2]["lr"] == 0.1
    flat = cb.results.load(tmp_path / "results.jsonl", flatten=True)
    assert flat["risk.heatwave@2"].tolist() == [3.0] * 3 and flat["hparams.steps"].tolist() == [5] * 3
    assert "risk" not in flat and "reliance.ice_cream" in flat


def test_a_scaling_record_loads_too(tmp_path) -> None:
    rec = {**_record("erm-mlp", 0, None), "kind": "curve", "fraction": 0.5, "width": 64}
    (tmp_path / "results.jsonl").write_text(json.dumps(rec) + "\n")
    df = cb.results.load(tmp_path)
    assert df[["kind", "fraction", "width"]].iloc[0].tolist() == ["curve", 0.5, 64]


def test_citation_file_is_valid_cff() -> None:
    text = (Path(__file__).resolve().parents[1] / "CITATION.cff").read_text()
    top = dict(re.findall(r"^([a-z-]+):\s*(.*)$", text, flags=re.MULTILINE))
    assert top["cff-version"] == "1.2.0" and {"message", "title", "authors", "version", "license"} <= set(top)
    assert f'"{cb.__version__}"' == top["version"] and "Kirk" in text
