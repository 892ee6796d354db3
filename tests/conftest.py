"""Shared test configuration: the hypothesis profile, and CI mode, where a missing optional dependency fails.

Locally, tests that need an optional dependency (Chromium, jsonschema, Ray, Minari, torch, pgmpy
and its bundled networks) skip with a reason. Under `CI=true` those skips are failures, so CI
cannot go green without having run them; skips that say a check does not apply to a case stay
skips. A skip counts as a missing dependency when its reason matches `MISSING_DEPENDENCY`.
Everywhere, a parametrised test whose parameter list came out empty fails: it checked nothing.
"""

import os
import re

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ("pytester",)

# One BLAS/torch thread, as in the runner's workers: results do not depend on the machine's core
# count, and tests do not oversubscribe a 2-core CI box (set before anything imports torch).
os.environ.setdefault("OMP_NUM_THREADS", "1")

settings.register_profile("causalbench", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("causalbench")

# Reasons `pytest.importorskip` gives ("could not import 'x'") and the ones our tests give for a
# missing package, browser or bundled file ("... is not installed", "pip install ...", "no longer ships").
MISSING_DEPENDENCY = re.compile(r"could not import|not installed|no longer ships|pip install|apt-get install",
                                re.IGNORECASE)

EMPTY_PARAMETERS = "got empty parameter set"  # what pytest says when parametrize() receives no cases


def ci_mode() -> bool:
    """True when the CI environment variable says we run in CI (as GitHub Actions and .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _skip_reason(longrepr: object) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_if_missing_dependency(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report.longrepr)
    if EMPTY_PARAMETERS in reason:
        report.outcome = "failed"
        report.longrepr = f"a parametrised test with no parameters checks nothing: {reason}"
    elif ci_mode() and MISSING_DEPENDENCY.search(reason):
        report.outcome = "failed"
        report.longrepr = f"CI=true and an optional dependency is missing, so this check would be skipped: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    _fail_if_missing_dependency(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> object:
    outcome = yield
    _fail_if_missing_dependency(outcome.get_result())
