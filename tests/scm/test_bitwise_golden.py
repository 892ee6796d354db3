"""Bitwise regression: datasets, test sets, samples and units keep their exact bytes.

These are GOLDEN fingerprints, recorded from the unmodified sampling code (main at 3d23af0, before
the performance work of issue 16) with `python tests/scm/test_bitwise_golden.py --record`, and
re-recorded once when scorer v2 changed what an SCM hash covers (SCMs mark only their target, so
every hash moved): before re-recording, every dataset, test set and sample of the envs that existed
at 3d23af0 was checked to have the recorded bytes with the old SCM hash substituted into its spec.
Envs added since (IceCreamShorts-v1, IceCreamHD-v1, RandomSCM-v1, IRMSynthetic-v0, and later
RandomSCMLarge-v0 and RandomSCMRendered-v0, recorded alone when they joined main) are recorded
from the code at that point. They are
not derived independently: their only claim is "the bytes did not change", which is exactly what
the reproducibility rules promise for every existing dataset (same spec and seed = same bytes,
same seed = same noise per variable under any intervention). A case whose SCM hash differs from
the recorded one fails with its own message: an env whose SCM changed is a new version and must be
re-recorded on purpose, never silently.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import causalbench as cb
from causalbench.scm import (CPT, MLP, SCM, Additive, Bernoulli, Categorical, Constant, Linear, Logistic, Normal,
                             PerSample, Soft, Threshold, Uniform, Variable)

GOLDEN = Path(__file__).with_name("bitwise_golden.json")
BIG = 1_000_000
# Envs rendered into hundreds of dims: 1e6 rows would be 4 GB and ~45 s per case, so their large case is smaller.
RENDERED_BIG = {"RandomSCMRendered-v0": 50_000}
NETWORKS = ("asia", "sachs", "alarm", "child", "insurance")
RANDOM_SCM_OPTIONS = ({}, {"nonlinearity": "linear"}, {"nonlinearity": "mlp"},
                      {"n_nodes": 30, "n_hidden": 3, "density": 0.2, "graph_seed": 5},
                      {"n_nodes": 60, "nonlinearity": "linear", "graph_seed": 2})
# Bigger RandomSCM instances whose parameters (SCM hash) must not change when the builder gets faster.
RANDOM_SCM_HASH_ONLY = ({"n_nodes": 200}, {"n_nodes": 120, "n_hidden": 4, "nonlinearity": "mlp", "density": 0.5},
                        {"n_nodes": 150, "nonlinearity": "linear", "density": 0.1, "graph_seed": 3})


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(b"|")
        h.update(np.ascontiguousarray(p).tobytes() if isinstance(p, np.ndarray) else repr(p).encode())
    return h.hexdigest()


def _sample_digest(s: Any) -> str:
    return _digest(s.names, s.data)


def mixed() -> SCM:
    """One variable of every mechanism type (as tests/scm/test_model.py)."""
    return SCM([
        Variable("u", Uniform(-1, 1)),
        Variable("n", Normal(1.0, 2.0)),
        Variable("z", Normal(3.0, 0.0)),
        Variable("b", Bernoulli(0.3)),
        Variable("c", Categorical((0.2, 0.3, 0.5))),
        Variable("l", Linear({"u": 1.0, "n": -0.5}, intercept=0.2, std=0.5, interactions=[(0.3, ("u", "n"))])),
        Variable("l0", Linear({"l": 2.0, "z": 1.0}, std=0.0)),
        Variable("a", Additive({"l": 1.0}, fn="sin", scale=2.0, std=0.1)),
        Variable("a2", Additive({"a": 0.5, "n": 1.0}, fn="sigmoid", std=0.3)),
        Variable("a3", Additive({"a2": 1.5}, fn="relu", std=0.0, offset=1.0)),
        Variable("g", Logistic({"a": 1.5, "b": -1.0})),
        Variable("t", Threshold({"n": 1.0}, threshold=1.0, std=0.5)),
        Variable("m", MLP.random(("u", "a"), hidden=4, seed=3, std=0.2)),
        Variable("k", CPT(("b", "c"), np.array([[0.9, 0.1, 0.5, 0.2, 0.7, 0.4], [0.1, 0.9, 0.5, 0.8, 0.3, 0.6]]),
                          (2, 3))),
        Variable("k3", CPT(("k",), np.array([[0.2, 0.5], [0.3, 0.25], [0.5, 0.25]]), (2,))),
        Variable("r", Categorical((0.1, 0.2, 0.3, 0.4))),
    ])


@lru_cache(maxsize=None)
def _network(name: str) -> SCM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.utils import get_example_model

        return SCM.from_pgmpy(get_example_model(name), target=None, name=name)


def _first_value(scm: SCM, name: str) -> float:
    return 1.0 if scm[name].cardinality else 0.7


def _cases() -> dict[str, Callable[[], str]]:
    """name -> a function returning the digest of what it samples (lazily: only the cases run are built)."""
    cases: dict[str, Callable[[], str]] = {}
    for env_id in cb.list_envs(include_deprecated=True):
        cases.update(_env_cases(env_id, {}))
    for i, opts in enumerate(RANDOM_SCM_OPTIONS[1:], 1):
        cases.update(_env_cases("RandomSCM-v1", opts, tag=f"RandomSCM-v1[{i}]", light=True))
    for opts in RANDOM_SCM_HASH_ONLY:
        cases[f"RandomSCM-v1{json.dumps(opts, sort_keys=True)}/hash"] = (
            lambda opts=opts: cb.make("RandomSCM-v1", **opts).scm.hash)
    cases.update(_scm_cases("mixed", mixed))
    for net in NETWORKS:
        cases.update(_scm_cases(net, lambda net=net: _network(net), big=net in ("asia", "alarm")))
    return cases


def _env_cases(env_id: str, opts: dict, tag: str | None = None, light: bool = False) -> dict[str, Callable[[], str]]:
    tag = tag or env_id
    env = lambda: _make(env_id, opts)  # noqa: E731
    out: dict[str, Callable[[], str]] = {f"{tag}/scm_hash": lambda: env().scm.hash}
    sizes = (1, 2, 5, 999, 4099) if not light else (7, 3001)
    for kind in ("observational", "domains", "interventional"):
        for n in sizes:
            for seed in (0, 12345):
                out[f"{tag}/dataset/{kind}/n={n}/seed={seed}"] = (
                    lambda kind=kind, n=n, seed=seed: env().dataset(kind, n, seed).fingerprint)
        if not light and env_id not in ("IceCreamHD-v0", "IceCreamHD-v1"):  # its SCM is IceCreamShorts': covered there at BIG
            big = RENDERED_BIG.get(env_id, BIG)
            out[f"{tag}/dataset/{kind}/n={big}/seed=3"] = lambda kind=kind, big=big: env().dataset(kind, big, 3).fingerprint
    out[f"{tag}/dataset/interventional/p=0.3/fraction=0.6"] = (
        lambda: env().dataset("interventional", 2000, 4, p=0.3, fraction=0.6).fingerprint)
    out[f"{tag}/test_sets/seed=0"] = lambda: _digest([(k, d.fingerprint) for k, d in env().test_sets(0).items()])
    if not light:
        out[f"{tag}/test_sets/seed=5/n=77"] = (
            lambda: _digest([(k, d.fingerprint) for k, d in env().test_sets(5, n=77).items()]))
    out[f"{tag}/scm.sample"] = lambda: _sample_digest(env().scm.sample(3000, seed=9))

    def shifted() -> str:
        e = env()
        return _digest([_sample_digest(e.scm.sample(2000, seed=11, do=s.intervention(sev)))
                        for s in e.shifts for sev in s.severities])

    def hard_do() -> str:
        e = env()
        return _digest([_sample_digest(e.scm.sample(2000, seed=13, do={v: _first_value(e.scm, v)}))
                        for v in e.variables])

    def units() -> str:
        e = env()
        v = e.action or e.variables[0]
        u = e.scm.units(1500, seed=17)
        first = _sample_digest(u.sample({v: _first_value(e.scm, v)}))
        return _digest(first, _sample_digest(u.sample()), _sample_digest(u.sample({v: 0.0})))

    out[f"{tag}/scm.sample/shifts"] = shifted
    out[f"{tag}/scm.sample/hard_do"] = hard_do
    out[f"{tag}/scm.units"] = units
    return out


def _scm_cases(tag: str, build: Callable[[], SCM], big: bool = False) -> dict[str, Callable[[], str]]:
    def sample(n: int, seed: int, do: Callable[[SCM], Any] | None = None) -> str:
        scm = build()
        return _sample_digest(scm.sample(n, seed=seed, do=do(scm) if do else None))

    def mid(scm: SCM) -> str:
        return scm.order[len(scm.order) // 2]

    def hard(scm: SCM) -> dict:
        return {mid(scm): _first_value(scm, mid(scm))}

    def per_sample(scm: SCM) -> dict:
        v = mid(scm)
        mask = np.arange(4000) % 3 == 0
        repl = Bernoulli(0.5) if scm[v].kind == "binary" else (
            Categorical(tuple([1 / scm[v].cardinality] * scm[v].cardinality)) if scm[v].cardinality else Normal(1, 2))
        return {v: PerSample(mask, repl)}

    def array_do(scm: SCM) -> dict:
        v = mid(scm)
        vals = (np.arange(4000) % (scm[v].cardinality or 5)).astype(float)
        return {v: Constant(vals) if not scm[v].cardinality else vals}

    def root_soft(scm: SCM) -> dict:
        root = scm.order[0]
        mech = scm.mechanism(root)
        if isinstance(mech, Normal):
            return {root: Soft(mean=0.5, std=2.0)}
        if isinstance(mech, Bernoulli):
            return {root: Soft(p=0.9)}
        card = scm[root].cardinality
        if card == 2:
            return {root: Bernoulli(0.8)}
        return {root: Categorical(tuple([1 / card] * card)) if card else Normal(0, 3)}

    out: dict[str, Callable[[], str]] = {}
    for n in (1, 3, 1000, 100_000) + ((BIG,) if big else ()):
        out[f"{tag}/sample/n={n}"] = lambda n=n: sample(n, 21)
    out[f"{tag}/sample/seed=99"] = lambda: sample(5000, 99)
    out[f"{tag}/do/hard"] = lambda: sample(4000, 21, hard)
    out[f"{tag}/do/per_sample"] = lambda: sample(4000, 21, per_sample)
    out[f"{tag}/do/array"] = lambda: sample(4000, 21, array_do)
    out[f"{tag}/do/root_soft"] = lambda: sample(4000, 21, root_soft)
    if big:
        out[f"{tag}/do/hard/n={BIG}"] = lambda: sample(BIG, 5, hard)

    def units() -> str:
        scm = build()
        u = scm.units(4000, 23)
        return _digest(*(_sample_digest(u.sample(d)) for d in (hard(scm), None, per_sample(scm), root_soft(scm))))

    out[f"{tag}/units"] = units
    return out


_ENVS: dict[str, Any] = {}


def _make(env_id: str, opts: dict) -> Any:
    key = env_id + json.dumps(opts, sort_keys=True)
    if key not in _ENVS:
        _ENVS[key] = cb.make(env_id, **opts)
    return _ENVS[key]


CASES = _cases()


def _golden() -> dict[str, str]:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


@pytest.fixture(scope="module")
def golden() -> dict[str, str]:
    data = _golden()
    assert data, f"{GOLDEN.name} is missing: record it from the unmodified code (see the module docstring)"
    return data


@pytest.mark.parametrize("case", sorted(CASES))
def test_bytes_unchanged(case: str, golden: dict[str, str]) -> None:
    assert case in golden, f"no golden fingerprint for {case}: a new case must be recorded from the old code"
    tag = case.split("/")[0]
    hash_key = f"{tag}/scm_hash"
    if hash_key in golden and case != hash_key:
        env_id = tag.split("[")[0]
        idx = int(tag[len(env_id) + 1:-1]) if "[" in tag else 0
        opts = RANDOM_SCM_OPTIONS[idx] if "[" in tag else {}
        assert _make(env_id, opts).scm.hash == golden[hash_key], (
            f"{tag}: its SCM changed (a new env version?): re-record its golden fingerprints on purpose")
    assert CASES[case]() == golden[case], f"{case}: bytes differ from the recorded (pre-optimisation) code"


def test_every_registered_env_is_covered() -> None:
    assert {c.split("/")[0] for c in CASES} >= set(cb.list_envs())


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python tests/scm/test_bitwise_golden.py --record   (only from the unmodified code)")
    recorded = {name: fn() for name, fn in sorted(CASES.items())}
    GOLDEN.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(recorded)} fingerprints to {GOLDEN}")
