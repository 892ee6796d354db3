"""The README's numbers: its worked example is executed and every number it prints in a comment is checked,
and its results tables are the ones `causalbench run` wrote into docs/results/summary.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
NUMBERS = re.compile(r"^(-?\d+\.\d+(?:, -?\d+\.\d+)*)\b")


def section(title: str) -> str:
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 4)
    return README[start:end if end >= 0 else None]


def example() -> tuple[str, list[tuple[str, str]]]:
    """(the example's code, [(expression, its comment)] for every line whose comment states a value)."""
    code = re.search(r"```python\n(.*?)```", section("The idea in one example"), re.S).group(1)
    checks = []
    for line in code.splitlines():
        expr, _, comment = line.partition("#")
        expr, comment = expr.strip(), comment.strip()
        if expr and comment and (NUMBERS.match(comment) or comment.startswith("(")) and "=" not in expr:
            checks.append((expr, comment))
    return code.replace("print(env.describe())", "env.describe()"), checks


def test_the_worked_example_prints_what_the_readme_says() -> None:
    code, checks = example()
    assert len(checks) >= 7
    namespace: dict = {}
    exec(compile(code, "README example", "exec"), namespace)
    for expr, comment in checks:
        value = eval(expr, namespace)
        numbers = NUMBERS.match(comment)
        if numbers:
            stated = numbers.group(1).split(", ")
            values = value if isinstance(value, tuple) else (value,)
            assert len(values) == len(stated), expr
            for got, text in zip(values, stated):
                decimals = len(text.split(".")[1])
                assert round(float(got), decimals) == pytest.approx(float(text), abs=1e-12), (expr, got, text)
        else:
            literal = comment.split("  ")[0]
            assert value == ast.literal_eval(literal), (expr, value, literal)


def test_results_tables_are_the_committed_run() -> None:
    """Every table row of the README's Results section is a row of docs/results/summary.md."""
    summary = (ROOT / "docs" / "results" / "summary.md").read_text(encoding="utf-8").splitlines()
    rows = [line for line in section("Results").splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 3 * 17
    missing = [row for row in rows if row not in summary]
    assert not missing, missing[:3]


def test_every_registered_env_and_method_is_in_the_readme() -> None:
    import causalbench as cb
    from causalbench.methods import METHODS

    envs, methods = section("Environments"), section("Baselines")
    deprecated = {e for e in cb.list_envs() if e == "IceCreamShorts-v0"}
    assert not [e for e in cb.list_envs() if f"`{e}`" not in envs and e not in deprecated]
    assert not [m for m in METHODS.names() if f"`{m}`" not in methods]
    assert np.all([f"`{e}`" in envs for e in deprecated])
