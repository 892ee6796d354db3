"""`causalbench reproduce irm2019`: the reproduction machinery, and the paper's findings on a reduced run.

The reduced run is `--quick`: the paper's n (1,000 rows per environment), environments (0.2, 2; 5 for
validation) and optimiser (100,000 full-batch Adam steps per reg, 6 regs), but 2 repetitions per
setting instead of 200. Acceptance (issue 17): IRM's causal error below ERM's in FOU and FOS, and
ERM's and IRM's causal errors within 2x of the published means in all four settings.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from causalbench.baselines.irm2019 import IRM2019, PUBLISHED
from causalbench.cli import main
from causalbench.experiments.reproduce import REPRODUCTIONS, Cell, ReproduceConfig, checks, linear_weights, summarize
from causalbench.testing import one_line_error


def test_linear_weights_are_exact_for_affine_predictors() -> None:
    w = np.array([0.5, -2.0, 3.0])
    np.testing.assert_allclose(linear_weights(lambda X: X @ w + 7.0, 3), w, rtol=1e-14)


def test_summary_and_checks_can_fail() -> None:
    records = [{"setting": "FOU", "label": lab, "causal_error": c, "noncausal_error": c / 2}
               for lab, c in [("ERM", 0.009), ("ERM", 0.011), ("IRM", 0.02), ("IRM", 0.03)]]
    cells = summarize(records)
    assert cells[("FOU", "ERM")].causal == pytest.approx(0.01) and cells[("FOU", "IRM")].reps == 2
    assert cells[("FOU", "ERM")].causal_se == pytest.approx(0.001)   # sd sqrt(2) * 0.001 over sqrt(2) reps
    # IRM (0.025) is not below ERM (0.010); ERM is 1.1x the published 0.0091; IRM is 8.7x the published 0.0029.
    assert [c.ok for c in checks(IRM2019, cells)] == [False, True, False]
    assert not checks(IRM2019, {("FOU", "IRM"): Cell(0.00287 * 2.1, 0, 0, 0, 1)})[0].ok
    assert checks(IRM2019, {("FOU", "IRM"): Cell(0.00287 * 1.9, 0, 0, 0, 1)})[0].ok


def test_registered_and_resolved() -> None:
    assert REPRODUCTIONS.get("irm2019") is IRM2019
    config = ReproduceConfig("irm2019", quick=True).resolve(IRM2019)
    assert config.settings == ("FOU", "FOS", "POU", "POS") and config.reps == 2 and config.n == 1000
    assert ReproduceConfig("irm2019").resolve(IRM2019).reps == 200
    with one_line_error("unknown setting"):
        ReproduceConfig("irm2019", settings=("XYZ",)).resolve(IRM2019)


def test_reduced_reproduction_meets_the_acceptance_criteria(tmp_path, capsys) -> None:
    assert main(["reproduce", "irm2019", "--quick", "--jobs", "2", "--no-progress", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| IRM, published |" in out and "NOT MET" not in out, out
    records = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert len(records) == 4 * 2 * 2 and {r["selected"].get("reg_") for r in records if r["label"] == "IRM"} <= {
        0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1}
    cells = summarize(records)
    for setting in ("FOU", "FOS"):
        assert cells[(setting, "IRM")].causal < cells[(setting, "ERM")].causal, cells
    for setting in ("FOU", "FOS", "POU", "POS"):
        for label in ("ERM", "IRM"):
            ratio = cells[(setting, label)].causal / PUBLISHED[setting][label][0]
            assert 0.5 <= ratio <= 2.0, (setting, label, ratio)
    assert all(c.ok for c in checks(IRM2019, cells))
