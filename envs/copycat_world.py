"""Copycat's world: traffic regimes, the road dynamics, the expert, exact policy values, the gymnasium task.

Everything the env (`copycat.py`) and its gym task share: one transition table drives the SCM's
two-slice law, the gym, the logged demonstrations and the exact value of any memoryless policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import gymnasium
import numpy as np

from causalbench.env.rendering import accepted_render_mode, cell_strip
from causalbench.errors import DataError

CLOSE, AHEAD, CLEAR = 0, 1, 2      # distance codes: car right in front / car further ahead / road clear
DRIVE, BRAKE = 0, 1                # actions
HORIZON = 200                      # gym episodes are truncated after this many steps
COLLISION_PENALTY = 100.0          # reward for driving into a stopped car right in front (terminates)
IDLE_BRAKE_COST = 0.1              # braking on a clear road costs this (on top of the lost progress)


@dataclass(frozen=True)
class Traffic:
    """Road and brake-light parameters; every probability is per time step."""

    arrival: float            # f: P(a car pulls in ahead | road clear)
    stopped_share: float      # beta: P(the car that pulls in is stopped)
    persistence: float        # rho: P(a stopped car stays stopped)
    turn_off: float = 0.3     # tau: P(a moving car ahead turns off)
    light_if_drive: float = 0.0   # P(light on | previous action = drive)
    light_if_brake: float = 1.0   # P(light on | previous action = brake)


DOMAIN_TRAFFIC = {"city": Traffic(0.2, 0.5, 0.9), "highway": Traffic(0.1, 0.3, 0.85)}
BASE = DOMAIN_TRAFFIC["city"]     # the base SCM; shifts modify it


def _light(mode: str, s: float, base: Traffic = BASE) -> Traffic:
    """`base` with a "normal", "broken" (a coin flip w.p. s), "burnt_out" (dark w.p. s when it should
    be on) or "inverted" (wired backwards w.p. s) brake light."""
    table = {"normal": (0.0, 1.0), "broken": (s / 2, 1 - s / 2), "burnt_out": (0.0, 1 - s), "inverted": (s, 1 - s)}
    if mode not in table:
        raise DataError(f"light must be one of {', '.join(table)}, got {mode!r}")
    return replace(base, light_if_drive=table[mode][0], light_if_brake=table[mode][1])


# name -> (kind, severities, severity -> Traffic, description)
SHIFT_TRAFFIC: dict[str, tuple[str, tuple[float, ...], Callable[[float], Traffic], str]] = {
    "light_broken": ("spurious_break", (0.5, 1.0), lambda s: _light("broken", s),
                     "the light shows a coin flip instead of the last action w.p. s"),
    "light_burnt_out": ("spurious_break", (0.5, 1.0), lambda s: _light("burnt_out", s),
                        "the bulb fails w.p. s: the light stays off after braking, as in deployment"),
    "light_inverted": ("spurious_reversal", (0.75, 1.0), lambda s: _light("inverted", s),
                       "the light is wired backwards w.p. s (on after driving, off after braking)"),
    "stop_persistence": ("confounder", (0.7, 0.97), lambda r: replace(BASE, persistence=r),
                         "stopped cars stay stopped w.p. rho per step: shorter or longer waits"),
    "traffic_density": ("causal_covariate", (0.4, 0.6), lambda f: replace(BASE, arrival=f),
                        "cars pull in ahead w.p. f per step: denser traffic"),
}


def traffics(test_set: str) -> list[tuple[float, Traffic]]:
    """The weighted traffic regimes of "id" (the training domains, equally), a domain or a test set."""
    if test_set in ("id", "train"):
        return [(1.0 / len(DOMAIN_TRAFFIC), t) for t in DOMAIN_TRAFFIC.values()]
    if test_set in DOMAIN_TRAFFIC:
        return [(1.0, DOMAIN_TRAFFIC[test_set])]
    shift, _, sev = test_set.partition("@")
    if shift in SHIFT_TRAFFIC and sev:
        _, sevs, make_traffic, _ = SHIFT_TRAFFIC[shift]
        try:
            severity = float(sev)
        except ValueError:
            severity = float("nan")
        if severity in sevs:
            return [(1.0, make_traffic(severity))]
    raise DataError(f"unknown traffic {test_set!r}; use 'id' (the training traffic), {', '.join(DOMAIN_TRAFFIC)} "
                    "or a test set like 'light_broken@1'")


def traffic(name: str) -> Traffic:
    """The single regime of a training domain or a test set ("<shift>@<severity>")."""
    (w, t), *rest = traffics(name)
    if rest:
        raise DataError(f"{name!r} is a mixture of regimes; name a domain or a test set")
    return t


def expert_action(distance: np.ndarray, stopped: np.ndarray) -> np.ndarray:
    """The expert brakes exactly when the car right in front is stopped (it sees whether cars move)."""
    return ((np.asarray(distance) == CLOSE) & (np.asarray(stopped) == 1)).astype(np.int64)


def transition_table(t: Traffic) -> np.ndarray:
    """P[d, s, a, d', s']: next (distance, stopped) given the scene (d, s) and action a.

    Within a step the gap moves by (car speed - own speed), then a stopped car may start
    moving (w.p. 1 - rho) and a moving one turn off (tau); a clear road gets a car ahead
    (f, stopped w.p. beta). (CLOSE, stopped, DRIVE) is the collision: the gym ends the
    episode there, and the table keeps the wreck in place.
    """
    f, b, r, tau = t.arrival, t.stopped_share, t.persistence, t.turn_off
    P = np.zeros((3, 2, 2, 3, 2))
    P[CLEAR, :, :, AHEAD, 1], P[CLEAR, :, :, AHEAD, 0], P[CLEAR, :, :, CLEAR, 0] = f * b, f * (1 - b), 1 - f
    P[AHEAD, 1, DRIVE, CLOSE] = P[AHEAD, 1, BRAKE, AHEAD] = P[CLOSE, 1, BRAKE, CLOSE] = (1 - r, r)
    P[CLOSE, 1, DRIVE, CLOSE, 1] = 1.0
    for d in (AHEAD, CLOSE):   # a moving car keeps the gap while we drive; braking opens it by one
        P[d, 0, DRIVE, d, 0], P[d, 0, DRIVE, CLEAR, 0] = 1 - tau, tau
        P[d, 0, BRAKE, d + 1, 0] += 1 - tau
        P[d, 0, BRAKE, CLEAR, 0] += tau
    return P


def stationary(t: Traffic) -> np.ndarray:
    """Closed-form stationary law mu[d, s] of the scene under the expert (see the class docstring)."""
    f, b, r, tau = t.arrival, t.stopped_share, t.persistence, t.turn_off
    w = np.zeros((3, 2))
    w[CLEAR, 0], w[AHEAD, 1], w[AHEAD, 0], w[CLOSE, 1], w[CLOSE, 0] = 1, f * b, f * (1 - b) / tau, \
        f * b * r / (1 - r), f * b / tau
    return w / w.sum()


# ---------------------------------------------------------------- dynamics (shared by gym and demonstrations)


def _traffic(name: str | Traffic) -> Traffic:
    return name if isinstance(name, Traffic) else traffic(name)


def _inverse_cdf(p: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis, exactly 1 from the last possible outcome on (no rounding leaks)."""
    cum = np.cumsum(p, axis=-1)
    last = p.shape[-1] - 1 - np.argmax(p[..., ::-1] > 0, axis=-1)
    return np.where(np.arange(p.shape[-1]) >= np.expand_dims(last, -1), 1.0, cum)


