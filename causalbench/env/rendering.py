"""`render_mode` for every causalbench gymnasium env: None or a supported mode, a one-line warning otherwise.

Libraries pass a render mode whether or not the env renders: stable-baselines3's `make_vec_env`
asks for "rgb_array" on every id. An unsupported mode is never an error: the env warns once
and does not render. Multi-step envs draw their cells as an `rgb_array` strip (`cell_strip`).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

CELL_PIXELS = 16   # side of one drawn cell in an rgb_array frame


def accepted_render_mode(owner: str, render_mode: str | None, supported: Sequence[str]) -> str | None:
    """`render_mode` if it is None or in `supported`; else warn (one line) and return None (no rendering)."""
    if render_mode is None or render_mode in supported:
        return render_mode
    modes = f"supported: {', '.join(repr(m) for m in supported)}" if supported else "this env does not render"
    warnings.warn(f"{owner}: render_mode={render_mode!r} is not supported ({modes}); rendering is off",
                  UserWarning, stacklevel=3)
    return None


def cell_strip(colours: Sequence[Sequence[int]] | Any) -> np.ndarray:
    """A (CELL_PIXELS, k * CELL_PIXELS, 3) uint8 frame: one square of each RGB colour, left to right."""
    row = np.asarray(colours, dtype=np.uint8).reshape(1, -1, 3)
    return np.repeat(np.repeat(row, CELL_PIXELS, axis=0), CELL_PIXELS, axis=1)
