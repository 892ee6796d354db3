"""Shared test configuration: the hypothesis profile (no deadlines on a shared 2-core machine)."""

from hypothesis import HealthCheck, settings

settings.register_profile("causalbench", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("causalbench")
