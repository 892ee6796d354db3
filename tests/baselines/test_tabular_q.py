"""Tabular Q-learning on the multi-step tasks: learning by acting vs behavioural cloning."""

from __future__ import annotations

import causalbench as cb
from causalbench.experiments.config import Job
from causalbench.experiments.job import run_job


def regret(env_id: str, method: str, seed: int = 0) -> float:
    return run_job(Job(env_id, method, seed)).records[0]["scores"]["regret"]


def test_copycat_learning_by_acting_avoids_the_copycat_crash() -> None:
    """Behavioural cloning brakes only when the light is on, so deployed it never starts braking and
    crashes into the first stopped car; Q-learning from reward learns to brake at close cars."""
    bc, q = regret("Copycat-v0", "erm-linear"), regret("Copycat-v0", "tabular-q")
    assert bc > 0.5 and q < bc / 3      # normalised: 1 = a random policy; 0 = the best memoryless policy
    assert q >= 0.0


def test_goal_misgeneralises_online_too() -> None:
    """On training levels the flag marks the coin: Q-learning from reward also follows the flag
    (Langosco et al.: goal misgeneralisation is not cured by online RL on the training levels)."""
    from causalbench.methods import make_task, method_spec

    env = cb.make("GoalMisgen-v0")
    result = run_job(Job("GoalMisgen-v0", "tabular-q", 0)).records[0]["scores"]
    assert result["regret"] < 0.1
    assert result["spurious_reliance"] > 0.3
    task = make_task(env, "online")
    assert method_spec("tabular-q").cls.applicable(task) is None
