"""Streaming: datasets in blocks are byte-identical to `env.dataset`, files hold exactly its rows,
memory stays bounded whatever n, and impossible sizes are refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import causalbench as cb
from causalbench.cli import main
from causalbench.env import export, stream
from causalbench.errors import DataError
from causalbench.seeding import rng

KINDS = ("observational", "domains", "interventional")
# Envs whose streamed rows match `env.dataset` to rounding only (documented in docs/performance.md): their
# rendering is a chain of dense 512-wide matrix products, whose BLAS kernels round by block shape.
ROUNDING_ONLY = {"RandomSCMRendered-v0"}


@pytest.mark.parametrize("env_id", cb.list_envs())
def test_blocks_concatenate_to_the_dataset(env_id: str) -> None:
    env = cb.make(env_id)
    for kind in KINDS:
        ds = env.dataset(kind, 10_001, 3, p=0.4, fraction=0.8)
        for rows in (4096, 8192):
            parts = list(stream.blocks(env, kind, 10_001, 3, 0.4, 0.8, rows))
            assert max(b.sample.n for b in parts) <= rows
            X = np.concatenate([env.render(b.sample.columns(env.variables)) for b in parts])
            y = np.concatenate([b.sample[env.target] for b in parts])
            assert np.array_equal(y, ds.y), (kind, rows)   # the variables themselves are always bitwise
            if env_id in ROUNDING_ONLY:
                np.testing.assert_allclose(X, ds.X, rtol=0, atol=1e-12 * np.abs(ds.X).max(), err_msg=kind)
            else:
                assert np.array_equal(X, ds.X), (kind, rows)
            if kind == "interventional":
                assert np.array_equal(np.concatenate([b.mask for b in parts]), ds.intervened)
            if kind == "domains":
                labels = np.concatenate([np.full(b.sample.n, b.domain) for b in parts])
                assert np.array_equal(labels, ds.domain)


@pytest.mark.parametrize("m,d,rows", [(1, 1, 1), (1000, 3, 7), (4097, 2, 4096), (50_000, 5, 12_345)])
def test_mask_rows_reproduce_the_whole_draw(m: int, d: int, rows: int) -> None:
    gen = rng(11, "ctx", "mask")
    eligible = gen.random(m) < 0.7
    whole = (gen.random((m, d)) < 0.3) & eligible[:, None]
    masks = stream.MaskRows(11, ("ctx", "mask"), m, d, 0.3, 0.7)
    parts = [masks.next(min(rows, m - s)) for s in range(0, m, rows)]
    assert np.array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".npz"])
@pytest.mark.parametrize("env_id,kind", [("IceCreamShorts-v1", "interventional"), ("TreatmentRecovery-v0", "domains"),
                                         ("IceCreamHD-v1", "observational")])
def test_streamed_file_holds_exactly_the_dataset(tmp_path, suffix: str, env_id: str, kind: str) -> None:
    env = cb.make(env_id)
    ds = env.dataset(kind, 20_000, 5)
    done = export.write(env, kind, 20_000, 5, tmp_path / f"x{suffix}", rows=4096)
    assert done.fingerprint == ds.fingerprint and done.n == 20_000
    if suffix == ".npz":
        with np.load(done.path) as z:
            assert np.array_equal(z["X"], ds.X) and np.array_equal(z["y"], ds.y) and z["y"].dtype == ds.y.dtype
            assert ("domain" in z) == (ds.domain is not None) and ("intervened" in z) == (ds.intervened is not None)
            if ds.domain is not None:
                assert np.array_equal(z["domain"], ds.domain)
            if ds.intervened is not None:
                assert np.array_equal(z["intervened"], ds.intervened)
            assert json.loads(str(z["meta"]))["fingerprint"] == ds.fingerprint
        return
    got = pd.read_parquet(done.path) if suffix == ".parquet" else pd.read_csv(done.path)
    expected = ds.to_pandas()
    if suffix == ".csv":  # the reference goes through the same text round trip
        ds.save(tmp_path / "ref.csv")
        expected = pd.read_csv(tmp_path / "ref.csv")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        meta = json.loads(pq.read_schema(done.path).metadata[b"causalbench"])
        assert meta["fingerprint"] == ds.fingerprint and meta["spec"] == ds.spec.to_dict()


def test_cli_generate_streams_the_same_rows(tmp_path, capsys) -> None:
    out = tmp_path / "x.parquet"
    assert main(["generate", "RandomSCM-v1", "--kind", "interventional", "--n", "3e4", "--seed", "2", "--out",
                 str(out)]) == 0
    ds = cb.make("RandomSCM-v1").dataset("interventional", 30_000, 2)
    assert ds.fingerprint[:12] in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(out), ds.to_pandas(), check_exact=True)


def test_impossible_sizes_are_refused_in_one_line(tmp_path, capsys) -> None:
    env = cb.make("IceCreamShorts-v1")
    with pytest.raises(DataError, match="memory") as err:
        env.dataset("observational", n=1e13)
    assert "\n" not in str(err.value) and "TB" in str(err.value)
    assert main(["generate", "IceCreamShorts-v1", "--n", "1e30", "--out", str(tmp_path / "x.parquet")]) == 2
    msg = capsys.readouterr().err.strip()
    assert "\n" not in msg and "disk" in msg and not list(tmp_path.iterdir())


PEAK = """
import resource, sys, causalbench as cb
from causalbench.env import export
export.write(cb.make("IceCreamShorts-v1"), "interventional", int(sys.argv[1]), 0, sys.argv[2], rows=1 << 16)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_peak_memory_does_not_grow_with_n(tmp_path) -> None:
    """Peak RSS for 4e6 rows stays within 40 MB of that for 5e5 rows (the data itself grows by ~120 MB)."""
    peaks = []
    for n in (500_000, 4_000_000):
        out = subprocess.run([sys.executable, "-c", PEAK, str(n), str(tmp_path / f"x{n}.parquet")],
                             capture_output=True, text=True, check=True)
        peaks.append(int(out.stdout.split()[-1]) * 1024)
    assert peaks[1] - peaks[0] < 40 << 20, peaks


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch) -> None:
    env = cb.make("IceCreamShorts-v1")
    calls = []

    def failing_render(V):
        calls.append(len(V))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return V

    monkeypatch.setattr(env, "render", failing_render)
    with pytest.raises(KeyboardInterrupt):
        export.write(env, "observational", 10_000, 0, tmp_path / "x.parquet", rows=4096)
    assert not list(tmp_path.iterdir())  # neither the file nor the spool folder
