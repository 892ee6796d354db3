"""Register every environment with gymnasium as `causalbench/<id>` (entry-point strings, nothing imported)."""

from __future__ import annotations

from .registry import ENVS

NAMESPACE = "causalbench"


def register_gym_envs() -> None:
    """Idempotent; also the `gymnasium.envs` plugin entry point for gymnasium versions that load plugins."""
    import gymnasium as gym

    for entry in ENVS.entries():
        gym_id = f"{NAMESPACE}/{entry.name}"
        if gym_id in gym.registry:
            continue
        custom = entry.meta.get("gym_entry_point")
        if custom:
            gym.register(gym_id, entry_point=custom, vector_entry_point=entry.meta.get("vector_entry_point"))
        else:
            gym.register(gym_id, entry_point="causalbench.env.gym:make_gym_env",
                         vector_entry_point="causalbench.env.gym:make_vector_env", kwargs={"env_id": entry.name})
