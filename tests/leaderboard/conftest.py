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


OUTSIDE_PACKAGE = "cbtest_outside"


def write_outside_package(folder: Path, entry_points: dict[str, str] | None = None) -> Path:
    """The methods of outside_methods.py as a package `cbtest_outside` in `folder` (outside the repository), with
    a dist-info exposing `entry_points` (name -> "module:Class") in the group causalbench.methods if given."""
    package = folder / OUTSIDE_PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Methods from outside the causalbench repository."""\n')
    (package / "methods.py").write_text((Path(__file__).parent / "outside_methods.py").read_text())
    if entry_points:
        info = folder / f"{OUTSIDE_PACKAGE}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {OUTSIDE_PACKAGE}\nVersion: 0.1\n")
        lines = [f"{name} = {target}" for name, target in entry_points.items()]
        (info / "entry_points.txt").write_text("[causalbench.methods]\n" + "\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="session")
def outside(tmp_path_factory: pytest.TempPathFactory):
    """The outside package importable in this process (and so in isolated workers, which get our sys.path)."""
    import importlib
    import sys

    folder = write_outside_package(tmp_path_factory.mktemp("outside"))
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    yield f"{OUTSIDE_PACKAGE}.methods"
    sys.path.remove(str(folder))


@pytest.fixture(scope="session")
def package_writer():
    """`write_outside_package(folder, entry_points)` for tests that install the package their own way."""
    return write_outside_package
