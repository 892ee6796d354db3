"""Names: environment ids (`Name-vN`) and test-set names (`id` or `<shift>@<severity>`), parsed in one place."""

from __future__ import annotations

import re

from ..errors import DataError

ENV_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*-v\d+$")
ID_TEST_SET = "id"


def test_set_name(shift: str, severity: float) -> str:
    """The name of a shifted test set, e.g. ("heatwave", 2.0) -> "heatwave@2"."""
    return f"{shift}@{severity:g}"


def parse_test_set(name: str) -> tuple[str, float] | None:
    """ "<shift>@<severity>" -> (shift, severity); "id" -> None; anything else is a DataError."""
    if name == ID_TEST_SET:
        return None
    shift, sep, sev = str(name).partition("@")
    try:
        severity = float(sev)
    except ValueError:
        severity = float("nan")
    if not sep or not shift or severity != severity:
        raise DataError(f"{name!r} is not a test-set name; use 'id' or '<shift>@<severity>', e.g. 'heatwave@2'")
    return shift, severity
