"""Shared fixtures for the leaderboard tests: a tiny suite and one valid prediction submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from causalbench.leaderboard.format import SuiteSpec
from causalbench.leaderboard.predictions import write_predictions

# Two envs (real and binary target, the second a decision env with act: probes), two seeds, small sets, two
# hidden instances per env for method evaluation.
TINY = SuiteSpec("tiny-v1", ("IRMLinear-v0", "TreatmentRecovery-v0"), (0, 1), n_test=40, n_train=200,
                 budget=400, num_envs=16, overrides=(("steps", 20),), instances=2)


@pytest.fixture(scope="session")
def tiny() -> SuiteSpec:
    return TINY


@pytest.fixture(scope="session")
def valid_submission(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """erm-linear's predictions on the tiny suite, submitted as "tiny-erm": manifest (with claimed metrics) + .npz."""
    folder = tmp_path_factory.mktemp("submission")
    return write_predictions("erm-linear", folder / "tiny-erm.json", TINY, name="tiny-erm", authors=["Test Author"],
                             paper="https://example.org/paper", jobs=1)


def listing(root: Path) -> list[str]:
    """Every file and folder under `root` (hidden temp files included)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.fixture(scope="session")
def files_under():
    return listing
