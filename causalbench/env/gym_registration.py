"""Register every environment with gymnasium as `causalbench/<id>` (entry-point strings, nothing imported).

`import causalbench` must stay cheap (`causalbench list` in well under 0.3 s), and importing
gymnasium alone costs ~0.1 s (it pulls numpy). So registration happens the moment gymnasium is
imported: at once if it already is, otherwise through a one-shot import hook that runs right after
gymnasium's own `__init__`. Either way `import causalbench; gym.make("causalbench/<id>")` works, as
does `gym.make("causalbench:causalbench/<id>")` and the `gymnasium.envs` plugin entry point.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Sequence

from .registry import ENVS

NAMESPACE = "causalbench"
GYMNASIUM = "gymnasium"


def register_gym_envs() -> None:
    """Idempotent; also the `gymnasium.envs` plugin entry point for gymnasium versions that load plugins."""
    import gymnasium as gym

    for entry in ENVS.entries():
        gym_id = f"{NAMESPACE}/{entry.name}"
        if gym_id in gym.registry:
            continue
        custom = entry.meta.get("gym_entry_point")
        if custom:  # a multi-step task: its own class, and the horizon its `register_env` line declares
            gym.register(gym_id, entry_point=custom, vector_entry_point=entry.meta.get("vector_entry_point"),
                         max_episode_steps=entry.meta.get("max_episode_steps"))
        else:
            gym.register(gym_id, entry_point="causalbench.env.gym:make_gym_env",
                         vector_entry_point="causalbench.env.gym:make_vector_env", kwargs={"env_id": entry.name})


class _RegisterAfterImport(importlib.abc.Loader):
    """Wraps gymnasium's own loader: executes the package, then registers the causalbench ids."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        register_gym_envs()

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ... of the real loader
        return getattr(self.loader, name)


class _GymnasiumHook(importlib.abc.MetaPathFinder):
    """A one-shot meta-path finder: finds gymnasium with the other finders and wraps its loader."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != GYMNASIUM:
            return None
        _remove_hook()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _RegisterAfterImport(spec.loader)
                return spec
        return None


def _remove_hook() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _GymnasiumHook)]


def register_when_gymnasium_imported() -> None:
    """Register now if gymnasium is imported (or being imported), else as soon as it is; idempotent."""
    module = sys.modules.get(GYMNASIUM)
    if module is not None:
        if hasattr(module, "register"):
            register_gym_envs()
        return  # gymnasium is mid-import: its plugin entry point (or a later call) registers
    if not any(isinstance(f, _GymnasiumHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _GymnasiumHook())
