"""Tuned hyper-parameters: model selection run once per (env, method), stored in a table the runs use.

`causalbench tune` runs `methods.selection.select` (random search over each method's declared
space, the same number of trials for every method, selection on training data only: training-domain
validation, or leave-one-domain-out with >= 3 domains) on every (env, method) pair of a suite, with
its training data drawn at TUNING_SEED, a seed no run trains or evaluates on. The table
(`tuned.json`) records, per pair, the selected hyper-parameters, the strategy, the number of
trials and the validation score; `causalbench run` applies it unless `--defaults` is given, and
every record says which (`hparams_source`). The built-in table ships with the baselines
(`causalbench.baselines/tuned.json`) and is regenerated with `causalbench tune`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..env.registry import make
from ..errors import CausalBenchError
from ..methods import TRACK_DATA, make_task, method_spec
from ..methods.selection import DEFAULT_TRIALS, search_space, select, selected_hparams
from ..provenance import VERSION
from .applicable import not_applicable
from .launchers import parallel_map, progress_bar, single_thread
from .results import write_atomic

TUNING_SEED = 500_000          # below EVAL_SEED_OFFSET, above any training seed a run uses
TABLE_FORMAT = "causalbench-tuned-hparams"
BUILT_IN = "built-in"           # RunConfig.tuning value meaning the table shipped with the baselines


@dataclass(frozen=True)
class Tuned:
    """The selected hyper-parameters of one (env, method) pair and how they were selected."""

    hparams: Mapping[str, Any]
    strategy: str
    trials: int
    score: float


@dataclass(frozen=True)
class TunedTable:
    """(env id, method) -> Tuned, with the settings every entry was selected under."""

    entries: Mapping[tuple[str, str], Tuned]
    n_train: int
    trials: int
    seed: int
    version: str
    source: str = ""

    def get(self, env_id: str, method: str) -> Tuned | None:
        return self.entries.get((env_id, method))

    def to_dict(self) -> dict[str, Any]:
        return {"format": TABLE_FORMAT, "benchmark_version": self.version, "n_train": self.n_train,
                "trials": self.trials, "seed": self.seed,
                "entries": [{"env_id": e, "method": m, "hparams": dict(t.hparams), "strategy": t.strategy,
                             "trials": t.trials, "score": t.score}
                            for (e, m), t in sorted(self.entries.items())]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> "TunedTable":
        if data.get("format") != TABLE_FORMAT:
            raise CausalBenchError(f"{source or 'tuned table'}: not a {TABLE_FORMAT} file")
        entries = {(e["env_id"], e["method"]): Tuned(dict(e["hparams"]), e["strategy"], int(e["trials"]),
                                                     float(e["score"])) for e in data["entries"]}
        return cls(entries, int(data["n_train"]), int(data["trials"]), int(data["seed"]),
                   str(data["benchmark_version"]), source)


def built_in_path() -> Path:
    """The table shipped with the baselines (regenerate: `causalbench tune --out` this path)."""
    from importlib.resources import files

    return Path(str(files("causalbench.baselines").joinpath("tuned.json")))


def load_table(where: str | Path) -> TunedTable:
    """A tuned table from a file, or the built-in one (`where` = "built-in")."""
    path = built_in_path() if str(where) == BUILT_IN else Path(where)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CausalBenchError(f"no tuned hyper-parameter table at {path} (make one with `causalbench tune`)") from None
    except json.JSONDecodeError as err:
        raise CausalBenchError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
    return TunedTable.from_dict(data, str(path))


def tunable(env: Any, method: str) -> bool:
    """Static and continual methods that declare a search space and apply to the env."""
    spec = method_spec(method)
    if spec.protocol == "online" or spec.cls.privileged or not_applicable(env, method) is not None:
        return False
    return bool(search_space(spec.cls.Params(**spec.params)))


def _tune_one(pair: tuple[str, str, int, int]) -> tuple[tuple[str, str], Tuned]:
    env_id, method, n_train, trials = pair
    single_thread()
    env = make(env_id)
    spec = method_spec(method)
    data = env.dataset(TRACK_DATA[spec.track], n=n_train, seed=TUNING_SEED)
    _, log = select(method, make_task(env, spec.track), data, trials=trials, seed=TUNING_SEED)
    best = next(t for t in log if t["selected"])
    defaults = {**_asdict(spec.cls.Params()), **spec.params}
    changed = {k: v for k, v in selected_hparams(log).items() if defaults.get(k) != v}
    return (env_id, method), Tuned(changed, str(best["strategy"]), trials, float(best["score"]))


def _asdict(params: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(params)


def tune(envs: Iterable[str], methods: Iterable[str], n_train: int = 5000, trials: int = DEFAULT_TRIALS,
         jobs: int | None = None, progress: bool = True) -> TunedTable:
    """Select hyper-parameters for every tunable (env, method) pair; a pure function of the arguments."""
    pairs = [(e, m, n_train, trials) for e in envs for m in methods if tunable(make(e), m)]
    if not pairs:
        raise CausalBenchError("nothing to tune: no selected method declares a search space for these envs")
    bar = progress_bar(len(pairs), progress, desc="causalbench tune")
    entries = {}
    try:
        for key, tuned in parallel_map(_tune_one, pairs, jobs or 1):
            entries[key] = tuned
            bar.update(1)
    finally:
        bar.close()
    return TunedTable(entries, n_train, trials, TUNING_SEED, VERSION)


def write_table(table: TunedTable, path: str | Path) -> Path:
    path = Path(path)
    write_atomic(path, json.dumps(table.to_dict(), indent=1, sort_keys=True) + "\n")
    return path
