"""Test utilities shipped with the package: conformance checks for methods and error assertions.

Third-party methods and environments can run the same checks the built-in ones pass.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from typing import Collection, Iterator, Mapping

import numpy as np

from .env.registry import make, suite
from .errors import CausalBenchError
from .experiments.config import Job
from .experiments.job import online_env
from .methods import TRACK_DATA, make_task, method_spec


@contextlib.contextmanager
def one_line_error(match: str | None = None, kind: type[Exception] = CausalBenchError) -> Iterator[None]:
    """Expect an error of `kind` whose message is a single non-empty line (containing `match`)."""
    try:
        yield
    except kind as err:
        message = str(err)
        assert message and "\n" not in message, f"expected a one-line message, got {message!r}"
        assert match is None or match in message, f"{match!r} not in {message!r}"
    else:
        raise AssertionError(f"expected {kind.__name__}{f' matching {match!r}' if match else ''}, nothing raised")


def check_method(name: str, env_id: str | None = None, n: int = 400) -> None:
    """Conformance check for a registered method on tiny data (DomainBed/scikit-learn style).

    Checks: `__init__` only stores its arguments; predict before fit fails with a causalbench
    error; fit returns self; predictions have shape (n,), are finite (probabilities for
    binary targets); the same seed gives identical predictions; hyper-parameters are a
    dataclass that round-trips through a dict; continual methods accept successive stages;
    online methods learn from a tiny interaction budget.
    """
    spec = method_spec(name)
    envs = [env_id] if env_id else list(suite("conformance"))
    checked = 0
    for eid in envs:
        env = make(eid)
        task = make_task(env, spec.track, privileged=spec.cls.privileged)
        reason = spec.cls.applicable(task)
        if reason is not None:
            assert isinstance(reason, str) and reason, f"{name}: applicable() must return None or a reason"
            continue
        checked += 1
        method = spec.build(task, seed=0)
        assert set(vars(method)) == {"task", "params", "seed"} | set(getattr(method, "_init_attrs", ())), \
            f"{name}: __init__ must only store its arguments, found {sorted(vars(method))}"
        assert dataclasses.is_dataclass(method.params), f"{name}: Params must be a dataclass"
        assert type(method.params)(**method.hparams()) == method.params
        X = env.test_sets(seed=1, n=n)["id"].X
        try:
            method.predict(X)
        except CausalBenchError:
            pass
        else:
            raise AssertionError(f"{name}: predict before fit must raise a CausalBenchError")

        def trained(seed: int):
            m = spec.build(task, seed=seed)
            if spec.protocol == "online":
                venv = online_env(env, Job(eid, name, seed, num_envs=16))
                assert m.interact(venv, budget=200) is m, f"{name}: interact must return self"
                return m
            data = env.dataset(TRACK_DATA[spec.track], n=n, seed=seed)
            stages = data.by_domain() if spec.protocol == "continual" else [data]
            for stage in stages:
                assert m.fit(stage) is m, f"{name}: fit must return self"
            return m

        pred = np.asarray(trained(0).predict(X))
        assert pred.shape == (len(X),), f"{name}: predictions have shape {pred.shape}, expected ({len(X)},)"
        assert np.all(np.isfinite(pred)), f"{name}: non-finite predictions"
        if env.target_kind == "binary":
            assert pred.min() >= 0 and pred.max() <= 1, f"{name}: binary predictions must be probabilities"
        assert np.array_equal(pred, trained(0).predict(X)), f"{name}: same seed must give identical predictions"
    assert checked, f"{name}: not applicable to any of {envs}; pass env_id= an env it runs on"


def check_bayes_predictors(env: object, n: int = 20_000, seed: int = 987) -> None:
    """Each test set's exact Bayes predictor is a conditional expectation: E[(Y - Bayes_t(V)) g(V)] = 0 on a
    fresh sample of that test distribution, for test functions g of the observed variables (constants, the
    predictor itself, every variable and its sign around the median), within 5 standard errors."""
    for t in env.test_set_names():  # type: ignore[attr-defined]
        sample, _ = env.test_sample(t, seed, n)  # type: ignore[attr-defined]
        V = sample.columns(env.variables)  # type: ignore[attr-defined]
        bayes = env.truth.bayes(V, t)  # type: ignore[attr-defined]
        r = sample[env.target] - bayes  # type: ignore[attr-defined]
        tests = [np.ones(n), bayes] + [V[:, j] for j in range(V.shape[1])]
        tests += [np.sign(V[:, j] - np.median(V[:, j])) for j in range(V.shape[1])]
        for g in tests:
            g = (g - g.mean()) / g.std() if g.std() > 0 else g
            prod = r * g
            assert abs(prod.mean()) < 5 * prod.std() / np.sqrt(n) + 1e-12, (env, t)


def check_causal_reference(env: object, rows: int = 4, units: int = 40_000) -> None:
    """The causal reference E[Y | do(X = x)] at a few observed rows x equals the mean of Y over paired units
    under that do(), within 5 standard errors."""
    V = env.mixture(rows, 5, "reference-rows").sample().columns(env.variables)  # type: ignore[attr-defined]
    paired = env.mixture(units, 11, "reference-mc", paired=True)  # type: ignore[attr-defined]
    for x in V:
        y = paired.sample({v: float(a) for v, a in zip(env.variables, x)})[env.target]  # type: ignore[attr-defined]
        expected = env.truth.causal_reference(x[None, :])[0]  # type: ignore[attr-defined]
        assert abs(y.mean() - expected) < 5 * y.std() / np.sqrt(len(y)) + 1e-9, (env, x)


def check_claims_stated(text: str, section: str, claims: Mapping[str, Collection[str]], envs: Collection[str],
                        heading: str = r"#{1,6}") -> None:
    """Each claim text (-> the envs where the data disagree) appears in `section` of a README `text`, followed
    (before the next claim) by every disagreeing env and by no other env of `envs`. The section runs from its
    `## section` heading to the next heading matching `heading`."""
    part = text[text.index(f"## {section}"):]
    end = re.search(rf"\n{heading} ", part[4:])
    part = part[:end.start() + 4] if end else part
    for claim, disagree in claims.items():
        start = part.find(claim)
        assert start >= 0, f"the README's {section} section does not state: {claim}"
        rest = part[start + len(claim):]
        nxt = min((i for c in claims if c != claim and (i := rest.find(c)) >= 0), default=len(rest))
        body = rest[:nxt]
        for env in disagree:
            assert env in body, f"the README does not say that {env} disagrees with: {claim}"
        named = set(re.findall(r"([A-Z][A-Za-z]+-v\d+)", body)) & set(envs)
        assert named <= set(disagree), f"the README names {named - set(disagree)} as disagreeing with: {claim}"
