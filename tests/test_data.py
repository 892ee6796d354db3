"""Dataset: validation on construction, exports, fingerprints, kinds."""

from __future__ import annotations

import json

import numpy as np
import pytest

import causalbench as cb
from causalbench.data import Dataset, DatasetSpec, concat
from causalbench.testing import one_line_error

SPEC = DatasetSpec("X-v0", "observational", 3, 0)


@pytest.mark.parametrize("kwargs, match", [
    ({"X": np.zeros(3)}, "2-d"),
    ({"y": np.zeros(4)}, "y must have shape"),
    ({"feature_names": ("a",)}, "feature names"),
    ({"roles": {"zz": "causal"}}, "unknown variables"),
    ({"domain": np.zeros(2, int)}, "domain labels"),
    ({"intervened": np.zeros((3, 1), bool)}, "intervened mask"),
])
def test_dataset_validates_on_construction(kwargs, match) -> None:
    base = dict(X=np.zeros((3, 2)), y=np.zeros(3), feature_names=("a", "b"), roles={"a": "causal"}, target="y",
                target_kind="real", spec=SPEC)
    with one_line_error(match):
        Dataset(**{**base, **kwargs})


def test_kinds_shapes_and_metadata() -> None:
    env = cb.make("IceCreamShorts-v1")
    obs = env.dataset("observational", n=1001, seed=0)
    dom = env.dataset("domains", n=1001, seed=0)
    itv = env.dataset("interventional", n=1001, seed=0)
    assert obs.X.shape == (1001, 2) and obs.domain is None and obs.intervened is None
    assert set(np.unique(dom.domain)) == {0, 1} and abs(np.sum(dom.domain == 0) - 501) <= 1
    assert itv.intervened.shape == (1001, 2) and 0.4 < itv.intervened.mean() < 0.6
    assert obs.feature_names == ("ice_cream", "sale_day") and obs.roles == {"ice_cream": "proxy", "sale_day": "action"}
    with pytest.raises(ValueError):
        obs.X[0, 0] = 1.0  # read-only


def test_interventional_rows_break_the_spurious_link() -> None:
    env = cb.make("IceCreamShorts-v1")
    d = env.dataset("interventional", n=100_000, seed=1, p=0.5)
    hit = d.intervened[:, 0]
    r_obs = np.corrcoef(d.X[~hit, 0], d.y[~hit])[0, 1]
    r_int = np.corrcoef(d.X[hit, 0], d.y[hit])[0, 1]
    assert r_obs > 0.5 and abs(r_int) < 5 / np.sqrt(hit.sum())


def test_fraction_limits_intervened_units() -> None:
    env = cb.make("IceCreamShorts-v1")
    d = env.dataset("interventional", n=20_000, seed=1, fraction=0.1, p=1.0)
    any_hit = d.intervened.any(axis=1).mean()
    assert abs(any_hit - 0.1) < 5 * np.sqrt(0.09 / 20_000)


def test_fingerprints_are_pure_functions_of_the_spec() -> None:
    env = cb.make("IceCreamShorts-v1")
    a, b = env.dataset("observational", 500, 3), env.dataset("observational", 500, 3)
    assert a.fingerprint == b.fingerprint and np.array_equal(a.X, b.X)
    assert env.dataset("observational", 500, 4).fingerprint != a.fingerprint
    assert env.dataset("domains", 500, 3).fingerprint != a.fingerprint
    # Training and test data never share units.
    assert not np.array_equal(env.test_sets(seed=3, n=500)["id"].X, a.X)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".npz"])
def test_exports_round_trip(tmp_path, suffix) -> None:
    import pandas as pd

    d = cb.make("IceCreamShorts-v1").dataset("interventional", n=200, seed=0)
    path = d.save(tmp_path / f"data{suffix}")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        frame = pd.read_parquet(path)
        meta = json.loads(pq.read_schema(path).metadata[b"causalbench"])
        assert meta["fingerprint"] == d.fingerprint
    elif suffix == ".csv":
        frame = pd.read_csv(path)
    else:
        with np.load(path, allow_pickle=False) as z:
            np.testing.assert_array_equal(z["X"], d.X)
            assert json.loads(str(z["meta"]))["roles"] == dict(d.roles)
        return
    np.testing.assert_allclose(frame[list(d.feature_names)].to_numpy(), d.X)
    np.testing.assert_allclose(frame["shorts"].to_numpy(), d.y)
    assert frame["intervened_ice_cream"].astype(bool).tolist() == d.intervened[:, 0].tolist()


def test_bad_export_format(tmp_path) -> None:
    d = cb.make("IceCreamShorts-v1").dataset(n=10)
    with one_line_error("unknown output format"):
        d.save(tmp_path / "x.xlsx")


