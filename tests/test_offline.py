"""Logged (offline) data: the confounded behaviour policy, arrays and Minari export."""

from __future__ import annotations

import numpy as np
import pytest

import causalbench as cb
from causalbench.env.offline import logged_episodes, to_minari
from causalbench.testing import one_line_error


def test_logged_treatment_data_is_confounded() -> None:
    env = cb.make("TreatmentRecovery-v0")
    data = logged_episodes(env, 100_000, seed=0)
    treated = data["actions"] == 1
    # The logged policy treats the severe cases: logged rewards make treatment look harmful
    # although do(treated = 1) raises recovery (Simpson's paradox).
    se = np.sqrt(0.25 / treated.sum() + 0.25 / (~treated).sum())
    assert data["outcomes"][treated].mean() < data["outcomes"][~treated].mean() - 20 * se
    assert data["observations"].shape == (100_000, 2) and data["terminations"].all()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_logged_real_actions_map_to_the_nearest_grid_value() -> None:
    env = cb.make("IceCreamShorts-v0")   # its action (ice cream) is real-valued
    data = logged_episodes(env, 1000, seed=0)
    grid = np.asarray(env.action_values)
    nearest = np.abs(data["logged_action_values"][:, None] - grid).argmin(axis=1)
    assert np.array_equal(data["actions"], nearest)
    np.testing.assert_allclose(data["rewards"], data["outcomes"] - 0.2 * data["logged_action_values"])


def test_prediction_envs_have_no_behaviour_policy() -> None:
    with one_line_error("no action variable"):
        logged_episodes(cb.make("IRMLinear-v0"), 10)


@pytest.mark.parametrize("env_id", ["TreatmentRecovery-v0", "Copycat-v0", "GoalMisgen-v0"])
def test_minari_export_round_trip(env_id, tmp_path, monkeypatch) -> None:
    minari = pytest.importorskip("minari", reason="Minari export is optional: pip install minari")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    env = cb.make(env_id)
    data = logged_episodes(env, 20, seed=0)
    name = f"causalbench/{env_id.lower().replace('-v0', '')}/logged-v0"
    dataset = to_minari(env_id, data, name)
    assert dataset.total_steps == len(data["actions"])
    loaded = minari.load_dataset(name)
    first = next(iter(loaded.iterate_episodes()))
    steps = data["episode_ids"] == data["episode_ids"][0]
    np.testing.assert_array_equal(first.actions, data["actions"][steps])


def test_minari_export_measures_the_dataset_folder_once_not_per_episode(tmp_path, monkeypatch) -> None:
    """Linear in episodes: Minari's folder walk (O(files written so far)), which it repeats after every
    episode, happens a fixed number of times however many episodes are exported."""
    pytest.importorskip("minari", reason="Minari export is optional: pip install minari")
    from minari.dataset.minari_storage import MinariStorage

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    calls = {"get_size": 0}
    real_size = MinariStorage.get_size

    def counting_size(self):
        calls["get_size"] += 1
        return real_size(self)

    monkeypatch.setattr(MinariStorage, "get_size", counting_size)
    env = cb.make("TreatmentRecovery-v0")
    scans = {}
    for n in (5, 40):
        calls["get_size"] = 0
        data = logged_episodes(env, n, seed=0)
        dataset = to_minari(env.id, data, f"causalbench/tr/scan{n}-v0")
        assert dataset.total_episodes == n and dataset.total_steps == n
        scans[n] = calls["get_size"]
    assert scans[5] == scans[40] <= 3, scans
