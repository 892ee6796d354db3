"""The env proxy an isolated online method learns in: a gymnasium (vector) env whose reset and step run in
the harness, where the environment and its SCM stay. Only spaces, observations, rewards, flags and the
step's info (e.g. the realised outcome) cross the pipe.
"""

from __future__ import annotations

from typing import Any

import gymnasium
from gymnasium.vector import VectorEnv


class _Forward:
    """Forwards reset/step over the worker's pipe; the harness answers ("env-result", value) or ("env-error", text)."""

    _conn: Any

    def _call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        self._conn.send(("env", (op, args, kwargs)))
        kind, payload = self._conn.recv()
        if kind == "env-error":
            raise gymnasium.error.Error(payload)
        return payload


class EnvProxy(_Forward, gymnasium.Env):
    """A single gymnasium env (multi-step tasks) living in the harness."""

    def __init__(self, conn: Any, spec: dict[str, Any]) -> None:
        self._conn = conn
        self.observation_space, self.action_space = spec["observation_space"], spec["action_space"]
        self.metadata = spec["metadata"]

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        return self._call("reset", seed=seed, options=options)

    def step(self, action: Any) -> Any:
        return self._call("step", action)


class VectorEnvProxy(_Forward, VectorEnv):
    """A vector env (one-step decision tasks, batched) living in the harness."""

    def __init__(self, conn: Any, spec: dict[str, Any]) -> None:
        self._conn = conn
        self.num_envs = spec["num_envs"]
        self.observation_space, self.action_space = spec["observation_space"], spec["action_space"]
        self.single_observation_space = spec["single_observation_space"]
        self.single_action_space = spec["single_action_space"]
        self.metadata = spec["metadata"]

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None) -> Any:
        return self._call("reset", seed=seed, options=options)

    def step(self, actions: Any) -> Any:
        return self._call("step", actions)


def make_proxy(conn: Any, spec: dict[str, Any]) -> Any:
    """The proxy for an env described by `isolation.proxy_description`."""
    return (VectorEnvProxy if spec["vector"] else EnvProxy)(conn, spec)
