"""The prose of the generated leaderboard README: how entries are evaluated, how to submit a method, the
prediction format, the column definitions, and what each env family's hidden instances randomise."""

from __future__ import annotations

from typing import Sequence

from ..env.registry import ENVS
from ..errors import CausalBenchError
from ..scoring.metrics import METRICS
from .format import OVERALL_METRICS

DEFINITIONS = tuple((METRICS[m].label, f"{METRICS[m].description} ({METRICS[m].unit})")
                    for m in dict.fromkeys((*OVERALL_METRICS, "excess_risk_id")))


def instance_spaces(env_ids: Sequence[str]) -> list[str]:
    """One Markdown bullet per env family: what its hidden instances randomise (from its `instance_space`)."""
    out = []
    for env_id in env_ids:
        try:
            space = ENVS.get(env_id).instance_space
        except CausalBenchError:   # an env no longer registered: its entries still render
            continue
        out.append(f"- `{env_id}`: " + "; ".join(space.describe() or ["its random streams only"]) + ".")
    return out


HOW_EVALUATED = [
    "## How entries are evaluated", "",
    "1. **Hidden instances.** Every environment id names a family; the registered `-vN` environment is its public "
    "development instance. For each evaluation the harness draws fresh instance seeds with a cryptographic random "
    "generator (`secrets`), `instances` per environment, and builds `causalbench.make(env_id, instance=seed)`: "
    "coefficients, probabilities and graphs drawn from the family's documented ranges (listed above), feature "
    "columns anonymised (x0, x1, ...) and permuted, random streams keyed by the secret seed. The exact ground truth "
    "of each instance is computed from its own SCM. The seeds are written into the entry only after evaluation "
    "(`instances` in `entries/<name>.json`, and the list above).",
    "2. **Isolation.** Each (method, instance, seed) job trains and predicts in its own worker process "
    "(`causalbench.experiments.isolation`), started fresh (multiprocessing *spawn*). The worker receives arrays "
    "only: the training data of the method's track with anonymous names and no roles, a `Task` whose `env_id` is "
    "an opaque task id, and the inputs to predict; online methods step an env proxy whose SCM stays in the harness. "
    "Limits per job: 30 minutes of wall-clock time and 6 GiB of memory; a job over its limits, or one that raises, "
    "is recorded as a failure of that environment.",
    "3. **Scoring.** The scorer recomputes every metric from the predictions and the instance's truth, as for "
    "`causalbench run`. Per environment a cell summarises the (instance, seed) runs; the ranked tables average "
    "each unit over the environments, then summarise over units (mean and a 95% Student-t interval clipped to the "
    "metric's range, `causalbench.scoring.summarize`).",
    "4. **Ranking.** Within its track, a method is ranked by effect error if it covers every environment of the "
    "suite (none not applicable, no failed job); otherwise it appears in the per-environment tables only. Exact "
    "references (`causal-reference`, `bayes-train`, `null`) and privileged methods are reference rows, never "
    "ranked. Prediction submissions are shown as unverified and never ranked.",
    "5. **Comparability.** The baselines and references of one regeneration share an instance set; a method "
    "evaluated later gets fresh secret instances (the old ones are public by then). The interval says how much "
    "an entry moves with the instances it was dealt.",
]

HOW_TO_SUBMIT = [
    "## How to submit a method", "",
    "A submission is a **method**, not numbers: the maintainers run it through the evaluation above.",
    "",
    "1. Write a `causalbench.methods.Method` subclass in your own package (numpy in and out; `fit(data)` for "
    "static tracks, `interact(env, budget)` for the online track; set the class attributes `track` and "
    "`protocol`). Expose it as a `module:Class` path, or as an entry point in the group `causalbench.methods` "
    "(`[project.entry-points.\"causalbench.methods\"] my-method = \"mypkg.methods:MyMethod\"` in its "
    "`pyproject.toml`). Scikit-learn estimators: `from_sklearn(...)` at module level gives such a class.",
    "2. Try it: `causalbench run --methods mypkg.methods:MyMethod --envs IceCreamShorts-v1 --jobs 2` (public "
    "instances), then `causalbench evaluate mypkg.methods:MyMethod --suite smoke-v3 --out my-method.json`: the "
    "official path (secret hidden instances, isolated workers) on the smoke suite; `--suite official-v3` for the "
    "real thing on your machine. Add `--leaderboard DIR` to publish the entry into a local leaderboard folder.",
    "3. Send it: open a pull request that adds `leaderboard/requests/<name>.json` to this repository, or, if you "
    "cannot, an issue titled `Leaderboard method: <name>` in its issue tracker with the same JSON:",
    "   `{\"format\": \"causalbench-method-request\", \"name\": \"my-method\", \"method\": \"mypkg.methods:MyMethod\", "
    "\"requirements\": [\"mypkg==1.0.0\"], \"authors\": [\"Ada Lovelace\"], \"paper\": \"https://...\", "
    "\"code\": \"https://...\", \"description\": \"one paragraph\"}`. "
    "`requirements` must pin exact versions (or a commit of a git URL); `name` is a slug "
    "(`[a-z0-9][a-z0-9-]*`, case-folded, not a lookalike of a built-in).",
    "4. A maintainer installs the requirements in a fresh environment and runs "
    "`python leaderboard/submit.py --request leaderboard/requests/<name>.json`, which evaluates the method on "
    "freshly drawn secret instances and publishes its entry (with the instance seeds) and these pages.",
]

PREDICTION_FORMAT = [
    "## Prediction submissions (unverified; format `causalbench-submission`, version 1)", "",
    "`causalbench evaluate METHOD --predictions --out x.json` writes a manifest and an `.npz` of predictions on the "
    "suite's public-instance test sets and probes; `causalbench submit x.json --check` validates and re-scores it "
    "locally, and `causalbench submit x.json` adds it to the unverified table. The manifest (schema "
    "`schema/submission-v1.json`, at most 1 MiB) holds `format`, `format_version`, `benchmark_version`, `suite` "
    "(`id`, `envs`, `seeds`, `n_test`), `method` (a slug), `track`, `authors`, optional `paper`, `code`, "
    "`description`, `hparams`, `created`, `not_applicable`, `claimed_metrics` (checked against the re-score) and "
    "`predictions` (`file`, `sha256`); every string must be UTF-8 text without control characters. The `.npz` holds "
    "one float vector per `<env_id>/<seed>/<input>` (never pickled). Anything else is refused with a one-line reason.",
]
