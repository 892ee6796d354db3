"""docs/scaling/README.md's findings, asserted on the committed sweep and on a reduced sweep (`--quick`).

Each claim is data: its text (quoted verbatim in the README), a check per env (None = does not
apply there), and the envs where the data disagree, for the committed sweep and for the reduced
sweep separately (a reduced sweep with N <= 3,000 and tiny models may not show what N = 30,000
shows; the README says so where it matters). Both directions are checked: a claim holds on every
env it speaks of except the listed ones, and fails on each listed one, so the README's list of
disagreements is neither too short nor too long. Claims that contradict the thesis ("static
pretraining, even scaled, yields confused models") are claims like any other.

Models are named by role (the smallest and largest model of the scale axis, the mixture model),
never by width: widths differ between envs (a parameter target on 24 or 512 inputs) and sweeps.
Comparisons ("a < b") hold when b - a exceeds t(0.975, df) standard errors of the difference over seeds
(df from the number of seeds: 2.78 with 5 seeds, 12.7 with the reduced sweep's 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from causalbench.env.registry import suite
from causalbench.experiments.results import read_records
from causalbench.reports.scaling_data import build_curves, family, final, fit_all, model_label, regime_name
from causalbench.testing import check_claims_stated

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scaling"
README = DOCS / "README.md"
ENVS = suite("scaling")


class View:
    """One env's final-stage records, as per-seed arrays (None when the sweep has no such point)."""

    def __init__(self, records: list[dict], env: str) -> None:
        self.env = env
        self.records = [r for r in final(records) if r["env_id"] == env]
        self.all = [r for r in records if r["env_id"] == env]
        static = [r for r in self.records if family(r) == "static"]
        params = {}
        for r in static:
            params.setdefault(model_label(r), r["compute"]["params"])
        scale = sorted({model_label(r) for r in static if not r["fraction"]}, key=params.__getitem__)
        mixed = {model_label(r) for r in static if r["fraction"]}
        self.models = {"smallest": scale[0], "largest": scale[-1], "mixture": next(iter(mixed), None)}

    def _pick(self, rows: list[dict], metric: str) -> np.ndarray | None:
        vals = [r["scores"].get(metric) for r in sorted(rows, key=lambda r: r["seed"])]
        return np.array(vals, dtype=float) if vals and None not in vals else None

    def sizes(self, model: str = "mixture", rho: float = 0.0, regime: str = "unobserved") -> list[int]:
        label = self.models[model]
        return sorted({r["n_train"] for r in self.records if family(r) == "static" and model_label(r) == label
                       and (r["fraction"] or 0.0) == rho and regime_name(r) == regime})

    def static(self, metric: str, model: str = "mixture", rho: float = 0.0, regime: str = "unobserved",
               n: int | str = "max") -> np.ndarray | None:
        """Per-seed values at N = n ("max" / "min": the largest / smallest N of that curve)."""
        sizes = self.sizes(model, rho, regime)
        if not sizes:
            return None
        size = {"max": sizes[-1], "min": sizes[0]}.get(n, n)  # type: ignore[arg-type]
        return self._pick([r for r in self.records if family(r) == "static" and model_label(r) == self.models[model]
                           and (r["fraction"] or 0.0) == rho and regime_name(r) == regime and r["n_train"] == size],
                          metric)

    def common_n(self, a: str = "smallest", b: str = "largest") -> int | None:
        """The largest N both models were trained at (a compute cap may stop the largest model earlier)."""
        both_sizes = set(self.sizes(a)) & set(self.sizes(b))
        return max(both_sizes) if both_sizes and self.models[a] != self.models[b] else None

    def by_size(self, metric: str, model: str) -> np.ndarray | None:
        """Per-seed values of `model` at the largest N the smallest and the largest model share."""
        n = self.common_n()
        return None if n is None else self.static(metric, model, n=n)

    def ref(self, name: str, metric: str) -> np.ndarray | None:
        return self._pick([r for r in self.records if r["method"] == name], metric)

    def tuned(self, metric: str, stage: int = -1) -> np.ndarray | None:
        """The pretrained-then-fine-tuned runs after `stage` (0 = pretrained only; -1 = the largest budget)."""
        rows = [r for r in self.all if family(r) == "finetune"]
        last = max((r["stage"] for r in rows), default=0)
        return self._pick([r for r in rows if r["stage"] == (last if stage < 0 else stage)], metric)

    def tuned_at(self, metric: str, budget: int) -> np.ndarray | None:
        """The pretrained-then-fine-tuned runs after the stage that ends at `budget` interventional rows."""
        return self._pick([r for r in self.all if family(r) == "finetune" and r["stage"] > 0
                           and r.get("train_n") == budget], metric)

    def scratch_at(self, metric: str, budget: int) -> np.ndarray | None:
        return self._pick([r for r in self.records if family(r) == "scratch" and r["n_train"] == budget], metric)

    def fit_status(self, metric: str, rho: float, regime: str) -> str | None:
        """The report's fit status ("ok", "flat", "no plateau", ...) of the mixture model's curve, if run."""
        curves = [c for c in build_curves(self.records) if c.model == self.models["mixture"] and c.rho == rho
                  and c.regime == regime]
        return fit_all(curves, [metric])[(self.env, curves[0].label, metric)].status if curves else None

    def scratch(self, metric: str) -> np.ndarray | None:
        """From scratch on the largest budget (the same rows as the fine-tuning's last stage)."""
        rows = [r for r in self.records if family(r) == "scratch"]
        top = max((r["n_train"] for r in rows), default=None)
        return self._pick([r for r in rows if r["n_train"] == top], metric)

    def reversed(self, metric: str) -> np.ndarray | None:
        """The same rows in the other stage order (interventional first, then static), final stage."""
        return self._pick([r for r in self.records if family(r) == "reversed"], metric)

    def each_model(self, check: Callable[[str], bool | None]) -> bool | None:
        return both(*(check(m) for m in ("smallest", "largest", "mixture")))


