"""One-step episodes for the gymnasium tasks, drawn in batches from a generator and served in order.

Drawing one unit per episode costs a full SCM pass per step (~0.3 ms); drawing units in batches and
serving them one by one costs a slice. Each unit's domain is drawn independently (the uniform mixture
of the source SCMs, like the training data), and its potential outcome under every action is computed
up front from the unit's own noise: the observation law is exactly the SCM's, and the reward of the
chosen action is the unit's counterfactual outcome. When the action cannot move the target, one world
per unit is the whole episode and its noise continues per-SCM row streams (`SCM.rows`, opened once per
seeding); otherwise each batch draws paired units (`SCM.units`) and samples every action's world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import networkx as nx
import numpy as np

from ..scm import SCM
from ..scm.model import RowSampler
from .base import CausalEnv

FIRST_BATCH = 16      # units in the first batch after (re)seeding: a seeded reset per episode stays cheap
LARGEST_BATCH = 2**16  # batches double up to this many units (~1-3 MB of observations and outcomes)


@dataclass(frozen=True)
class EpisodeBatch:
    """m episodes: clipped float32 observations and the target under each action (one column when the
    action cannot move the target, or for prediction tasks)."""

    obs: np.ndarray        # (m, d) float32
    outcomes: np.ndarray   # (m, K): target under do(action = value k); (m, 1) when it is the same for every k

    def __len__(self) -> int:
        return self.obs.shape[0]

    def outcome(self, rows: np.ndarray | int, actions: np.ndarray | int) -> np.ndarray:
        """The target of episodes `rows` under action indices `actions`."""
        return self.outcomes[rows, 0] if self.outcomes.shape[1] == 1 else self.outcomes[rows, actions]


class EpisodeSource:
    """Draws batches of episodes of one task: the observed columns, the action grid and the SCMs units come from."""

    def __init__(self, cenv: CausalEnv, scms: Sequence[SCM], columns: Sequence[str],
                 low: np.ndarray, high: np.ndarray, render: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.cenv, self.scms, self.columns = cenv, tuple(scms), tuple(columns)
        self.low, self.high, self.render = low, high, render
        self.action = cenv.action
        self.values = np.asarray(cenv.action_values, dtype=float) if cenv.action is not None else np.zeros(0)
        # Does the chosen action move the target at all (in any source SCM)? If not, one world suffices.
        self.acts_on_target = self.action is not None and any(
            cenv.target in nx.descendants(s.graph, self.action) for s in self.scms)

    def open(self, gen: np.random.Generator) -> list[RowSampler] | None:
        """Per-SCM noise streams kept open across batches (one seed each from `gen`), when one world per
        episode suffices; None when every action's world is needed (then each batch draws paired units)."""
        if self.acts_on_target:
            return None
        return [scm.rows(int(s)) for scm, s in zip(self.scms, gen.integers(2**63, size=len(self.scms)))]

    def draw(self, m: int, gen: np.random.Generator, streams: list[RowSampler] | None = None) -> EpisodeBatch:
        """m episodes; every random draw comes from `gen` (domain labels, then one units seed per SCM when
        `streams` is None) or from `streams` (`open(gen)`, continued from batch to batch).

        Observed columns are pre-action, so they are the same in every world do(action = a); when the
        action cannot move the target either, one world do(action = first value) is the whole episode
        (and the action variable's own noise is never drawn).
        """
        k = len(self.scms)
        domain = gen.integers(k, size=m, dtype=np.uint8 if k < 256 else np.int64) if k > 1 else None
        seeds = gen.integers(2**63, size=k).tolist() if streams is None else None
        worlds = len(self.values) if self.acts_on_target else 1
        one_world = {self.action: float(self.values[0])} if self.action is not None and worlds == 1 else None
        # Observed values go straight into the float32 observation array unless they must be rendered first.
        V = np.empty((m, len(self.columns)), dtype=np.float32 if self.render is None else np.float64)
        Y = np.empty((m, worlds))
        target = self.cenv.target
        for j, scm in enumerate(self.scms):
            rows = np.flatnonzero(domain == j) if domain is not None else slice(None)
            size = len(rows) if domain is not None else m
            if size == 0:
                continue
            if seeds is None:
                assert streams is not None
                samples = [streams[j].next(size, one_world)]
            elif worlds == 1:
                samples = [scm.sample(size, seeds[j], do=one_world)]
            else:
                units = scm.units(size, seeds[j])
                samples = [units.sample({self.action: float(v)}) for v in self.values]
            V[rows] = samples[0].columns(self.columns)
            if worlds == 1:
                Y.reshape(m)[rows] = samples[0][target]  # 1-d scatter: cheaper than a column of a 2-d array
            for a, sample in enumerate(samples if worlds > 1 else ()):
                Y[rows, a] = sample[target]
        obs = V if self.render is None else self.render(V).astype(np.float32)
        return EpisodeBatch(np.clip(obs, self.low, self.high, out=obs), Y)


class EpisodeStream:
    """Serves runs of `step` consecutive episodes from batches drawn from a generator.

    Batch sizes double from FIRST_BATCH to LARGEST_BATCH (multiples of `step`) and restart whenever
    the generator is replaced (a seeded reset), so what is served is a pure function of the seed.
    """

    def __init__(self, source: EpisodeSource, step: int = 1) -> None:
        self.source, self.step = source, int(step)
        self._gen: np.random.Generator | None = None
        self._streams: list[RowSampler] | None = None
        self._batch: EpisodeBatch | None = None
        self._at = 0
        self._size = 0

    def next(self, gen: np.random.Generator) -> tuple[EpisodeBatch, int]:
        """(batch, first row) of the next `step` episodes."""
        if gen is not self._gen:
            self._gen, self._batch, self._size = gen, None, 0
            self._streams = self.source.open(gen)
        if self._batch is None or self._at + self.step > len(self._batch):
            self._size = min(max(self._size * 2, FIRST_BATCH), max(LARGEST_BATCH, self.step))
            self._batch = self.source.draw(-(-self._size // self.step) * self.step, gen, self._streams)
            self._at = 0
        start = self._at
        self._at += self.step
        return self._batch, start
