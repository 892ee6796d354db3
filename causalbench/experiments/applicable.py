"""Whether a registered method can run on an env (the one applicability check every study uses)."""

from __future__ import annotations

from typing import Any

from ..methods import make_task, method_spec


def not_applicable(env: Any, name: str) -> str | None:
    """Why a method cannot run on an env (None if it can)."""
    spec = method_spec(name)
    task = make_task(env, spec.track, privileged=spec.cls.privileged)
    reason = spec.cls.applicable(task)
    if reason is None and spec.protocol == "continual" and len(env.domains) < 2:
        reason = "continual training needs at least two training domains"
    if reason is None and spec.protocol == "online" and env.action is None and not task.episodic:
        reason = "online learning needs a decision env or a multi-step gym task"
    return reason
