"""The leaderboard's suites and formats: the official suite (envs, hidden instances, seeds, sizes), the
entry format, and the prediction-submission format (version 1) with its JSON schema.

One place defines the official suite and the schema; `leaderboard/schema/submission-v1.json` is this
schema, written out.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..env.registry import suite
from ..errors import SubmissionError
from ..experiments.config import DEFAULT_SUITE, RunConfig
from ..methods import TRACKS

FORMAT = "causalbench-submission"
FORMAT_VERSION = 1
ENTRY_FORMAT = "causalbench-leaderboard-entry"
ENTRY_VERSION = 2
LEADERBOARD_DIR = Path(__file__).resolve().parents[2] / "leaderboard"
CLAIMABLE = ("excess_risk_id", "ood_link", "ood_worst", "spurious_reliance", "causal_reliance", "effect_error", "regret")
# Per-run entry metrics, and the overall columns (per unit of evaluation: the mean over envs; then a summary over
# units). `ood_worst` = the largest per-shift excess risk.
ENTRY_METRICS = ("effect_error", "ood_link", "ood_worst", "spurious_reliance", "causal_reliance", "excess_risk_id",
                 "regret")
OVERALL_METRICS = ("effect_error", "ood_link", "regret", "ood_worst", "spurious_reliance")
REL_TOL, ABS_TOL = 1e-6, 1e-9  # claimed vs re-scored metrics


@dataclass(frozen=True)
class SuiteSpec:
    """What a leaderboard scores and how evaluation trains (the runner's settings).

    Methods are evaluated on `instances` hidden instances per env, drawn from secret seeds at evaluation
    time, times the training `seeds`. Prediction submissions (unverified) are scored on the public
    instances with the same seeds.
    """

    id: str
    envs: tuple[str, ...]
    seeds: tuple[int, ...]
    n_test: int
    n_train: int = RunConfig.n_train
    budget: int = RunConfig.budget
    num_envs: int = RunConfig.num_envs
    overrides: tuple[tuple[str, Any], ...] = ()
    instances: int = 2

    def run_config(self, methods: Sequence[str] = ()) -> RunConfig:
        return RunConfig(envs=self.envs, methods=tuple(methods), seeds=self.seeds, n_train=self.n_train,
                         n_test=self.n_test, budget=self.budget, num_envs=self.num_envs,
                         overrides=dict(self.overrides), tuning=None)   # a method runs with the hparams it declares

    def manifest(self) -> dict[str, Any]:
        """What a prediction submission's manifest must state about the suite."""
        return {"id": self.id, "envs": list(self.envs), "seeds": list(self.seeds), "n_test": self.n_test}

    def describe(self) -> dict[str, Any]:
        """What a method entry records about the suite it was evaluated on."""
        return {**self.manifest(), "n_train": self.n_train, "budget": self.budget, "num_envs": self.num_envs,
                "instances": self.instances, "overrides": dict(self.overrides)}


# The official suite: the runner's default envs, 3 hidden instances per env x 1 training seed, the runner's sizes.
OFFICIAL_SUITE = SuiteSpec("official-v3", suite(DEFAULT_SUITE), (0,), RunConfig.n_test, instances=3)
# A quick suite to try the tooling (never accepted into the official leaderboard).
SMOKE_SUITE = SuiteSpec("smoke-v3", suite("smoke"), (0,), 200, n_train=400,
                        budget=2000, num_envs=64, overrides=(("steps", 60),), instances=2)
SUITES = {s.id: s for s in (OFFICIAL_SUITE, SMOKE_SUITE)}


@dataclass(frozen=True)
class Limits:
    """Size bounds, checked before anything is parsed or decompressed."""

    manifest_bytes: int = 1 << 20
    npz_bytes: int = 256 << 20
    member_bytes: int = 16 << 20     # one array, uncompressed
    total_bytes: int = 1 << 30       # all arrays, uncompressed
    members: int = 50_000


# ---------------------------------------------------------------- the schema

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$"
_METHOD = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"
_ENV = r"^[A-Za-z][A-Za-z0-9_]{0,63}-v[0-9]{1,4}$"
SEED_PATTERN = r"^(0|[1-9][0-9]{0,9})$"
_URL = {"type": ["string", "null"], "pattern": r"^https?://[^\s\"<>]{1,500}$"}
_SCALAR = ["string", "number", "boolean", "null"]
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "causalbench leaderboard submission (format causalbench-submission, version 1)",
    "description": "A manifest; its predictions are in the .npz it names: one float vector per "
                   "<env_id>/<seed>/<input> for every covered env, every suite seed and every input of "
                   "causalbench.scoring.get_suite(env, seed, n_test). Patterns are anchored.",
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "format_version", "benchmark_version", "suite", "method", "track", "authors",
                 "predictions"],
    "properties": {
        "format": {"const": FORMAT},
        "format_version": {"const": FORMAT_VERSION, "description": "bumped on any incompatible change"},
        "benchmark_version": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+[A-Za-z0-9.+-]{0,30}$",
                              "description": "causalbench.__version__ the predictions were made with"},
        "suite": {"type": "object", "additionalProperties": False, "required": ["id", "envs", "seeds", "n_test"],
                  "description": "must equal the leaderboard's suite (official-v3)",
                  "properties": {
                      "id": {"type": "string", "pattern": _NAME},
                      "envs": {"type": "array", "items": {"type": "string", "pattern": _ENV}, "minItems": 1,
                               "maxItems": 64, "uniqueItems": True},
                      "seeds": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
                                "minItems": 1, "maxItems": 32, "uniqueItems": True},
                      "n_test": {"type": "integer", "minimum": 1, "maximum": 1_000_000}}},
        "method": {"type": "string", "pattern": _METHOD,
                   "description": "case-folded, names the entry file entries/<method>.json"},
        "track": {"enum": list(TRACKS), "description": "the information the method used"},
        "authors": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 200},
                    "minItems": 1, "maxItems": 100},
        "paper": {**_URL, "description": "link to the paper (http or https), or null"},
        "code": {**_URL, "description": "link to the code, or null"},
        "description": {"type": "string", "maxLength": 2000},
        "created": {"type": "string", "maxLength": 40},
        "hparams": {"type": "object", "maxProperties": 100, "description": "hyper-parameters, for the record",
                    "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$"},
                    "additionalProperties": {"type": [*_SCALAR, "array"], "maxLength": 200, "maxItems": 64,
                                             "items": {"type": _SCALAR, "maxLength": 200}}},
        "predictions": {"type": "object", "additionalProperties": False, "required": ["file", "sha256"],
                        "properties": {
                            "file": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}\.npz$",
                                     "description": "a bare file name, next to the manifest"},
                            "sha256": {"type": "string", "pattern": r"^[0-9a-f]{64}$"}}},
        "not_applicable": {"type": "object", "maxProperties": 64, "propertyNames": {"pattern": _ENV},
                           "description": "env id -> why the method cannot run there (no predictions for it)",
                           "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 300}},
        "claimed_metrics": {
            "type": "object", "maxProperties": 64, "propertyNames": {"pattern": _ENV},
            "description": "env id -> seed -> metric -> value (null = undefined); must match the re-score",
            "additionalProperties": {
                "type": "object", "maxProperties": 32, "propertyNames": {"pattern": SEED_PATTERN},
                "additionalProperties": {"type": "object", "additionalProperties": False,
                                         "properties": {m: {"type": ["number", "null"]} for m in CLAIMABLE}}}},
    },
}


