"""Training datasets as consecutive blocks of rows: the one sampler behind `env.dataset` and streaming.

A dataset is the training mixture's units domain by domain. Every variable keeps one noise
stream per domain (`SCM.rows`), and the interventional mask of a domain is drawn from two
positions of its own stream (`MaskRows`), so rows can be produced in blocks of any size and
their concatenation is, byte for byte, the dataset drawn in one piece. `env.dataset` takes one
block per domain (exactly the historical layout); `causalbench generate` takes bounded blocks
and writes them as they come, so its memory does not grow with n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ..resources import check_memory
from ..scm import PerSample, Sample
from ..seeding import rng

CausalEnv = Any  # a `causalbench.env.base.CausalEnv` (not imported: base imports this module)

BLOCK_BYTES = 64 << 20  # target size of one streamed block's float arrays


class MaskRows:
    """The interventional mask of one domain's m units, row block by row block.

    Drawn whole it is `eligible = g.random(m) < fraction; mask = (g.random((m, d)) < p) & eligible`
    on one stream g; here the first draw reads g from its start and the second from g advanced
    by m draws (each uniform double is one PCG64 step), so blocks reproduce it exactly.
    """

    def __init__(self, seed: Any, context: tuple[str, ...], m: int, d: int, p: float, fraction: float) -> None:
        self.d, self.p, self.fraction = d, p, fraction
        self._eligible = rng(seed, *context)
        self._draws = rng(seed, *context)
        self._draws.bit_generator.advance(m)

    def next(self, rows: int) -> np.ndarray:
        eligible = self._eligible.random(rows) < self.fraction
        return (self._draws.random((rows, self.d)) < self.p) & eligible[:, None]


@dataclass(frozen=True)
class Block:
    """Consecutive rows of a dataset: all variables of the units, their domain and intervened mask."""

    sample: Sample
    domain: int
    mask: np.ndarray | None


def row_bytes(env: CausalEnv) -> int:
    """Bytes one row costs while a dataset is built in memory (sample, its concatenation, features, labels)."""
    p, d, k = len(env.scm.names), len(env.feature_names), len(env.variables)
    return 8 * (2 * p + 3 * d + 3) + 2 * k


def block_rows(env: CausalEnv) -> int:
    """Rows per streamed block: ~BLOCK_BYTES of arrays, a multiple of 2^12 rows."""
    rows = BLOCK_BYTES // row_bytes(env)
    return int(max(1 << 12, min(1 << 20, rows)) >> 12 << 12)


def blocks(env: CausalEnv, kind: str, n: int, seed: int, p: float = 0.5, fraction: float = 1.0,
           rows: int | None = None) -> Iterator[Block]:
    """The dataset `env.dataset(kind, n, seed, p=p, fraction=fraction)` in blocks of at most `rows`
    rows (None: one block per domain), domain by domain."""
    mix = env.mixture(n, seed, kind)
    randomizers = {v: env.randomizer(v) for v in env.variables} if kind == "interventional" else {}
    for k, scm, m, ss in mix.parts:
        sampler = scm.rows(ss)
        masks = (MaskRows(seed, (env.stream, kind, env.domains[k].name, "mask"), m, len(env.variables), p, fraction)
                 if kind == "interventional" else None)
        step = rows or m
        for start in range(0, m, step):
            size = min(step, m - start)
            mask = masks.next(size) if masks is not None else None
            do = ({v: PerSample(mask[:, j], randomizers[v]) for j, v in enumerate(env.variables)}
                  if mask is not None else None)
            yield Block(sampler.next(size, do), k, mask)


def collect(env: CausalEnv, kind: str, n: int, seed: int, p: float = 0.5, fraction: float = 1.0
            ) -> tuple[Sample, np.ndarray, np.ndarray | None]:
    """(every unit's variables, domain labels, intervened mask or None), in memory: one block per domain."""
    check_memory(n * row_bytes(env), f"{env.id}: dataset(n={n:,})")
    parts = list(blocks(env, kind, n, seed, p, fraction))
    first = parts[0].sample
    data = np.asfortranarray(np.concatenate([b.sample.data for b in parts])) if len(parts) > 1 else first.data
    labels = np.concatenate([np.full(b.sample.n, b.domain, dtype=np.int64) for b in parts])
    mask = np.concatenate([b.mask for b in parts]) if kind == "interventional" else None
    return Sample(data, first.names, first.index), labels, mask
