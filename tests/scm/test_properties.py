"""Property tests over random DAGs: ancestral order, hidden variables, serialisation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from causalbench.env.base import CausalEnv
from causalbench.scm import (CPT, SCM, Additive, Bernoulli, Categorical, Linear, Logistic, Mechanism, Normal,
                             Variable)
from causalbench.scm.mechanisms import Scratch


@st.composite
def random_scms(draw: Any) -> SCM:
    """A random DAG over 2-9 nodes with a random mix of real and discrete mechanisms."""
    n = draw(st.integers(2, 9))
    names = [f"v{i}" for i in range(n)]
    kinds: dict[str, int | None] = {}
    variables = []
    order = draw(st.permutations(list(range(n))))  # declaration order differs from causal order
    for i in range(n):
        parents = [names[j] for j in range(i) if draw(st.booleans())]
        disc_parents = [p for p in parents if kinds[p] is not None]
        choice = draw(st.sampled_from(["linear", "additive", "logistic", "cpt", "root_b", "root_c"]))
        w = {p: draw(st.floats(-2, 2)) for p in parents}
        if choice == "linear":
            mech: Mechanism = Linear(w, std=draw(st.floats(0.1, 2)))
        elif choice == "additive":
            mech = Additive(w, fn=draw(st.sampled_from(["tanh", "sigmoid", "relu", "sin"])), std=0.5)
        elif choice == "logistic":
            mech = Logistic(w)
        elif choice == "cpt" and disc_parents:
            cards = tuple(int(kinds[p]) for p in disc_parents)
            cols = int(np.prod(cards))
            raw = np.array(draw(st.lists(st.floats(0.05, 1), min_size=2 * cols, max_size=2 * cols))).reshape(2, cols)
            mech = CPT(tuple(disc_parents), raw / raw.sum(axis=0), cards)
        elif choice == "root_c":
            mech = Categorical((0.2, 0.5, 0.3))
        elif choice == "root_b":
            mech = Bernoulli(draw(st.floats(0.05, 0.95)))
        else:
            mech = Normal(draw(st.floats(-1, 1)), 1.0)
        kinds[names[i]] = mech.cardinality
        variables.append(Variable(names[i], mech, hidden=draw(st.booleans()) and i < n - 1))
    return SCM([variables[k] for k in order])



@settings(max_examples=60)
@given(random_scms(), st.integers(0, 2**32 - 1))
def test_parents_are_sampled_before_children(scm: SCM, seed: int) -> None:
    position = {name: i for i, name in enumerate(scm.order)}
    for child in scm.names:
        for parent in scm.parents(child):
            assert position[parent] < position[child]
    # The engine hands each mechanism only already-computed columns: a read of anything
    # later would raise KeyError. Run every mechanism on exactly its computed prefix.
    sample = scm.sample(64, seed)
    for i, name in enumerate(scm.order):
        seen = {v: sample[v] for v in scm.order[:i]}
        out = np.zeros(64)
        scm.mechanism(name).apply(out, seen, Scratch(64))  # KeyError if a parent came later


@settings(max_examples=60)
@given(random_scms(), st.integers(0, 2**32 - 1))
def test_serialise_round_trip_same_hash_same_samples(scm: SCM, seed: int) -> None:
    back = SCM.from_dict(json.loads(json.dumps(scm.to_dict())))
    assert back.hash == scm.hash
    assert np.array_equal(back.sample(50, seed).data, scm.sample(50, seed).data)


@settings(max_examples=40)
@given(random_scms(), st.integers(0, 2**16))
def test_hidden_variables_never_reach_a_dataset(scm: SCM, seed: int) -> None:
    observed = [v for v in scm.order if not scm[v].hidden]
    candidates = [v for v in observed if scm[v].kind in ("real", "binary")]
    if not candidates:
        return
    target = candidates[-1]
    variables = [Variable(v.name, v.mechanism, v.hidden, "target" if v.name == target else "other")
                 for v in scm.variables.values()]

    class Env(CausalEnv):
        id = "PropertyEnv-v0"

        def build_scm(self) -> SCM:
            return SCM(variables)

    env = Env()
    for kind in ("observational", "interventional", "domains"):
        d = env.dataset(kind, n=30, seed=seed)
        assert not set(d.feature_names) & set(scm.hidden)
        assert target not in d.feature_names
        assert d.X.shape == (30, len(observed) - 1)
        assert not set(d.roles) & set(scm.hidden)
