"""Argument parsing shared by the subcommands: comma lists, seed lists, and one-line errors for bad input."""

from __future__ import annotations

import argparse
from typing import Callable

Handler = Callable[[argparse.Namespace], int]


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _int_list(value: str) -> list[int]:
    try:
        return [int(float(v)) for v in _csv(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}") from None


def _float_list(value: str) -> list[float]:
    try:
        return [float(v) for v in _csv(value)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {value!r}") from None


def _seeds(value: str) -> list[int]:
    """'3' -> [0, 1, 2]; '0,5,7' -> [0, 5, 7]."""
    items = _int_list(value)
    return list(range(items[0])) if len(items) == 1 and "," not in value else items