def test_concat_and_by_domain() -> None:
    env = cb.make("IceCreamShorts-v1")
    obs, itv = env.dataset("observational", 100, 0), env.dataset("interventional", 50, 0)
    both = concat([obs, itv])
    assert both.n == 150 and both.intervened[:100].sum() == 0
    parts = env.dataset("domains", 100, 0).by_domain()
    assert [p.n for p in parts] == [50, 50]
    with one_line_error("no domain labels"):
        obs.by_domain()


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "weird"}, "unknown dataset kind"),
    ({"n": 0}, "n must be"),
    ({"seed": -1}, "seed"),
    ({"kind": "interventional", "p": 2.0}, "p and fraction"),
])
def test_bad_dataset_requests(kwargs, match) -> None:
    with one_line_error(match):
        cb.make("IceCreamShorts-v1").dataset(**kwargs)


ROUND_TRIP_CASES = [("IceCreamShorts-v1", "interventional"), ("TreatmentRecovery-v0", "domains"),
                    ("IceCreamHD-v1", "interventional")]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".npz"])
@pytest.mark.parametrize("env_id, kind", ROUND_TRIP_CASES)
def test_load_round_trips_every_format(tmp_path, suffix, env_id, kind) -> None:
    d = cb.make(env_id).dataset(kind, n=300, seed=2)
    back = Dataset.load(d.save(tmp_path / f"data{suffix}"))
    assert back.fingerprint == d.fingerprint and back == d
    assert (back.feature_names, back.variables, back.roles, back.target, back.target_kind, back.n_classes) == \
        (d.feature_names, d.variables, dict(d.roles), d.target, d.target_kind, d.n_classes)
    assert back.spec.to_dict() == json.loads(json.dumps(d.spec.to_dict()))
    for name in ("X", "y", "domain", "intervened"):
        a, b = getattr(d, name), getattr(back, name)
        assert (a is None and b is None) or (a.dtype == b.dtype and np.array_equal(a, b)), name
    assert not back.X.flags.writeable


def _tamper_csv(path) -> None:
    lines = path.read_text().splitlines()
    first = lines[1].split(",")
    first[0] = repr(float(first[0]) + 1.0)
    path.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")


def test_load_refuses_modified_and_foreign_files(tmp_path) -> None:
    import pandas as pd

    d = cb.make("IceCreamShorts-v1").dataset("interventional", n=50, seed=0)
    csv = d.save(tmp_path / "d.csv")
    _tamper_csv(csv)
    with one_line_error("no longer match the fingerprint"):
        Dataset.load(csv)
    pd.DataFrame({"a": [1.0, 2.0]}).to_csv(tmp_path / "plain.csv", index=False)
    pd.DataFrame({"a": [1.0, 2.0]}).to_parquet(tmp_path / "plain.parquet")
    np.savez(tmp_path / "plain.npz", X=np.zeros((2, 2)))
    for name in ("plain.csv", "plain.parquet", "plain.npz"):
        with one_line_error("is not a causalbench dataset export"):
            Dataset.load(tmp_path / name)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with one_line_error("is not a readable .parquet file"):
        Dataset.load(tmp_path / "junk.parquet")
    with one_line_error("no such file"):
        Dataset.load(tmp_path / "missing.npz")
    with one_line_error("unknown output format"):
        Dataset.load(tmp_path / "d.xlsx")


def test_datasets_pickle_equal_and_read_only() -> None:
    import pickle

    d = cb.make("TreatmentRecovery-v0").dataset("interventional", n=200, seed=4)
    back = pickle.loads(pickle.dumps(d))
    assert back == d and back.fingerprint == d.fingerprint and hash(back) == hash(d)
    assert all(not a.flags.writeable for a in (back.X, back.y, back.intervened))
    assert back != cb.make("TreatmentRecovery-v0").dataset("interventional", n=200, seed=5)
    writable = d.X.copy()  # the documented way to get a writable copy
    writable[0, 0] = -1.0
    assert d.X[0, 0] != -1.0


def test_torch_view_works_with_a_dataloader() -> None:
    torch = pytest.importorskip("torch", reason='torch is optional: pip install "causalbench-suite[torch]"')
    from torch.utils.data import DataLoader

    d = cb.make("IceCreamShorts-v1").dataset("domains", n=100, seed=0)
    view = d.to_torch()
    assert isinstance(view, torch.utils.data.Dataset) and len(view) == d.n
    xs, ys = zip(*DataLoader(view, batch_size=32, shuffle=False))
    np.testing.assert_allclose(torch.cat(xs).numpy(), d.X.astype(np.float32))
    np.testing.assert_allclose(torch.cat(ys).numpy(), d.y.astype(np.float32))
    x, y, dom = next(iter(DataLoader(d.to_torch(with_domain=True), batch_size=100)))
    assert dom.dtype == torch.int64 and np.array_equal(dom.numpy(), d.domain)
    x[0, 0] = 99.0  # tensors are copies: training code may write to them
    assert d.X[0, 0] != 99.0
    with one_line_error("no domain labels"):
        cb.make("IceCreamShorts-v1").dataset(n=10).to_torch(with_domain=True)