def below(a: np.ndarray | float | None, b: np.ndarray | float | None, paired: bool = False) -> bool | None:
    """a < b by more than t(0.975, df) standard errors of the difference over seeds (paired: of the per-seed
    differences, df = n - 1; else Welch's standard error with the smaller sample's df, a conservative choice)."""
    if a is None or b is None:
        return None
    a, b = np.atleast_1d(np.asarray(a, dtype=float)), np.atleast_1d(np.asarray(b, dtype=float))
    if paired and a.size == b.size > 1:
        d = b - a
        return bool(d.mean() > t_quantile(d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
    sizes = [x.size for x in (a, b) if x.size > 1]
    se = math.sqrt(sum(np.var(x, ddof=1) / x.size for x in (a, b) if x.size > 1))
    return bool(np.mean(b) - np.mean(a) > (t_quantile(min(sizes) - 1) if sizes else 0.0) * se)


def t_quantile(df: int) -> float:
    """The two-sided 95% quantile of Student's t (df >= 1)."""
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def times(k: float, values: np.ndarray | None) -> np.ndarray | None:
    return None if values is None else k * values


def both(*values: bool | None) -> bool | None:
    return None if any(v is None for v in values) else all(values)


@dataclass(frozen=True)
class Claim:
    """A finding: its text, its check, and where the data disagree (committed sweep / reduced sweep)."""

    name: str
    text: str
    check: Callable[[View], bool | None]
    disagree: dict[str, str] = field(default_factory=dict)
    disagree_reduced: dict[str, str] = field(default_factory=dict)
    reduced: bool = True        # False: the reduced sweep has no such point (the README says so)


NOT_SHOWN = "the reduced sweep's 2 seeds do not show it: within t(0.975, 1) = 12.7 standard errors"

CLAIMS = (
    Claim("static-data-lowers-id-risk",
          "With static data (rho = 0), ID excess risk falls with N for every model: at each model's largest N it "
          "is below its value at N = 100.",
          lambda v: v.each_model(lambda m: below(v.static("excess_risk_id", m), v.static("excess_risk_id", m, n="min"))),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN, "RandomSCMLarge-v0": NOT_SHOWN}),
    Claim("static-link-risk-stays",
          "With static data, every model's OOD excess risk on link shifts at its largest N is more than twice the "
          "causal reference's.",
          lambda v: v.each_model(lambda m: below(times(2, v.ref("causal-reference", "ood_link")), v.static("ood_link", m))),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN}),
    Claim("static-effect-error-stays",
          "With static data, every model's effect error at its largest N is above half of the training Bayes "
          "predictor's: neither rows nor parameters remove it.",
          lambda v: v.each_model(lambda m: below(times(0.5, v.ref("bayes-train", "effect_error")), v.static("effect_error", m))),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN}),
    Claim("more-parameters-lower-id-risk",
          "At the largest N that the smallest and the largest model share, the largest model's ID excess risk is "
          "below the smallest model's.",
          lambda v: below(v.by_size("excess_risk_id", "largest"), v.by_size("excess_risk_id", "smallest")),
          {"RandomSCMLarge-v0": "every model from 1e3 to 1e6 parameters reaches the same ID excess risk at each N"},
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN, "RandomSCMLarge-v0": NOT_SHOWN}),
    Claim("more-parameters-do-not-lower-link-risk",
          "At that N, the largest model's OOD excess risk on link shifts is not below the smallest model's.",
          lambda v: None if v.by_size("ood_link", "largest") is None else
          not below(v.by_size("ood_link", "largest"), v.by_size("ood_link", "smallest"))),
    Claim("more-parameters-do-not-lower-effect-error",
          "Nor is its effect error.",
          lambda v: None if v.by_size("effect_error", "largest") is None else
          not below(v.by_size("effect_error", "largest"), v.by_size("effect_error", "smallest"))),
    Claim("static-effect-error-falls-with-n",
          "With static data, the mixture model's effect error at its largest N is below its value at N = 100.",
          lambda v: below(v.static("effect_error"), v.static("effect_error", n="min")),
          {"RandomSCMLarge-v0": "flat at 0.13 from N = 100 on"},
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN, "RandomSCMLarge-v0": NOT_SHOWN}),
    Claim("static-link-risk-does-not-fall-with-n",
          "With static data, more rows do not lower the OOD excess risk on link shifts: the mixture model's value at "
          "its largest N is not below its value at N = 100.",
          lambda v: None if v.static("ood_link") is None else not below(v.static("ood_link"), v.static("ood_link", n="min")),
          {"RandomSCMRendered-v0": "its link risk falls with N (1.09 to 0.75), towards the training Bayes predictor's "
                                   "0.70, still three times the causal reference's 0.24"}),
    Claim("observed-experiments-lower-link-risk",
          "With a tenth of the training units natural experiments and the regime observed, the model asked about the "
          "randomised regime has a lower OOD excess risk on link shifts at the largest N than with static data.",
          lambda v: below(v.static("ood_link", rho=0.1, regime="observed"), v.static("ood_link")),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN}),
    Claim("observed-beats-unobserved",
          "It is also lower than with the same data and the regime unobserved.",
          lambda v: below(v.static("ood_link", rho=0.1, regime="observed"), v.static("ood_link", rho=0.1)),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN}),
    Claim("observed-link-risk-falls-with-n",
          "With the regime observed, the link risk keeps falling with N: at the largest N it is below its value at "
          "N = 100.",
          lambda v: below(v.static("ood_link", rho=0.1, regime="observed"),
                          v.static("ood_link", rho=0.1, regime="observed", n="min")),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN, "RandomSCMLarge-v0": NOT_SHOWN}),
    Claim("rare-observed-experiments-no-plateau",
          "With 1% natural experiments and the regime observed, the link risk has not flattened by the largest N: its "
          "fit reports no plateau within N_max.",
          lambda v: None if v.fit_status("ood_link", 0.01, "observed") is None else
          v.fit_status("ood_link", 0.01, "observed") == "no plateau", reduced=False),
    Claim("observed-experiments-lower-effect-error",
          "The observed natural experiments also lower the effect error at the largest N below that of static data.",
          lambda v: below(v.static("effect_error", rho=0.1, regime="observed"), v.static("effect_error")),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN}),
    Claim("unobserved-experiments-stay-confused",
          "With the regime unobserved, a tenth of natural experiments leaves the OOD excess risk on link shifts at the "
          "largest N more than twice the causal reference's.",
          lambda v: below(times(2, v.ref("causal-reference", "ood_link")), v.static("ood_link", rho=0.1)),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN}),
    Claim("fine-tuning-lowers-link-risk",
          "Fine-tuning the pretrained model on the largest interventional budget lowers its OOD excess risk on link "
          "shifts below the pretrained model's.",
          lambda v: below(v.tuned("ood_link"), v.tuned("ood_link", stage=0), paired=True)),
    Claim("small-budgets-cost-id-risk",
          "Fine-tuning on the smallest budget (100 rows) raises the ID excess risk above the pretrained model's.",
          lambda v: below(v.tuned("excess_risk_id", stage=0), v.tuned("excess_risk_id", stage=1), paired=True),
          disagree_reduced={"RandomSCMLarge-v0": NOT_SHOWN}),
    Claim("pretraining-does-not-help-link-risk",
          "At the largest budget, the pretrained-then-fine-tuned model's OOD excess risk on link shifts is not below "
          "that of the same model trained from scratch on the same rows.",
          lambda v: None if v.scratch("ood_link") is None else not below(v.tuned("ood_link"), v.scratch("ood_link"),
                                                                          paired=True)),
    Claim("pretraining-hurts-at-1000",
          "At B = 1,000, the pretrained-then-fine-tuned model's OOD excess risk on link shifts is above that of the "
          "same model trained from scratch on the same rows.",
          lambda v: below(v.scratch_at("ood_link", 1000), v.tuned_at("ood_link", 1000), paired=True),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN, "RandomSCMLarge-v0": NOT_SHOWN}),
    Claim("fine-tuning-leaves-link-risk-above-reference",
          "After the largest budget, the fine-tuned model's OOD excess risk on link shifts is still above the causal "
          "reference's.",
          lambda v: below(v.ref("causal-reference", "ood_link"), v.tuned("ood_link")),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN, "RandomSCMLarge-v0": NOT_SHOWN}),
    Claim("pretraining-leaves-spurious-reliance",
          "At the largest budget, the pretrained-then-fine-tuned model relies more on spurious features than the same "
          "model trained from scratch on the same rows.",
          lambda v: below(v.scratch("spurious_reliance"), v.tuned("spurious_reliance"), paired=True),
          {"RandomSCMRendered-v0": "both end at the same spurious reliance"},
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN, "RandomSCMLarge-v0": NOT_SHOWN}),
    Claim("stage-order-matters",
          "Path dependence: the same rows in the other order (interventional first, then static) end with a higher "
          "OOD excess risk on link shifts than static first, then interventional.",
          lambda v: below(v.tuned("ood_link")[:_n(v.reversed("ood_link"))] if v.tuned("ood_link") is not None else None,
                          v.reversed("ood_link"), paired=True),
          disagree_reduced={"RandomSCMRendered-v0": NOT_SHOWN}),
)


