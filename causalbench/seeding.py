"""Seeds and streams: every random draw in causalbench comes from a stream named by strings.

`derive(seed, *context)` keys a child `SeedSequence` by sha256 of each context string, so a
stream depends on what it is for (env id, dataset kind, variable), never on call order, and
no global RNG state is read or written anywhere.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import SCMError


def check_seed(seed: Any) -> np.random.SeedSequence:
    """Normalise a user seed (non-negative int or SeedSequence) into a SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SCMError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed))


@lru_cache(maxsize=4096)
def stable_key(text: str) -> int:
    """A 64-bit integer derived from a string by sha256: stable across runs, processes and machines."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def derive(seed: Any, *context: str) -> np.random.SeedSequence:
    """A child SeedSequence keyed by strings (e.g. env id, dataset kind), independent of call order."""
    ss = check_seed(seed)
    return np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + tuple(stable_key(c) for c in context))


def rng(seed: Any, *context: str) -> np.random.Generator:
    """A Generator on the stream derive(seed, *context)."""
    return np.random.Generator(np.random.PCG64(derive(seed, *context)))


def check_n(n: Any) -> int:
    """Normalise a row count (a positive integer, or a float with an integer value)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        if isinstance(n, float) and n.is_integer() and n > 0:
            return int(n)
        raise SCMError(f"n must be a positive integer, got {n!r}")
    if n <= 0:
        raise SCMError(f"n must be a positive integer, got {n}")
    return int(n)
