"""Reproductions of published results: a registered spec (an env family's settings, the paper's methods as
registered methods with overrides, the published numbers) run through the ordinary method protocol.

Each repetition builds a fresh instance of the env (the paper's SEM draw), the paper's training data,
fits every method with `fit(dataset)`, reads its linear weights off `predict` (exact for affine
predictors: w_j = f(e_j) - f(0)) and scores them with the spec's error function. Specs live beside the
baselines (`causalbench.baselines` registers them), so the core never names an env or a method.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..env.registry import make
from ..errors import CausalBenchError
from ..methods import make_task, method_spec
from ..registry import Registry
from .launchers import parallel_map, progress_bar, single_thread

REPRODUCTIONS: Registry["Reproduction"] = Registry("reproduction", plugins=("causalbench.baselines",))


@dataclass(frozen=True)
class MethodRun:
    """One row of the paper's table: a registered method with the overrides that make it the paper's."""

    label: str
    method: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    quick_overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reproduction:
    """A published experiment: which env settings, which methods, how data and errors are made, what was reported.

    `dataset(env, n, seed)` builds one repetition's training data; `errors(env, weights)` scores a fitted
    method's feature-space weights; `published[setting][label]` = the paper's (causal, non-causal) errors.
    `better` lists (setting, label, label) pairs the paper's claim orders; `factor` is how close to the
    published value a reproduction must come (a ratio, either way).
    """

    name: str
    title: str
    env_id: str
    setting_option: str
    settings: tuple[str, ...]
    methods: tuple[MethodRun, ...]
    published: Mapping[str, Mapping[str, tuple[float, float]]]
    source: str
    dataset: Callable[[Any, int, int], Any]
    errors: Callable[[Any, np.ndarray], tuple[float, float]]
    instance_option: str | None = None
    reps: int = 200
    n: int = 1000
    quick_reps: int = 2
    better: tuple[tuple[str, str, str], ...] = ()
    factor: float = 2.0


def register_reproduction(name: str, entry_point: str | Reproduction, *, summary: str) -> None:
    """Register a reproduction spec (lazily, by "module:attr")."""
    REPRODUCTIONS.register(name, entry_point, summary=summary)


@dataclass(frozen=True)
class ReproduceConfig:
    """What `causalbench reproduce` runs (recorded in every record)."""

    name: str
    settings: tuple[str, ...] = ()         # empty = the spec's settings
    methods: tuple[str, ...] = ()          # labels; empty = all
    reps: int | None = None                # None = the spec's (the paper's) number
    n: int | None = None                   # rows per environment; None = the paper's
    steps: int | None = None               # override the iterative methods' step count
    quick: bool = False

    def resolve(self, spec: Reproduction) -> "ReproduceConfig":
        unknown = set(self.settings) - set(spec.settings) - set(spec.published)
        labels = [m.label for m in spec.methods]
        if unknown or set(self.methods) - set(labels):
            raise CausalBenchError(f"{spec.name}: unknown setting(s) or method(s) {sorted(unknown | (set(self.methods) - set(labels)))}; "
                                   f"settings: {', '.join(spec.published)}; methods: {', '.join(labels)}")
        return dataclasses.replace(self, settings=self.settings or spec.settings, methods=self.methods or tuple(labels),
                                   reps=self.reps or (spec.quick_reps if self.quick else spec.reps),
                                   n=self.n or spec.n)


def linear_weights(predict: Callable[[np.ndarray], np.ndarray], d: int) -> np.ndarray:
    """Feature weights of an affine predictor: f(e_j) - f(0) for each unit vector e_j."""
    out = np.asarray(predict(np.vstack([np.zeros((1, d)), np.eye(d)])), dtype=float)
    return out[1:] - out[0]


def run_repetition(job: tuple[str, int], config: ReproduceConfig) -> list[dict[str, Any]]:
    """One (setting, repetition): a fresh env instance and data, every method fitted and scored."""
    setting, rep = job
    spec = REPRODUCTIONS.get(config.name)
    single_thread()
    options = {spec.setting_option: setting, **({spec.instance_option: rep} if spec.instance_option else {})}
    env = make(spec.env_id, **options)
    data = spec.dataset(env, int(config.n), rep)
    records = []
    for run in spec.methods:
        if run.label not in config.methods:
            continue
        m = method_spec(run.method)
        overrides = {**run.overrides, **(run.quick_overrides if config.quick else {})}
        if config.steps is not None and "steps" in {f.name for f in dataclasses.fields(m.cls.Params)}:
            overrides["steps"] = config.steps
        method = m.build(make_task(env, m.track, privileged=m.cls.privileged), seed=rep, **overrides)
        start = time.perf_counter()
        method.fit(data)
        seconds = time.perf_counter() - start
        causal, noncausal = spec.errors(env, linear_weights(method.predict, data.d))
        extra = {k: _plain(getattr(method, k)) for k in ("reg_", "beta_") if hasattr(method, k)}
        records.append({"reproduction": spec.name, "setting": setting, "rep": rep, "label": run.label,
                        "method": run.method, "env_id": spec.env_id, "env_options": options, "n": config.n,
                        "train_fingerprint": data.fingerprint, "hparams": method.hparams(), "selected": extra,
                        "causal_error": causal, "noncausal_error": noncausal, "fit_seconds": round(seconds, 3)})
    return records


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else value


def reproduce(config: ReproduceConfig, jobs: int = 1, progress: bool = False) -> list[dict[str, Any]]:
    """Run every (setting, repetition) of a reproduction; records sorted by (setting, rep, method)."""
    spec = REPRODUCTIONS.get(config.name)
    config = config.resolve(spec)
    todo = [(s, r) for s in config.settings for r in range(int(config.reps))]
    records: list[dict[str, Any]] = []
    bar = progress_bar(len(todo), progress, desc=f"causalbench reproduce {spec.name}", unit="rep")
    for found in parallel_map(run_repetition, todo, jobs, config):
        records.extend(found)
        bar.update(1)
    bar.close()
    order = {s: i for i, s in enumerate(config.settings)}
    labels = {m.label: i for i, m in enumerate(spec.methods)}
    return sorted(records, key=lambda r: (order[r["setting"]], r["rep"], labels[r["label"]]))


@dataclass(frozen=True)
class Cell:
    """Mean (and standard error over repetitions) of one method's errors in one setting."""

    causal: float
    noncausal: float
    causal_se: float
    noncausal_se: float
    reps: int


