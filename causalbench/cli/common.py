"""Argument parsing shared by the subcommands: comma lists, seeds, counts, hyper-parameters, one-line errors.

Handlers validate every argument with these functions before they create anything on disk;
a bad value is a `CausalBenchError` naming the flag (the CLI prints it as one line, exit 2).
"""

from __future__ import annotations

import argparse
import math
import os
from typing import Any, Callable

from ..errors import CausalBenchError

Handler = Callable[[argparse.Namespace], int]
BYTES_PER_VALUE = 8      # float64
WORKING_COPIES = 3       # a sample, its feature matrix and an export buffer are alive at once


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def integer(text: Any, flag: str, minimum: int | None = None) -> int:
    """An integer written as '5000', '5e3' or '5_000'; one-line errors for anything else or below `minimum`."""
    raw = str(text).strip()
    try:
        value = float(raw.replace("_", ""))
    except ValueError:
        raise CausalBenchError(f"{flag}: {raw!r} is not an integer") from None
    if not math.isfinite(value) or value != int(value):
        raise CausalBenchError(f"{flag}: {raw!r} is not an integer")
    if minimum is not None and value < minimum:
        raise CausalBenchError(f"{flag} must be at least {minimum}, got {raw}")
    return int(value)


def seeds(text: str, flag: str = "--seeds") -> tuple[int, ...]:
    """'3' -> seeds 0, 1, 2; '0,5,7' -> those seeds. A count must be >= 1, seeds >= 0 and distinct."""
    items = _csv(str(text))
    if not items:
        raise CausalBenchError(f"{flag} is empty; give a count (3 = seeds 0,1,2) or a list (0,5,7)")
    if len(items) == 1 and "," not in str(text):
        count = integer(items[0], flag)
        if count < 1:
            raise CausalBenchError(f"{flag} {items[0]}: a count of seeds must be at least 1 ({flag} 1 runs seed 0, "
                                   f"{flag} 3 runs seeds 0,1,2, {flag} 0,5,7 runs those seeds)")
        return tuple(range(count))
    values = tuple(integer(v, flag) for v in items)
    negative = [v for v in values if v < 0]
    if negative:
        raise CausalBenchError(f"{flag}: seeds must be >= 0, got {negative[0]}")
    if len(set(values)) != len(values):
        raise CausalBenchError(f"{flag}: seed {next(v for v in values if values.count(v) > 1)} is repeated")
    return values


def jobs(text: Any) -> int | None:
    """--jobs: None (all cores) or a positive number of worker processes."""
    return None if text is None else integer(text, "--jobs", minimum=1)


def rows(text: Any, flag: str, columns: int = 1) -> int:
    """A positive row count that fits in memory (n x columns float64, a few working copies)."""
    n = integer(text, flag, minimum=1)
    need = float(n) * max(columns, 1) * BYTES_PER_VALUE * WORKING_COPIES
    have = _physical_memory()
    if have and need > have:
        raise CausalBenchError(f"{flag} {_count(n)} rows would need about {_gib(need)} of memory for {columns} columns "
                               f"(this machine has {_gib(have)}); use a smaller {flag}")
    return n


def _physical_memory() -> float | None:
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # not POSIX: no bound
        return None


def _gib(n_bytes: float) -> str:
    gib = n_bytes / 2**30
    return f"{gib:,.1f} GiB" if gib < 1e6 else f"{gib:.2g} GiB"


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"{float(n):.3g}"


def hparams(text: str | None) -> dict[str, Any]:
    """--hparams 'lr=0.01,steps=500,hidden=64' -> {'lr': 0.01, 'steps': 500, 'hidden': 64} (numbers, true/false, text)."""
    if text is None:
        return {}
    out: dict[str, Any] = {}
    for item in _csv(text):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise CausalBenchError(f"--hparams: expected KEY=VALUE pairs separated by commas, got {item!r}")
        if key in out:
            raise CausalBenchError(f"--hparams: {key!r} is given twice")
        out[key] = _value(value)
    if not out:
        raise CausalBenchError("--hparams is empty; expected KEY=VALUE,...")
    return out


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
