"""`--hparams` overrides checked against the selected methods' hyper-parameters (loads the method registry)."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping

from ..errors import CausalBenchError
from ..methods import method_spec


def check_hparams(overrides: Mapping[str, Any], methods: Iterable[str]) -> dict[str, Any]:
    """Overrides checked against the selected methods' hyper-parameters: every key must belong to at least
    one of them, and a value must have the type of that field's default (an integral float becomes an int)."""
    defaults: dict[str, list[Any]] = {}
    for name in methods:
        params = method_spec(name).cls.Params
        for f in dataclasses.fields(params):
            defaults.setdefault(f.name, []).append(getattr(params(), f.name))
    out = {}
    for key, value in overrides.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise CausalBenchError(f"--hparams: no selected method has a hyper-parameter {key!r} (theirs: {known})")
        out[key] = _coerce(key, value, defaults[key])
    return out


def _coerce(key: str, value: Any, defaults: list[Any]) -> Any:
    for default in defaults:
        if default is None or isinstance(default, str):
            return value if isinstance(value, str) or default is None else str(value)
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            continue
        if isinstance(default, int) and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and float(value).is_integer():
            return int(value)
        if isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    kinds = ", ".join(sorted({type(d).__name__ for d in defaults}))
    raise CausalBenchError(f"--hparams {key}={value!r}: expected a value of type {kinds}")