def json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "integer" if isinstance(v, int) or float(v).is_integer() else "number"
    return {str: "string", list: "array", dict: "object"}.get(type(v), type(v).__name__)


def _is_type(v: Any, t: str) -> bool:
    actual = json_type(v)
    return actual == t or (t == "number" and actual == "integer")


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers."""
    return isinstance(a, bool) == isinstance(b, bool) and type(a) in (type(b), int, float) and a == b


def short(v: Any) -> str:
    text = json.dumps(v)
    return text if len(text) <= 40 else text[:37] + "..."


def check_schema(value: Any, schema: Mapping[str, Any] = SCHEMA, where: str = "manifest") -> None:
    """Validate JSON data against the subset of JSON Schema that SCHEMA uses (patterns are anchored)."""
    bad = (lambda why: SubmissionError(f"{where}: {why}"))
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        if not any(_is_type(value, t) for t in types):
            raise bad(f"expected {' or '.join(types)}, got {json_type(value)}")
    if "const" in schema and not json_equal(value, schema["const"]):
        raise bad(f"must be {short(schema['const'])}, got {short(value)}")
    if "enum" in schema and not any(json_equal(value, e) for e in schema["enum"]):
        raise bad(f"must be one of {', '.join(map(short, schema['enum']))}, got {short(value)}")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", math.inf) or len(value) < schema.get("minLength", 0):
            raise bad(f"length {len(value)} is outside [{schema.get('minLength', 0)}, {schema.get('maxLength')}]")
        if "pattern" in schema and not re.fullmatch(schema["pattern"][1:-1], value):
            raise bad(f"{short(value)} does not match {schema['pattern']}")
    if _is_type(value, "number") and not schema.get("minimum", -math.inf) <= value <= schema.get("maximum", math.inf):
        raise bad(f"{value} is outside [{schema.get('minimum')}, {schema.get('maximum')}]")
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", math.inf):
            raise bad(f"{len(value)} items, expected {schema.get('minItems', 0)} to {schema.get('maxItems')}")
        if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
            raise bad("items must be unique")
        for i, item in enumerate(value):
            if "items" in schema:
                check_schema(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        if len(value) > schema.get("maxProperties", math.inf):
            raise bad(f"{len(value)} keys, at most {schema['maxProperties']} allowed")
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            raise bad(f"missing required field(s) {', '.join(missing)}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if "propertyNames" in schema:
                check_schema(key, schema["propertyNames"], f"{where} key")
            if key in props:
                check_schema(item, props[key], f"{where}.{key}")
            elif extra is False:
                raise bad(f"unknown field {short(key)}")
            elif isinstance(extra, dict):
                check_schema(item, extra, f"{where}.{key}")
