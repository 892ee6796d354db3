"""Benchmark environments: the base class, the registry, ground truth, gymnasium tasks and logged data.

Only the registry is imported eagerly; everything else (networkx, gymnasium) loads on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .registry import ENVS, SUITES, list_envs, make, register_env, register_suite, suite

_LAZY = {"CausalEnv": "base", "Domain": "base", "Shift": "base", "SHIFT_KINDS": "base", "TARGET_KINDS": "base"}

__all__ = ["ENVS", "SUITES", "list_envs", "make", "register_env", "register_suite", "suite", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
