"""The `causalbench scaling --quick` run, once per test session: CI's smoke test of the study and the reduced
sweep its findings are asserted on (tests/experiments/test_scaling_findings.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def quick_sweep(tmp_path_factory):
    """(folder, wall-clock seconds) of `causalbench scaling --quick --jobs 2`."""
    import time

    from causalbench.cli import main

    out = tmp_path_factory.mktemp("quick") / "sweep"
    start = time.perf_counter()
    code = main(["scaling", "--quick", "--jobs", "2", "--out", str(out), "--no-progress"])
    seconds = time.perf_counter() - start
    assert code == 0
    return out, seconds