def _cumulative(P: np.ndarray) -> np.ndarray:
    """Inverse-CDF table over the 6 flat outcomes (d', s') of each (d, s, a)."""
    return _inverse_cdf(P.reshape(3, 2, 2, 6))


def _advance(cum: np.ndarray, d: np.ndarray, s: np.ndarray, a: np.ndarray, u: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    flat = (u[:, None] >= cum[d, s, a]).sum(axis=1)
    return flat // 2, flat % 2


def _show_light(t: Traffic, a: np.ndarray, u: np.ndarray) -> np.ndarray:
    return (u < np.where(a == BRAKE, t.light_if_brake, t.light_if_drive)).astype(np.int64)


def _start(t: Traffic, cum: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scene and light at t = 0 from uniforms u (n, 3): a stationary scene at t = -1 driven by the expert."""
    flat = (u[:, :1] >= _inverse_cdf(stationary(t).ravel())[None, :]).sum(axis=1)
    pd, ps = flat // 2, flat % 2
    pa = expert_action(pd, ps)
    d, s = _advance(cum, pd, ps, pa, u[:, 1])
    return d, s, _show_light(t, pa, u[:, 2])


def _step(t: Traffic, cum: np.ndarray, d: np.ndarray, s: np.ndarray, a: np.ndarray, u: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One step for a batch from uniforms u (n, 2): (distance', stopped', light', reward, collision)."""
    crash = (d == CLOSE) & (s == 1) & (a == DRIVE)
    reward = np.where(a == DRIVE, 1.0, np.where(d == CLEAR, -IDLE_BRAKE_COST, 0.0))
    reward = np.where(crash, -COLLISION_PENALTY, reward)
    d2, s2 = _advance(cum, d, s, a, u[:, 0])
    return d2, s2, _show_light(t, a, u[:, 1]), reward, crash


def _observe(d: np.ndarray, light: np.ndarray) -> np.ndarray:
    return np.stack([d, light], axis=-1).astype(np.float32)


def _returns(t: Traffic, policy: Any, n: int, horizon: int, gen: np.random.Generator) -> np.ndarray:
    """Episode returns of `policy(distance, stopped, light) -> actions` for n episodes, batched.

    The uniforms drawn per step do not depend on the actions, so two policies run from the
    same seed meet the same traffic (paired episodes)."""
    cum = _cumulative(transition_table(t))
    d, s, light = _start(t, cum, gen.random((n, 3)))
    alive, total = np.ones(n, dtype=bool), np.zeros(n)
    for _ in range(horizon):
        d, s, light, reward, crash = _step(t, cum, d, s, policy(d, s, light), gen.random((n, 2)))
        total += np.where(alive, reward, 0.0)
        alive &= ~crash
    return total


def _rollout_expert(t: Traffic, n: int, horizon: int, gen: np.random.Generator) -> dict[str, np.ndarray]:
    cum = _cumulative(transition_table(t))
    d, s, light = _start(t, cum, gen.random((n, 3)))
    alive = np.ones(n, dtype=bool)
    steps: list[tuple[np.ndarray, ...]] = []
    for k in range(horizon):
        a = expert_action(d, s)
        d2, s2, light2, reward, crash = _step(t, cum, d, s, a, gen.random((n, 2)))
        steps.append((_observe(d, light), a, reward, crash, np.full(n, k == horizon - 1) & ~crash,
                      _observe(d2, light2), alive.copy()))
        alive &= ~crash
        d, s, light = d2, s2, light2
    obs, act, rew, term, trunc, nxt, keep = (np.stack(x, axis=1) for x in zip(*steps))  # (n, horizon, ...)
    episode, step = np.meshgrid(np.arange(n), np.arange(horizon), indexing="ij")
    return {"observations": obs[keep], "actions": act[keep], "rewards": rew[keep], "terminations": term[keep],
            "truncations": trunc[keep], "next_observations": nxt[keep], "episode_ids": episode[keep],
            "timesteps": step[keep]}


# ---------------------------------------------------------------- exact policy values


def policy_cells() -> np.ndarray:
    """Every observation (distance, light), in the row order of policy tables."""
    d, light = np.meshgrid(np.arange(3), np.arange(2), indexing="ij")
    return _observe(d.ravel(), light.ravel()).astype(float)


def expected_return(t: Traffic, p_brake: np.ndarray, horizon: int = HORIZON) -> np.ndarray:
    """Exact expected episode return of memoryless policies braking with probability p_brake[..., cell]
    (cells as `policy_cells`; a leading axis evaluates many policies at once): the law of (distance,
    stopped, light) is propagated step by step, collisions absorbing."""
    p = np.asarray(p_brake, dtype=float)
    p = p.reshape(-1, 3, 2)                                  # [policy, d, light]
    P = transition_table(t)                                  # [d, s, a, d', s']
    light_on = np.array([t.light_if_drive, t.light_if_brake])  # P(light' = 1 | a)
    light_law = np.stack([1 - light_on, light_on], axis=1)   # [a, light']
    mu = stationary(t)
    prev = expert_action(*np.meshgrid(np.arange(3), np.arange(2), indexing="ij"))      # [d, s]
    start = np.zeros((3, 2, 2))                              # [d, s, light]
    for pd in range(3):
        for ps in range(2):
            a = prev[pd, ps]
            start += mu[pd, ps] * P[pd, ps, a][:, :, None] * light_law[a][None, None, :]
    pa = np.stack([1 - p, p], axis=-1)                       # [policy, d, light, a]
    reward = np.zeros((3, 2, 2))                             # [d, s, a]
    reward[:, :, DRIVE] = 1.0
    reward[CLEAR, :, BRAKE] = -IDLE_BRAKE_COST
    reward[CLOSE, 1, DRIVE] = -COLLISION_PENALTY
    survive = np.ones((3, 2, 2))
    survive[CLOSE, 1, DRIVE] = 0.0
    move = survive[..., None, None] * P                      # [d, s, a, d', s']
    mass = np.broadcast_to(start, (len(p), 3, 2, 2)).copy()  # [policy, d, s, light]
    total = np.zeros(len(p))
    for _ in range(horizon):
        joint = np.einsum("pdsl,pdla->pdsa", mass, pa)
        total += np.einsum("pdsa,dsa->p", joint, reward)
        mass = np.einsum("pdsa,dsaet,al->petl", joint, move, light_law)
    return total


def policy_value(p_brake: np.ndarray, test_set: str, horizon: int = HORIZON) -> float:
    """Exact expected episode return of a memoryless policy on the traffic of `test_set`."""
    return float(sum(w * expected_return(t, p_brake, horizon)[0] for w, t in traffics(test_set)))


def best_policy(test_set: str) -> tuple[np.ndarray, float]:
    """The best of the 64 deterministic memoryless policies on (distance, light), exactly."""
    tables = np.array(np.meshgrid(*[(0.0, 1.0)] * 6, indexing="ij")).reshape(6, -1).T
    values = sum(w * expected_return(t, tables) for w, t in traffics(test_set))
    k = int(np.argmax(values))
    return tables[k], float(values[k])


class CopycatGymEnv(gymnasium.Env):
    """The road as a multi-step gymnasium task (see `Copycat` for the story, the SCM and the dynamics).

    ## Action Space
    Discrete(2): 0 = drive (one step of progress), 1 = brake.

    ## Observation Space
    Box(low=(0, 0), high=(2, 1), shape=(2,), float32): (distance, light). Distance
    0 = a car right in front, 1 = a car further ahead, 2 = clear road; light = the
    brake light, showing the agent's own previous action. Whether the car ahead is
    stopped is never observed (`expert_action()` reads it: privileged).

    ## Rewards
    +1 per step driven; -100 for driving into a stopped car right in front;
    -0.1 for braking on a clear road; 0 otherwise.

    ## Starting State
    The expert's stationary law: a scene at t = -1 from the stationary distribution,
    the expert's action there (shown by the light), one transition. `test_set`:
    "id" (a random training domain per episode), "city", "highway", or a test set
    name "<shift>@<severity>" (e.g. "stop_persistence@0.97"). `light` ("normal",
    "broken", "inverted") with `light_severity` overrides the light's wiring.

    ## Episode End
    Terminated on a collision; truncated after `horizon` (default 200) steps.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, test_set: str | Traffic = "id", light: str | None = None, light_severity: float = 1.0,
                 horizon: int = HORIZON, render_mode: str | None = None) -> None:
        base = [test_set] if isinstance(test_set, Traffic) else [t for _, t in traffics(test_set)]
        self.regimes = [t if light is None else _light(light, light_severity, t) for t in base]
        self._cums = [_cumulative(transition_table(t)) for t in self.regimes]
        self.horizon = int(horizon)
        self.render_mode = accepted_render_mode("causalbench/Copycat-v0", render_mode, self.metadata["render_modes"])
        self.observation_space = gymnasium.spaces.Box(0.0, np.array([2, 1], dtype=np.float32), (2,), np.float32)
        self.action_space = gymnasium.spaces.Discrete(2)
        self._k, self._t = 0, 0
        self._d = self._s = self._light = np.zeros(1, dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._k = int(self.np_random.integers(len(self.regimes))) if len(self.regimes) > 1 else 0
        self._d, self._s, self._light = _start(self.regimes[self._k], self._cums[self._k], self.np_random.random((1, 3)))
        self._t = 0
        return _observe(self._d, self._light)[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (drive) or 1 (brake), got {action!r}")
        a = np.array([int(action)])
        self._d, self._s, self._light, reward, crash = _step(self.regimes[self._k], self._cums[self._k], self._d,
                                                             self._s, a, self.np_random.random((1, 2)))
        self._t += 1
        collision = bool(crash[0])
        return (_observe(self._d, self._light)[0], float(reward[0]), collision,
                (not collision) and self._t >= self.horizon, {"collision": collision})

    def expert_action(self) -> int:
        """The expert's action in the current (hidden) scene: privileged, for demonstrations and baselines."""
        return int(expert_action(self._d, self._s)[0])

    def render(self) -> str | np.ndarray | None:
        """What the agent observes. "ansi": brake light and road as text; "rgb_array": light (red when
        on), the agent's car (blue), then two road cells where a car ahead shows dark."""
        if self.render_mode is None:
            return None
        if self.render_mode == "rgb_array":
            road = [(160, 160, 160)] * 2
            if int(self._d[0]) != CLEAR:
                road[int(self._d[0])] = (30, 30, 30)
            return cell_strip([(220, 30, 30) if self._light[0] else (60, 60, 60), (40, 80, 220), *road])
        road = {CLOSE: "car|", AHEAD: " car ", CLEAR: "     "}[int(self._d[0])]
        return f"[{'BRAKE' if self._light[0] else '     '}] >{road}"
