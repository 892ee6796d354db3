"""Experiments: configurations, one job function, sweeps with resume, launchers and run folders."""