def summarize(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Cell]:
    """(setting, label) -> mean errors over repetitions, as the paper's tables average them."""
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in records:
        groups.setdefault((r["setting"], r["label"]), []).append((r["causal_error"], r["noncausal_error"]))
    out = {}
    for key, vals in groups.items():
        a = np.array(vals)
        se = a.std(axis=0, ddof=1) / np.sqrt(len(a)) if len(a) > 1 else np.full(2, np.nan)
        out[key] = Cell(float(a[:, 0].mean()), float(a[:, 1].mean()), float(se[0]), float(se[1]), len(a))
    return out


@dataclass(frozen=True)
class Check:
    """One acceptance statement about a reproduction and whether the numbers meet it."""

    text: str
    ok: bool


def checks(spec: Reproduction, cells: Mapping[tuple[str, str], Cell]) -> list[Check]:
    """The paper's orderings (`better`) and every reproduced causal error within `factor` of the published one."""
    out = []
    for setting, good, bad in spec.better:
        if (setting, good) in cells and (setting, bad) in cells:
            a, b = cells[(setting, good)].causal, cells[(setting, bad)].causal
            out.append(Check(f"{setting}: {good} causal error {a:.4f} < {bad} {b:.4f}", a < b))
    for (setting, label), cell in cells.items():
        pub = spec.published.get(setting, {}).get(label)
        if pub is not None:
            ratio = cell.causal / pub[0]
            ok = 1 / spec.factor <= ratio <= spec.factor
            out.append(Check(f"{setting}: {label} causal error {cell.causal:.4f} is {ratio:.2f}x the published "
                             f"{pub[0]:.4f} (within {spec.factor:g}x)", ok))
    return out


def table(spec: Reproduction, cells: Mapping[tuple[str, str], Cell], settings: Sequence[str]) -> str:
    """Markdown: one row per method (reproduced, then published), one column per setting, cells causal / non-causal."""
    lines = ["| method | " + " | ".join(settings) + " |", "|---|" + "---|" * len(settings)]
    for run in spec.methods:
        row = [cells.get((s, run.label)) for s in settings]
        if any(c is not None for c in row):
            reps = sorted({c.reps for c in row if c is not None})
            cellfmt = [f"{c.causal:.4f} / {c.noncausal:.4f}" if c else "–" for c in row]
            lines.append(f"| {run.label}, causalbench ({'/'.join(map(str, reps))} reps) | " + " | ".join(cellfmt) + " |")
        pubs = [spec.published.get(s, {}).get(run.label) for s in settings]
        if any(p is not None for p in pubs):
            lines.append(f"| {run.label}, published | " + " | ".join(f"{p[0]:.4f} / {p[1]:.4f}" if p else "–"
                                                                    for p in pubs) + " |")
    return "\n".join(lines)
