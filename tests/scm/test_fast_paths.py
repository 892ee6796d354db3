"""The sampler's fast paths against their definitions: cached streams are the derived streams,
row blocks concatenate to one sample, and the one-pass linear solve gives the same units."""

from __future__ import annotations

import numpy as np
import pytest

import causalbench as cb
from causalbench.errors import SCMError
from causalbench.scm import (CPT, MLP, SCM, Additive, Bernoulli, Categorical, Linear, Logistic, Normal, PerSample,
                             Threshold, Uniform, Variable)
from causalbench.seeding import Streams, derive, rng


def mixed() -> SCM:
    """Every kind of mechanism and noise."""
    return SCM([
        Variable("u", Uniform(-1, 1)), Variable("n", Normal(1.0, 2.0)), Variable("b", Bernoulli(0.3)),
        Variable("c", Categorical((0.2, 0.3, 0.5))),
        Variable("l", Linear({"u": 1.0, "n": -0.5}, intercept=0.2, std=0.5, interactions=[(0.3, ("u", "n"))])),
        Variable("a", Additive({"l": 1.0}, fn="sin", scale=2.0, std=0.1)),
        Variable("g", Logistic({"a": 1.5, "b": -1.0})), Variable("t", Threshold({"n": 1.0}, threshold=1.0, std=0.5)),
        Variable("m", MLP.random(("u", "a"), hidden=4, seed=3, std=0.2)),
        Variable("k", CPT(("b", "c"), np.array([[0.9, 0.1, 0.5, 0.2, 0.7, 0.4], [0.1, 0.9, 0.5, 0.8, 0.3, 0.6]]),
                          (2, 3))),
    ])


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 3, np.random.SeedSequence(7, spawn_key=(3, 2**60)),
                                  np.random.SeedSequence([1, 2, 3])])
@pytest.mark.parametrize("context", [(), ("x",), ("IceCreamShorts-v1", "interventional", "cool", "mask")])
def test_cached_streams_are_the_derived_streams(seed, context) -> None:
    expected = np.random.Generator(np.random.PCG64(derive(seed, *context))).random(5)
    assert np.array_equal(rng(seed, *context).random(5), expected)
    assert np.array_equal(rng(seed, *context).random(5), expected)  # from the cache
    assert np.array_equal(Streams(seed).generator(*context).random(5), expected)


@pytest.mark.parametrize("blocks", [(4000,), (100, 3900), (1000, 1000, 2000), (2500, 128, 1372)])
def test_row_blocks_concatenate_to_one_sample(blocks) -> None:
    """Blocks of >= 100 rows (the MLP mechanism's BLAS product takes another kernel for a handful of rows)."""
    scm, n = mixed(), sum(blocks)
    mask = np.arange(n) % 3 == 0
    whole = scm.sample(n, seed=5, do={"l": PerSample(mask, Normal(2.0, 0.5)), "b": PerSample(~mask, 1.0)})
    rows, parts, start = scm.rows(5), [], 0
    for m in blocks:
        part = mask[start:start + m]
        parts.append(rows.next(m, {"l": PerSample(part, Normal(2.0, 0.5)), "b": PerSample(~part, 1.0)}).data)
        start += m
    assert np.array_equal(np.concatenate(parts), whole.data)


@pytest.mark.parametrize("env_id,options", [("IRMSynthetic-v0", {}),
                                            ("IRMLinear-v0", {})])
def test_linear_solve_gives_the_same_units(env_id: str, options: dict) -> None:
    scm = cb.make(env_id, **options).scm
    exact, fast = scm.sample(20_000, seed=3), scm.sample_linear(20_000, seed=3)
    assert fast.names == exact.names and fast.data.flags.f_contiguous
    scale = np.abs(exact.data).max()
    assert np.abs(fast.data - exact.data).max() < 1e-12 * scale  # same noise, only float rounding differs
    assert not np.array_equal(scm.sample_linear(20_000, seed=4).data, fast.data)


def test_linear_solve_handles_zero_noise_and_intercepts() -> None:
    scm = SCM([Variable("a", Normal(1.0, 2.0)), Variable("b", Linear({"a": -0.5}, intercept=3.0, std=0.0)),
               Variable("c", Linear({"a": 1.0, "b": 2.0}, intercept=-1.0, std=0.3))])
    exact, fast = scm.sample(5000, seed=1), scm.sample_linear(5000, seed=1)
    assert np.allclose(fast.data, exact.data, rtol=0, atol=1e-12)


def test_linear_solve_refuses_other_scms() -> None:
    scm = SCM([Variable("a", Bernoulli(0.3)), Variable("b", Linear({"a": 1.0}))])
    with pytest.raises(SCMError, match="linear-Gaussian"):
        scm.sample_linear(10)


def test_prefetched_streams_are_the_derived_streams() -> None:
    """The vectorised SeedSequence mixing of `Streams.prefetch` against numpy, over varied seeds."""
    from causalbench import seeding

    gen = np.random.default_rng(0)
    seeds = [0, 1, 2**32 - 1, 2**32, 2**64 + 3, 2**130 + 7, np.random.SeedSequence(5, spawn_key=(2**40, 3)),
             np.random.SeedSequence(2**100 + 1, spawn_key=(0,))]
    for seed in seeds:
        names = [f"v{int(x)}" for x in gen.integers(0, 10**9, size=12)]
        seeding._WORDS_CACHE.clear()
        streams = Streams(seed)
        streams.prefetch(names)
        assert len(seeding._WORDS_CACHE) >= 10  # derived by the vectorised path, not one by one
        for name in names:
            expected = np.random.Generator(np.random.PCG64(derive(seed, name))).random(3)
            assert np.array_equal(streams.generator(name).random(3), expected)