def _n(values: np.ndarray | None) -> int:
    return 0 if values is None else len(values)


def outcomes(records: list[dict], claim: Claim) -> dict[str, bool | None]:
    return {env: claim.check(View(records, env)) for env in ENVS}


def assert_claim(records: list[dict], claim: Claim, disagree: dict[str, str], where: str) -> None:
    result = outcomes(records, claim)
    assert set(disagree) <= set(ENVS)
    speaks = [e for e, ok in result.items() if ok is not None]
    assert speaks, f"{claim.name}: applies to no env of the {where}"
    wrong = {e: ok for e, ok in result.items() if ok is not None and ok == (e in disagree)}
    assert not wrong, f"{claim.name} on the {where}: outcome differs from the README on {sorted(wrong)} " \
                      "(True = holds although listed as a disagreement)"


@pytest.fixture(scope="module")
def committed() -> list[dict]:
    path = DOCS / "results.jsonl"
    if not path.exists():
        pytest.fail(f"{path} is missing: the committed sweep's records are part of the repository")
    return read_records(path)


@pytest.fixture(scope="module")
def reduced(quick_sweep) -> list[dict]:
    return read_records(quick_sweep[0])


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.name for c in CLAIMS])
def test_claim_on_the_committed_sweep(committed, claim: Claim) -> None:
    assert_claim(committed, claim, claim.disagree, "committed sweep")


REDUCED = [c for c in CLAIMS if c.reduced]   # claims about points the reduced sweep has (e.g. not rho = 0.01)


@pytest.mark.parametrize("claim", REDUCED, ids=[c.name for c in REDUCED])
def test_claim_on_the_reduced_sweep(reduced, claim: Claim) -> None:
    assert_claim(reduced, claim, claim.disagree_reduced, "reduced sweep (--quick)")


def test_readme_states_every_claim_and_where_the_data_disagree() -> None:
    """Each claim's text is in the README's Findings, followed (before the next claim) by its disagreeing envs."""
    check_claims_stated(README.read_text(encoding="utf-8"), "Findings",
                        {c.text: set(c.disagree) | set(c.disagree_reduced) for c in CLAIMS}, ENVS, heading="##")
