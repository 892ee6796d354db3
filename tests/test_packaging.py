"""Packaging: the import root, package mapping, lazy heavy imports."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code: str) -> str:
    """Run code in a fresh interpreter outside the repository (only the installed package is visible)."""
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_every_package_folder_is_listed_in_pyproject() -> None:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    found = set()
    for name, folder in cfg["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *rel.parts]))
    assert found <= listed, f"missing from pyproject packages: {sorted(found - listed)}"
    assert {"causalbench", "causalbench.envs", "causalbench.baselines"} <= listed


def test_envs_and_baselines_live_under_the_import_root() -> None:
    out = run("import importlib.util as u, causalbench.envs, causalbench.baselines; "
              "print(u.find_spec('envs') is None, u.find_spec('baselines') is None)")
    assert out.split() == ["True", "True"]


HEAVY = ('torch', 'pgmpy', 'matplotlib', 'pandas', 'scipy', 'networkx', 'numpy', 'gymnasium')


def test_import_and_list_stay_light() -> None:
    out = run(f"import sys, causalbench as cb; from causalbench.cli import main; main(['list']); "
              f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert out.strip().splitlines()[-1] == "[]"


def test_console_script_and_help() -> None:
    exe = Path(sys.executable).with_name("causalbench")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("list", "describe", "generate"):
        assert command in out


def test_gymnasium_registration_after_import() -> None:
    out = run("import gymnasium as gym, causalbench; env = gym.make('causalbench/IceCreamShorts-v1'); "
              "print(env.reset(seed=0)[0].shape)")
    assert out.strip() == "(1,)"
    out = run("import gymnasium as gym; env = gym.make('causalbench:causalbench/IceCreamShorts-v1'); print('ok')")
    assert out.strip() == "ok"


def test_gymnasium_registration_when_gymnasium_comes_after_causalbench() -> None:
    """`import causalbench` defers registration until gymnasium is imported (it does not import numpy itself)."""
    out = run("import sys, causalbench; print('gymnasium' in sys.modules); import gymnasium as gym; "
              "print(sum(k.startswith('causalbench/') for k in gym.registry) == len(causalbench.list_envs(include_deprecated=True))); "
              "vec = gym.make_vec('causalbench/IceCreamShorts-v1', num_envs=3, vectorization_mode='vector_entry_point'); "
              "print(vec.reset(seed=0)[0].shape)")
    assert out.split() == ["False", "True", "(3,", "1)"]
