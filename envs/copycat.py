"""Copycat: behavioural cloning copies the brake light (de Haan, Jayaraman & Levine, 2019)."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from causalbench.env.base import Domain, Shift
from causalbench.env.episodic import EpisodicEnv
from causalbench.scm import CPT, SCM, Categorical, Mechanism, Variable, rng
from causalbench.seeding import check_n, check_seed

from .copycat_world import (BASE, DOMAIN_TRAFFIC, HORIZON, SHIFT_TRAFFIC, CopycatGymEnv, Traffic, _rollout_expert,
                            best_policy, expert_action, policy_cells, policy_value, stationary, traffic,
                            transition_table)


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


class Copycat(EpisodicEnv):
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

    ## Roles (computed from the graph)
    target: brake; causal: distance (a parent of the expert's action); proxy:
    light (a copy of the previous action: not an ancestor of brake, d-connected to it
    through the hidden persistent scene). Hidden confounder: whether cars stop.

    ## Known answers (exact: discrete CPTs, checked by enumeration and rollouts)
    Stationary scene law under the expert, up to normalisation: clear 1;
    ahead & stopped f beta; ahead & moving f (1 - beta) / tau; close & stopped
    f beta rho / (1 - rho); close & moving f beta / tau. Hence
    P(A | D = close) = rho tau / (rho tau + 1 - rho), P(A | D = close, L = 0) = rho tau,
    P(A | D = close, L = 1) = rho, and P(A | D != close) = 0 (f and beta cancel).
    City: 0.730, 0.27, 0.9; highway: 0.630, 0.255, 0.85. The regression E[A | D]
    (training mixture, exact enumeration) is 0.7021 at close, 0 elsewhere; null prior
    0.2242. E[A | do(L = l)] = 0.2242 for both l: the light has no effect.
    E[A | do(D = close)] = P(S = 1) = 0.2527, 0 otherwise: a car put right in front is
    rarely stopped, while the cars one *finds* right in front mostly are (one closes in
    on stopped cars). So the distance is itself confounded by S: the causal reference
    E[A | do(D, L)] = P(S = 1) 1[D = close] is not the regression E[A | D], and a
    predictor that is right about interventions (the causal reference) is not the best
    imitator of the logged expert.
    Every memoryless policy's expected return is exact (the law of (distance, stopped,
    light) propagated over the 200 steps, collisions absorbing), and the best of the 64
    deterministic policies on (distance, light) is found by enumeration; regret is
    measured against it on the training traffic and on every shifted traffic.

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
    (`CopycatGymEnv(test_set="<shift>@<severity>")`). Under the last two the light is
    still wired to the expert's last action, so a light-reading clone still predicts the
    expert well there: offline, the clone looks fine wherever the light works. Deployment
    is the shift that breaks it: the light then shows the clone's own actions.

    ## Gym task (`CopycatGymEnv`, multi-step)
    Observation Box(2,) float32 = (distance, light), the SCM's feature row; the light
    shows the agent's own previous action. Actions Discrete(2): 0 = drive, 1 = brake.
    Reward +1 per step driven, -100 and termination on a collision, -0.1 for braking
    on a clear road; truncation after 200 steps. Episodes start at the expert's
    stationary law (the agent takes over from the expert), so every step of an
    expert episode has exactly the SCM's law: `Copycat.demonstrations` are the
    logged data of the story. The expert never crashes; the light-following clone
    crashes into the first stopped car it meets with the light off; braking whenever
    D = close never crashes and loses one step per stopped car (it brakes once more as
    the car moves off): mu(ahead & stopped) per step, 5.7% (city) and 2.2% (highway) of
    the expert's long-run reward.

    ## Hidden instances
    A hidden instance randomises what a policy could hard-code: its feature columns (and the
    gym observation) are anonymised (x0, x1) and permuted, and each column's codes may be
    reversed (distance 2 - d; a light that reads 1 when it is off), so "brake when the light
    is on" is not a rule one can write down from the public instance. The traffic regimes stay
    the public ones, as do the exact policy values.

    ## Version History
    - v0: initial version.
    - (no new version) hidden instances added: the public instance's data are unchanged.
    """

    id = "Copycat-v0"
    summary = "Brake-light copycat (de Haan et al. 2019): behavioural cloning latches onto the light."
    gym_class = CopycatGymEnv
    max_episode_steps = HORIZON

    def build_scm(self) -> SCM:
        m = _mechanisms(BASE)
        return SCM([
            Variable("prev_distance", m["prev_distance"], hidden=True, description="distance to the car ahead at t-1"),
            Variable("prev_stopped", m["prev_stopped"], hidden=True, description="the car ahead was stopped at t-1"),
            Variable("prev_brake", _expert_cpt("prev_distance", "prev_stopped"), hidden=True,
                     description="the expert's previous action"),
            Variable("stopped", m["stopped"], hidden=True, description="the car ahead is stopped"),
            Variable("distance", m["distance"], description="0 close, 1 ahead, 2 clear road"),
            Variable("light", m["light"], description="brake light: shows the previous action"),
            Variable("brake", _expert_cpt("distance", "stopped"), role="target", description="the expert brakes"),
        ], name=self.id)

    def build_domains(self) -> Sequence[Domain]:
        return [Domain(name, {} if t == BASE else _intervention(t),
                       f"cars pull in w.p. {t.arrival:g}, stopped w.p. {t.stopped_share:g}, stay stopped w.p. "
                       f"{t.persistence:g}") for name, t in DOMAIN_TRAFFIC.items()]

    def build_shifts(self) -> Sequence[Shift]:
        return [Shift(name, kind, sevs, (lambda s, f=make_traffic: _intervention(f(s))), text)
                for name, (kind, sevs, make_traffic, text) in SHIFT_TRAFFIC.items()]

    def policy_cells(self) -> np.ndarray:
        """All (distance, light) observations: a predictor's greedy actions there are a full policy."""
        return policy_cells()

    def policy_value(self, p_action: np.ndarray, test_set: str = "id") -> float:
        return policy_value(p_action, test_set)

    def solve_best_policy(self, test_set: str) -> tuple[np.ndarray, float]:
        return best_policy(test_set)

    def demonstrations(self, n_episodes: int, seed: int = 0, test_set: str = "id",
                       horizon: int = HORIZON) -> dict[str, np.ndarray]:
        """The expert's logged episodes, batched over episodes (one numpy pass per time step).

        Returns flat per-step arrays: observations and next_observations ((N, 2) float32, the
        SCM's feature rows), actions, rewards, terminations, truncations, episode_ids, timesteps,
        domains (training domain index; -1 for a test set's traffic). `test_set`: "id" (episodes
        split evenly over the domains), a domain name, or a test set name like "light_broken@1".
        """
        n = check_n(n_episodes)
        check_seed(seed)
        horizon = check_n(horizon)
        if test_set in ("train", "id"):
            K = len(DOMAIN_TRAFFIC)
            groups = [(k, t, n // K + (k < n % K)) for k, t in enumerate(DOMAIN_TRAFFIC.values())]
        else:
            groups = [(list(DOMAIN_TRAFFIC).index(test_set) if test_set in DOMAIN_TRAFFIC else -1, traffic(test_set), n)]
        parts, first = [], 0
        for k, t, m in groups:
            if m == 0:
                continue
            gen = rng(seed, self.stream, "demonstrations", "train" if test_set == "id" else test_set, str(k))
            part = _rollout_expert(t, m, horizon, gen)
            part["episode_ids"] = part["episode_ids"] + first
            part["domains"] = np.full(len(part["actions"]), k, dtype=np.int64)
            parts.append(part)
            first += m
        return self.observed({key: np.concatenate([p[key] for p in parts]) for key in parts[0]})
