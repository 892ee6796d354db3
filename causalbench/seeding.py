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
from typing import Any, Sequence

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


_WORDS_CACHE: dict[tuple[Any, tuple[int, ...]], np.ndarray] = {}


def _remember(key: tuple[Any, tuple[int, ...]], words: np.ndarray) -> np.ndarray:
    if len(_WORDS_CACHE) >= STREAM_CACHE_SIZE:
        _WORDS_CACHE.clear()
    _WORDS_CACHE[key] = words
    return words


def _words(entropy: Any, spawn_key: tuple[int, ...]) -> np.ndarray:
    """generate_state(4, uint64) of SeedSequence(entropy, spawn_key=spawn_key), cached."""
    words = _WORDS_CACHE.get((entropy, spawn_key))
    if words is None:
        words = np.random.SeedSequence(entropy, spawn_key=spawn_key).generate_state(4, np.uint64)
        words.setflags(write=False)
        _remember((entropy, spawn_key), words)
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


_M32 = 0xFFFFFFFF
# numpy.random.SeedSequence's constants (numpy/random/bit_generator.pyx). `_prefetch` reproduces its
# entropy mixing word for word, vectorised over many streams of one seed (tests check it against numpy).
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _uint32_words(x: int) -> list[int]:
    """An int as SeedSequence splits it: little-endian 32-bit words ([0] for 0)."""
    out = [x & _M32]
    x >>= 32
    while x:
        out.append(x & _M32)
        x >>= 32
    return out


def _hashmix(value: Any, h: int) -> tuple[Any, int]:
    """SeedSequence's hashmix on a Python int or a uint32 array; h is the scalar running multiplier."""
    value = value ^ (h if isinstance(value, int) else np.uint32(h))
    h = (h * _MULT_A) & _M32
    value = (value * h) & _M32 if isinstance(value, int) else value * np.uint32(h)
    return value ^ (value >> 16), h


def _mix(x: Any, y: Any) -> Any:
    if isinstance(x, int) and isinstance(y, int):
        r = (_MIX_L * x - _MIX_R * y) & _M32
    else:
        r = np.uint32(_MIX_L) * np.asarray(x, dtype=np.uint32) - np.uint32(_MIX_R) * y
    return r ^ (r >> 16)


def _prefix(entropy: int, spawn_key: tuple[int, ...]) -> tuple[list[int], int]:
    """SeedSequence's pool and multiplier after the run entropy (padded to 4 words, as for any
    non-empty spawn key) and `spawn_key`: what every stream of the seed starts from."""
    run = _uint32_words(entropy)
    run += [0] * (4 - len(run))
    pool, h = [], _INIT_A
    for word in run[:4]:
        value, h = _hashmix(word, h)
        pool.append(value)
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                value, h = _hashmix(pool[i_src], h)
                pool[i_dst] = _mix(pool[i_dst], value)
    for word in run[4:] + [w for k in spawn_key for w in _uint32_words(k)]:
        for i_dst in range(4):
            value, h = _hashmix(word, h)
            pool[i_dst] = _mix(pool[i_dst], value)
    return pool, h


def _prefetch(entropy: int, base: tuple[int, ...], keys: list[int]) -> np.ndarray:
    """generate_state(4, uint64) of SeedSequence(entropy, spawn_key=base + (k,)) for every k >= 2^32
    (two 32-bit words each), one row per key, computed together with uint32 array arithmetic."""
    pool0, h = _prefix(entropy, base)
    pool: list[Any] = list(pool0)
    with np.errstate(over="ignore"):
        for half in (np.array([k & _M32 for k in keys], dtype=np.uint32),
                     np.array([k >> 32 for k in keys], dtype=np.uint32)):
            for i_dst in range(4):
                value, h = _hashmix(half, h)
                pool[i_dst] = _mix(pool[i_dst], value)
        out, hb = [], _INIT_B
        for i in range(8):
            value = pool[i % 4] ^ np.uint32(hb)
            hb = (hb * _MULT_B) & _M32
            value = value * np.uint32(hb)
            out.append((value ^ (value >> 16)).astype(np.uint64))
    return np.column_stack([out[2 * j] | (out[2 * j + 1] << np.uint64(32)) for j in range(4)])


class Streams:
    """Every stream of one seed: `generator(*context)` is `rng(seed, *context)`, opened in ~2 us.

    `prefetch(names)` derives the seed words of many one-name streams at once (vectorised
    SeedSequence mixing), so a sampling call pays one small numpy pass instead of a SeedSequence
    per variable for a fresh seed.
    """

    __slots__ = ("seed", "_key")

    def __init__(self, seed: Any) -> None:
        self.seed = seed
        self._key = _stream_key(seed, ())

    def prefetch(self, names: Sequence[str]) -> None:
        if self._key is None:
            return
        entropy, base = self._key
        todo = [(n, stable_key(n)) for n in names if (entropy, base + (stable_key(n),)) not in _WORDS_CACHE]
        todo = [(n, k) for n, k in todo if k >> 32]  # the rare key below 2^32 has one word: left to numpy
        if len(todo) < 4:
            return
        rows = _prefetch(entropy, base, [k for _, k in todo])
        rows.setflags(write=False)
        for (_, k), words in zip(todo, rows):
            _remember((entropy, base + (k,)), words)

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
