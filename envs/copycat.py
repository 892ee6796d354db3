"""Copycat: behavioural cloning copies the brake light (de Haan, Jayaraman & Levine, 2019)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import gymnasium
import numpy as np

from causalbench.env.base import CausalEnv, Domain, Shift
from causalbench.errors import DataError
from causalbench.scm import CPT, SCM, Categorical, Mechanism, Variable, rng
from causalbench.seeding import check_n, check_seed

CLOSE, AHEAD, CLEAR = 0, 1, 2      # distance codes: car right in front / car further ahead / road clear
DRIVE, BRAKE = 0, 1                # actions
HORIZON = 200                      # gym episodes are truncated after this many steps
POLICY_EPISODES = 400              # paired episodes for the scorer's policy regret
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


def traffic(name: str) -> Traffic:
    """The parameters of a training domain ("city", "highway") or a test set ("<shift>@<severity>")."""
    if name in DOMAIN_TRAFFIC:
        return DOMAIN_TRAFFIC[name]
    shift, _, sev = name.partition("@")
    if shift in SHIFT_TRAFFIC and sev:
        _, sevs, make_traffic, _ = SHIFT_TRAFFIC[shift]
        if float(sev) in sevs:
            return make_traffic(float(sev))
    raise DataError(f"unknown traffic {name!r}; use 'train', {', '.join(DOMAIN_TRAFFIC)} or a test set "
                    f"like 'light_broken@1'")


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


def _cpt_columns(table: np.ndarray) -> np.ndarray:
    """(parents..., states) array -> CPT table (states, parent configurations), first parent slowest."""
    return table.reshape(-1, table.shape[-1]).T


def _mechanisms(t: Traffic) -> dict[str, Mechanism]:
    """The traffic-dependent mechanisms: the stationary previous scene, the transition and the light."""
    mu, P = stationary(t), transition_table(t)
    mu_d = mu.sum(axis=1)
    P_s = P.sum(axis=3)                                           # [d, s, a, s']
    P_d = P.sum(axis=4)                                           # [d, s, a, d']
    given_s = np.divide(P, P_s[:, :, :, None, :], out=np.zeros_like(P), where=P_s[:, :, :, None, :] > 0)
    given_s = np.where(P_s[:, :, :, None, :] > 0, given_s, P_d[..., None])  # unreachable: P(d' | d, s, a)
    q0, q1 = t.light_if_drive, t.light_if_brake
    return {
        "prev_distance": Categorical(tuple(mu_d)),
        "prev_stopped": CPT(("prev_distance",), _cpt_columns(mu / mu_d[:, None]), (3,)),
        "stopped": CPT(("prev_distance", "prev_stopped", "prev_brake"), _cpt_columns(P_s), (3, 2, 2)),
        "distance": CPT(("stopped", "prev_distance", "prev_stopped", "prev_brake"),
                        _cpt_columns(given_s.transpose(4, 0, 1, 2, 3)), (2, 3, 2, 2)),
        "light": CPT(("prev_brake",), [[1 - q0, 1 - q1], [q0, q1]], (2,)),
    }


def _intervention(t: Traffic) -> dict[str, Mechanism]:
    """Mechanisms replacing the base (city) ones: the light only if only the light changed."""
    mech = _mechanisms(t)
    if replace(t, light_if_drive=BASE.light_if_drive, light_if_brake=BASE.light_if_brake) == BASE:
        return {"light": mech["light"]}
    return mech


def _expert_cpt(distance: str, stopped: str) -> CPT:
    d, s = np.meshgrid(np.arange(3), np.arange(2), indexing="ij")
    brake = expert_action(d, s).ravel().astype(float)
    return CPT((distance, stopped), [1 - brake, brake], (3, 2))


class Copycat(CausalEnv):
    """An imitator of an expert driver learns "brake if the brake light is on" and never starts braking.

    ## Description
    Causal confusion in imitation learning (de Haan, Jayaraman & Levine, 2019).
    Cars pull in ahead of an expert driver. Some are stopped (queues, red lights),
    some move with traffic. The expert brakes exactly when the car right in front is
    stopped, and waits until it moves off. The imitator's observation (one frame)
    shows the distance to the car ahead and the dashboard brake light, but not
    whether that car is moving. The light shows the *previous* action. Stops last
    (persistence 0.85-0.9 per step), so "light on" predicts "brake now" far better
    than the distance does, and behavioural cloning on logged expert data leans on
    the light. Deployed, the clone meets a stopped car with the light off (it was
    driving), keeps driving (light stays off) and crashes. The light is not a cause of
    the expert's action: it is a copy of the last action, confounded with the
    current one through the persistent, unobserved stopped car.

    One SCM row is one expert decision at a step drawn from the stationary law
    of the gym dynamics under the expert (a two-slice unrolling of the chain):
    slice t-1 is hidden, slice t holds the observed features and the action.

    ## Variables
    Distances: 0 = close (car right in front), 1 = ahead, 2 = clear road.
    - `prev_distance`, `prev_stopped` (hidden): the scene at t-1, from the
      stationary law mu (below); stopped = 0 on a clear road.
    - `prev_brake` (hidden) = expert(prev scene): the previous action.
    - `stopped` S (hidden) ~ P(s' | prev scene, prev_brake): the car ahead is stopped.
    - `distance` D ~ P(d' | s', prev scene, prev_brake): observed.
    - `light` L: P(L = 1 | prev_brake = 0, 1) = (0, 1), an exact copy of the last action.
    - `brake` A = 1[D = close and S = 1] (target): the expert's action now.
    The transition P(d', s' | d, s, a) is `transition_table`, also used by the gym:
    a stopped car closes in while we drive and stays put while we brake; it starts
    moving w.p. 1 - rho. A moving car keeps the gap while we drive, drifts one step
    away while we brake, and turns off w.p. tau = 0.3. A clear road gets a car ahead
    w.p. f, stopped w.p. beta. Driving while a stopped car is close is a collision.

    ## Roles
    target: brake; causal: distance (a parent of the expert's action); spurious:
    light (a copy of the previous action: not an ancestor of brake, d-connected to it
    through the hidden persistent scene). Hidden confounder: whether cars stop.

    ## Known answers (exact: discrete CPTs, checked by enumeration and rollouts)
    Stationary scene law under the expert, up to normalisation: clear 1;
    ahead & stopped f beta; ahead & moving f (1 - beta) / tau; close & stopped
    f beta rho / (1 - rho); close & moving f beta / tau. Hence
    P(A | D = close) = rho tau / (rho tau + 1 - rho), P(A | D = close, L = 0) = rho tau,
    P(A | D = close, L = 1) = rho, and P(A | D != close) = 0 (f and beta cancel).
    City: 0.730, 0.27, 0.9; highway: 0.630, 0.255, 0.85. The causal oracle
    E[A | D] (training mixture, exact enumeration) is 0.7021 at close, 0 elsewhere;
    null prior 0.2242. E[A | do(L = l)] = 0.2242 for both l: the light has no effect.
    E[A | do(D = close)] = P(S = 1) = 0.2527, 0 otherwise: a car put right in front is
    rarely stopped, while the cars one *finds* right in front mostly are (one closes in
    on stopped cars). So the distance is itself confounded by S, and no observational
    predictor, the causal oracle included, gets `effect_error` 0 on `distance`; on
    `light` the oracle's effect error is 0 and the clone's is not.

    ## Domains
    `city` (f = 0.2, beta = 0.5, rho = 0.9: frequent, long stops) and `highway`
    (f = 0.1, beta = 0.3, rho = 0.85). The base SCM (shifts apply to it) is city.

    ## Shifts
    - `light_broken@s` (spurious_break): w.p. s the light shows a coin flip; s in {0.5, 1}.
    - `light_burnt_out@s` (spurious_break): P(L = 1 | last brake) = 1 - s, s in {0.5, 1}:
      the light stays dark, which is what a clone that never brakes sees when deployed.
    - `light_inverted@s` (spurious_reversal): P(L = 1 | last drive) = s,
      P(L = 1 | last brake) = 1 - s; s in {0.75, 1}.
    - `stop_persistence@rho` (confounder): rho in {0.7, 0.97}. The autocorrelation that
      ties the light to the action; at 0.7 the expert brakes at only 41% of close cars.
    - `traffic_density@f` (causal_covariate): f in {0.4, 0.6}; P(A | D) is unchanged.
    Each shift is the stationary one-step law of the gym under the same parameters
    (`CopycatGymEnv(traffic="<shift>@<severity>")`). The oracle beats the null on all.
    Under the last two the light is still wired to the expert's last action, so a
    light-reading clone predicts *better* than the oracle there (negative OOD score,
    as in IceCreamShorts' heatwave): offline, the clone looks fine wherever the light
    works. Deployment is the shift that breaks it: the light then shows the clone's
    own actions.

    ## Gym task (`CopycatGymEnv`, multi-step)
    Observation Box(2,) float32 = (distance, light), the SCM's feature row; the light
    shows the agent's own previous action. Actions Discrete(2): 0 = drive, 1 = brake.
    Reward +1 per step driven, -100 and termination on a collision, -0.1 for braking
    on a clear road; truncation after 200 steps. Episodes start at the expert's
    stationary law (the agent takes over from the expert), so every step of an
    expert episode has exactly the SCM's law: `Copycat.demonstrations` are the
    logged data of the story. The expert never crashes; the light-following clone
    crashes into the first stopped car it meets with the light off; braking whenever
    D = close (the oracle's greedy policy) never crashes and loses one step per stopped
    car (it brakes once more as the car moves off): mu(ahead & stopped) per step, 5.7%
    (city) and 2.2% (highway) of the expert's long-run reward.

    ## Version History
    - v0: initial version.
    """

    episodic = True
    id = "Copycat-v0"
    summary = "Brake-light copycat (de Haan et al. 2019): behavioural cloning latches onto the light."

    def build_scm(self) -> SCM:
        m = _mechanisms(BASE)
        return SCM([
            Variable("prev_distance", m["prev_distance"], hidden=True, description="distance to the car ahead at t-1"),
            Variable("prev_stopped", m["prev_stopped"], hidden=True, description="the car ahead was stopped at t-1"),
            Variable("prev_brake", _expert_cpt("prev_distance", "prev_stopped"), hidden=True,
                     description="the expert's previous action"),
            Variable("stopped", m["stopped"], hidden=True, description="the car ahead is stopped"),
            Variable("distance", m["distance"], role="causal", description="0 close, 1 ahead, 2 clear road"),
            Variable("light", m["light"], role="spurious", description="brake light: shows the previous action"),
            Variable("brake", _expert_cpt("distance", "stopped"), role="target", description="the expert brakes"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        return [Domain(name, {} if t == BASE else _intervention(t),
                       f"cars pull in w.p. {t.arrival:g}, stopped w.p. {t.stopped_share:g}, stay stopped w.p. "
                       f"{t.persistence:g}") for name, t in DOMAIN_TRAFFIC.items()]

    def build_shifts(self) -> Sequence[Shift]:
        return [Shift(name, kind, sevs, (lambda s, f=make_traffic: _intervention(f(s))), text)
                for name, (kind, sevs, make_traffic, text) in SHIFT_TRAFFIC.items()]

    def policy_inputs(self) -> np.ndarray:
        """All (distance, light) observations: a predictor's greedy actions there are a full policy."""
        d, light = np.meshgrid(np.arange(3), np.arange(2), indexing="ij")
        return _observe(d.ravel(), light.ravel()).astype(float)

    def policy_regret(self, actions: np.ndarray, seed: int, n_episodes: int = POLICY_EPISODES) -> float:
        """Expert return minus the policy's, per episode, over paired training-traffic episodes."""
        table = np.asarray(actions, dtype=np.int64).reshape(3, 2)
        gaps = []
        for k, t in enumerate(DOMAIN_TRAFFIC.values()):
            m = n_episodes // len(DOMAIN_TRAFFIC)
            expert = _returns(t, lambda d, s, light: expert_action(d, s), m, HORIZON,
                              rng(seed, self.id, "policy-regret", str(k)))
            policy = _returns(t, lambda d, s, light: table[d, light], m, HORIZON,
                              rng(seed, self.id, "policy-regret", str(k)))
            gaps.append(expert - policy)
        return float(np.mean(np.concatenate(gaps)))

    def demonstrations(self, n_episodes: int, seed: int = 0, traffic: str = "train",
                       horizon: int = HORIZON) -> dict[str, np.ndarray]:
        """The expert's logged episodes, batched over episodes (one numpy pass per time step).

        Returns flat per-step arrays: observations and next_observations ((N, 2) float32, the
        SCM's feature rows), actions, rewards, terminations, truncations, episode_ids, timesteps,
        domains (training domain index; -1 for a test set's traffic). `traffic`: "train" (episodes
        split evenly over the domains), a domain name, or a test set name like "light_broken@1".
        """
        n = check_n(n_episodes)
        check_seed(seed)
        horizon = check_n(horizon)
        if traffic in ("train", "id"):
            K = len(DOMAIN_TRAFFIC)
            groups = [(k, t, n // K + (k < n % K)) for k, t in enumerate(DOMAIN_TRAFFIC.values())]
        else:
            groups = [(list(DOMAIN_TRAFFIC).index(traffic) if traffic in DOMAIN_TRAFFIC else -1, _traffic(traffic), n)]
        parts, first = [], 0
        for k, t, m in groups:
            if m == 0:
                continue
            gen = rng(seed, self.id, "demonstrations", traffic, str(k))
            part = _rollout_expert(t, m, horizon, gen)
            part["episode_ids"] = part["episode_ids"] + first
            part["domains"] = np.full(len(part["actions"]), k, dtype=np.int64)
            parts.append(part)
            first += m
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


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
    the expert's action there (shown by the light), one transition. `traffic`:
    "train" (a random training domain per episode), "city", "highway", or a test set
    name "<shift>@<severity>" (e.g. "stop_persistence@0.97"). `light` ("normal",
    "broken", "inverted") with `light_severity` overrides the light's wiring.

    ## Episode End
    Terminated on a collision; truncated after `horizon` (default 200) steps.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, traffic: str | Traffic = "train", light: str | None = None, light_severity: float = 1.0,
                 horizon: int = HORIZON, render_mode: str | None = None) -> None:
        base = list(DOMAIN_TRAFFIC.values()) if isinstance(traffic, str) and traffic in ("train", "id") \
            else [_traffic(traffic)]
        self.regimes = [t if light is None else _light(light, light_severity, t) for t in base]
        self._cums = [_cumulative(transition_table(t)) for t in self.regimes]
        self.horizon = int(horizon)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
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

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        road = {CLOSE: "car|", AHEAD: " car ", CLEAR: "     "}[int(self._d[0])]
        return f"[{'BRAKE' if self._light[0] else '     '}] >{road}"
