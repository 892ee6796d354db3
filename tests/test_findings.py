"""The README's findings, asserted on a reduced run of every env in the default suite.

These are findings about the benchmark, not tuned targets. Each claim names the envs it
speaks of (default: every env of the suite where its methods apply) and the envs where
the data disagree. The test checks both directions: the claim holds on every env it
speaks of except the listed ones, and fails on each listed one, so the README's list of
disagreements can be neither too short nor too long. The README quotes each claim's
text and names its disagreeing envs; `test_readme_states_every_finding` keeps them in step.

Comparisons are judged with a margin from the seed-to-seed spread: "a < b" holds when
b - a exceeds two standard errors of the difference (three seeds; exact references have
no spread beyond their evaluation sample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from causalbench.env.registry import suite
from causalbench.experiments.config import RunConfig
from causalbench.experiments.results import read_records
from causalbench.experiments.sweep import run
from causalbench.reports.records import final_stage, group
from causalbench.testing import check_claims_stated

ENVS = suite("default")
ONLINE = ("online-bandit", "tabular-q")
METHODS = ("erm-linear", "erm-linear-int", "continual", *ONLINE)
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    config = RunConfig(envs=ENVS, methods=METHODS, seeds=(0, 1, 2), n_train=3000, n_test=2000)
    records = read_records(run(config, out=tmp_path_factory.mktemp("findings"), jobs=2, progress=False))
    return records, group(final_stage(records), "env_id", "method")


class Values:
    """Per-seed values of a score for one (env, method); `None` when the method does not apply."""

    def __init__(self, final: dict, env: str) -> None:
        self.final, self.env = final, env

    def __call__(self, method: str, metric: str) -> np.ndarray | None:
        if method == "online":
            method = next((m for m in ONLINE if (self.env, m) in self.final), "")
        rows = self.final.get((self.env, method))
        if not rows or rows[0]["scores"].get(metric) is None:
            return None
        return np.array([r["scores"][metric] for r in rows], dtype=float)


def below(a: np.ndarray | float | None, b: np.ndarray | float | None) -> bool | None:
    """a < b by more than two standard errors of the difference (None when either side is missing)."""
    if a is None or b is None:
        return None
    a, b = np.atleast_1d(np.asarray(a, dtype=float)), np.atleast_1d(np.asarray(b, dtype=float))
    se = math.sqrt(sum(np.var(x, ddof=1) / x.size for x in (a, b) if x.size > 1))
    return bool(np.mean(b) - np.mean(a) > 2 * se)


@dataclass(frozen=True)
class Claim:
    """A README finding: its text, a test per env (None = does not apply there), where the data disagree."""

    name: str
    text: str
    check: Callable[[Values], bool | None]
    disagree: dict[str, str] = field(default_factory=dict)


CLAIMS = (
    Claim("static-erm-leans-on-proxies",
          "Static ERM relies on spurious (proxy or anti-causal) features: more than 10% of its reliance.",
          lambda v: below(0.1, v("erm-linear", "spurious_reliance")),
          {"Asia-v0": "the x-ray is a weak proxy once smoking, tuberculosis and cancer are observed (about 3%)"}),
    Claim("infinite-static-data-leans-on-proxies",
          "So does the training distribution's Bayes predictor (exact): infinite static data does not remove it.",
          lambda v: below(0.1, v("bayes-train", "spurious_reliance")),
          {"Asia-v0": "about 4%, as for ERM"}),
    Claim("erm-fails-when-the-link-breaks",
          "Static ERM's excess risk on link shifts is above the causal reference's.",
          lambda v: below(v("causal-reference", "ood_link"), v("erm-linear", "ood_link")),
          {"Copycat-v0": "the causal reference (E[brake | do(distance, light)]) ignores that a close car is often a "
                         "stopped one, so it is a poor predictor of the expert under every shift",
           "TreatmentRecovery-v0": "the causal reference averages the effect over the hidden severity, which every "
                                   "shift moves; ERM's severity proxy keeps tracking it"}),
    Claim("interventions-reduce-reliance",
          "Interventional training data lowers spurious reliance and effect error.",
          lambda v: None if v("erm-linear-int", "spurious_reliance") is None else (
              below(v("erm-linear-int", "spurious_reliance"), v("erm-linear", "spurious_reliance"))
              and below(v("erm-linear-int", "effect_error"), v("erm-linear", "effect_error")))),
    Claim("interventions-reduce-link-risk",
          "Interventional training data lowers the excess risk on link shifts.",
          lambda v: below(v("erm-linear-int", "ood_link"), v("erm-linear", "ood_link"))),
    Claim("online-fixes-decisions",
          "Online interaction finds near-optimal decisions: ID regret below 0.15.",
          lambda v: below(v("online", "regret"), 0.15)),
    Claim("online-does-not-fix-reliance",
          "Online interaction does not remove spurious reliance: its outcome model still leans on proxies "
          "(only the action is randomised).",
          lambda v: below(0.1, v("online", "spurious_reliance")),
          {"Copycat-v0": "tabular Q-learning's table is indexed by the distance alone at this budget"}),
    Claim("continual-stays-confused",
          "Continual fine-tuning across domains keeps relying on spurious features (more than 10%).",
          lambda v: below(0.1, v("continual", "spurious_reliance")),
          {"Asia-v0": "as for static ERM"}),
)


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.name for c in CLAIMS])
def test_claim_holds_exactly_where_the_readme_says(results, claim: Claim) -> None:
    _, final = results
    outcome = {env: claim.check(Values(final, env)) for env in ENVS}
    assert set(claim.disagree) <= set(ENVS)
    speaks_of = [env for env, ok in outcome.items() if ok is not None]
    assert len(speaks_of) >= 2, f"{claim.name}: applies to {speaks_of} only"
    wrong = {env: ok for env, ok in outcome.items() if ok is not None and ok == (env in claim.disagree)}
    assert not wrong, (f"{claim.name}: the claim's outcome differs from the README on {sorted(wrong)} "
                       f"(True = holds although listed as a disagreement)")


def test_readme_states_every_finding() -> None:
    """Each claim's text appears in the README, followed (before the next claim) by its disagreeing envs."""
    check_claims_stated(README.read_text(encoding="utf-8"), "Findings", {c.text: c.disagree for c in CLAIMS}, ENVS)


def test_tuning_by_training_domain_validation_makes_irm_more_confused_on_irmlinear(tmp_path) -> None:
    """README: tuned IRM (DomainBed's protocol, the default run) leans on the spurious feature more than IRM with
    its defaults on IRMLinear-v0; the tuned one is what the findings use."""
    def reliance(defaults: bool) -> np.ndarray:
        config = RunConfig(envs=("IRMLinear-v0",), methods=("irm",), seeds=(0, 1, 2), references=False,
                           tuning=None if defaults else "built-in")
        records = read_records(run(config, out=tmp_path / str(defaults), jobs=2, progress=False))
        assert {r["hparams_source"] for r in records} == ({"defaults"} if defaults else {"tuned (tuned.json, 20 trials)"})
        return np.array([r["scores"]["spurious_reliance"] for r in records])

    assert below(reliance(defaults=True), reliance(defaults=False))
