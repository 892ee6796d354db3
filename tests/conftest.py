"""Shared test configuration: the hypothesis profile (no deadlines on a shared 2-core machine)."""

import os

from hypothesis import HealthCheck, settings

# One BLAS/torch thread, as in the runner's workers: results do not depend on the machine's core
# count, and tests do not oversubscribe a 2-core CI box (set before anything imports torch).
os.environ.setdefault("OMP_NUM_THREADS", "1")

settings.register_profile("causalbench", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("causalbench")
