"""Seeds and streams: every random draw in causalbench comes from a stream named by strings.

`derive(seed, *context)` keys a child `SeedSequence` by sha256 of each context string, so a
stream depends on what it is for (env id, dataset kind, variable), never on call order, and
no global RNG state is read or written anywhere.

Opening a stream is cheap: the PCG64 seed words of each (seed, context) are computed once
(SeedSequence hashing costs ~15 us) and kept in a bounded cache, so `rng(seed, *context)`
builds the same generator as `Generator(PCG64(derive(seed, *context)))` in ~2 us.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from .errors import SCMError

STREAM_CACHE_SIZE = 1 << 16  # (seed, context) -> 4 seed words (32 bytes): a few MB at most


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


class _SeedWords(ISeedSequence):
    """The 4 PCG64 seed words of a derived SeedSequence, computed once (see `_words`)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        return self.words


@lru_cache(maxsize=STREAM_CACHE_SIZE)
def _words(entropy: Any, spawn_key: tuple[int, ...]) -> np.ndarray:
    words = np.random.SeedSequence(entropy, spawn_key=spawn_key).generate_state(4, np.uint64)
    words.setflags(write=False)
    return words


def _stream_key(seed: Any, context: tuple[str, ...]) -> tuple[Any, tuple[int, ...]] | None:
    """(entropy, spawn key) of derive(seed, *context) without building it; None when not cacheable."""
    if isinstance(seed, np.random.SeedSequence):
        if seed.pool_size != 4 or not isinstance(seed.entropy, int):
            return None
        entropy, base = seed.entropy, tuple(seed.spawn_key)
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        entropy, base = int(seed), ()
    else:
        check_seed(seed)  # raises the one-line error
        return None  # pragma: no cover
    return entropy, base + tuple(stable_key(c) for c in context)


def rng(seed: Any, *context: str) -> np.random.Generator:
    """A Generator on the stream derive(seed, *context) (bit-identical to PCG64(derive(...)))."""
    key = _stream_key(seed, context)
    if key is None:
        return np.random.Generator(np.random.PCG64(derive(seed, *context)))
    return np.random.Generator(np.random.PCG64(_SeedWords(_words(*key))))


class Streams:
    """Every stream of one seed: `generator(*context)` is `rng(seed, *context)`, opened in ~2 us."""

    __slots__ = ("seed", "_key")

    def __init__(self, seed: Any) -> None:
        self.seed = seed
        self._key = _stream_key(seed, ())

    def generator(self, *context: str) -> np.random.Generator:
        if self._key is None:
            return rng(self.seed, *context)
        entropy, base = self._key
        words = _words(entropy, base + tuple(stable_key(c) for c in context))
        return np.random.Generator(np.random.PCG64(_SeedWords(words)))


def check_n(n: Any) -> int:
    """Normalise a row count (a positive integer, or a float with an integer value)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        if isinstance(n, float) and n.is_integer() and n > 0:
            return int(n)
        raise SCMError(f"n must be a positive integer, got {n!r}")
    if n <= 0:
        raise SCMError(f"n must be a positive integer, got {n}")
    return int(n)
