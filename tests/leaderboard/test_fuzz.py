"""Fuzz: >= 1000 mutated submissions, every one rejected with a one-line SubmissionError, nothing written.

Array mutations recompute the manifest's sha256, so it is the content check (not the hash) that
must catch them; hash mutations leave the arrays alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causalbench.errors import SubmissionError
from causalbench.leaderboard.format import Limits
from causalbench.leaderboard.validate import publish
from causalbench.leaderboard.format import CLAIMABLE, SCHEMA

MARKER = Path(tempfile.gettempdir()) / "causalbench-fuzz-unpickled"


class Evil:
    """Unpickling this creates MARKER: the test fails if anything ever unpickles a submission."""

    def __reduce__(self):
        return (open, (str(MARKER), "w"))


@dataclass
class Case:
    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]
    manifest_bytes: bytes | None = None   # raw override of the manifest
    npz_bytes: bytes | None = None        # raw override of the .npz
    update_hash: bool = True


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


class Original(tuple):
    def __repr__(self) -> str:
        return "<the valid tiny submission>"


@pytest.fixture(scope="module")
def original(valid_submission):
    manifest = json.loads(valid_submission.read_text())
    with np.load(valid_submission.with_suffix(".npz"), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    raw = npz_bytes(arrays)
    limits = Limits(manifest_bytes=4 * len(valid_submission.read_bytes()), npz_bytes=2 * len(raw),
                    member_bytes=2 * max(a.nbytes + 128 for a in arrays.values()), total_bytes=2 * len(raw))
    return Original((manifest, arrays, raw, limits))


def copy(case_manifest: dict) -> dict:
    return json.loads(json.dumps(case_manifest))


# ---------------------------------------------------------------- mutations: (draw, manifest, arrays) -> Case


def edit_metric(draw, m, a):
    env = draw(st.sampled_from(sorted(m["claimed_metrics"])))
    seed = draw(st.sampled_from(sorted(m["claimed_metrics"][env])))
    claims = m["claimed_metrics"][env][seed]
    metric = draw(st.sampled_from(sorted(claims)))
    old = claims[metric]
    if old is None:
        claims[metric] = draw(st.floats(-1e6, 1e6, allow_nan=False))
    elif draw(st.booleans()) and draw(st.booleans()):
        claims[metric] = None
    else:
        step = draw(st.floats(1e-4, 1e3)) * draw(st.sampled_from([-1, 1]))
        claims[metric] = old + step * max(1.0, abs(old))
    return Case(m, a)


def claim_elsewhere(draw, m, a):
    kind = draw(st.sampled_from(["env", "seed", "metric"]))
    env = sorted(m["claimed_metrics"])[0]
    if kind == "env":
        m["claimed_metrics"][draw(st.sampled_from(["IceCreamShorts-v1", "Nope-v3"]))] = {"0": {"ood_score": 0.0}}
    elif kind == "seed":
        m["claimed_metrics"][env][str(draw(st.integers(2, 10**6)))] = {"ood_score": 0.0}
    else:
        m["claimed_metrics"][env]["0"][draw(st.sampled_from(["accuracy", "ood", "score", "OOD_score"]))] = 0.0
    return Case(m, a)


def _groups(a):
    return sorted({tuple(k.split("/", 2)[:2]) for k in a})


def drop_arrays(draw, m, a):
    kind = draw(st.sampled_from(["env", "seed", "input", "all"]))
    env, seed = draw(st.sampled_from(_groups(a)))
    if kind == "env":
        a = {k: v for k, v in a.items() if not k.startswith(f"{env}/")}
    elif kind == "seed":
        a = {k: v for k, v in a.items() if not k.startswith(f"{env}/{seed}/")}
    elif kind == "input":
        victim = draw(st.sampled_from(sorted(k for k in a if k.startswith(f"{env}/{seed}/"))))
        a = {k: v for k, v in a.items() if k != victim}
    else:
        a = {}
    return Case(m, a)


def extra_array(draw, m, a):
    env, seed = draw(st.sampled_from(_groups(a)))
    name = draw(st.sampled_from([f"{env}/{seed}/bogus", f"{env}/7/id", f"{env}/01/id", "Other-v0/0/id", "id",
                                 f"{env}/{seed}/id/extra", "../escape", f"{env}//id", f"{env}/{seed}/" + "x" * 5000,
                                 "y" * 5000 + f"/{seed}/id"]))
    a = dict(a)
    a[name] = np.zeros(len(next(iter(a.values()))))
    return Case(m, a)


def _pick(draw, a):
    return draw(st.sampled_from(sorted(a)))


def wrong_shape(draw, m, a):
    key = _pick(draw, a)
    a = dict(a)
    n = len(a[key])
    shape = draw(st.sampled_from(["longer", "shorter", "column", "matrix", "scalar", "empty", "huge"]))
    a[key] = {"longer": lambda: np.zeros(n + draw(st.integers(1, 50))),
              "shorter": lambda: np.zeros(max(n - draw(st.integers(1, n)), 0)),
              "column": lambda: np.zeros((n, 1)), "matrix": lambda: np.zeros((n, 2)),
              "scalar": lambda: np.float64(0.5), "empty": lambda: np.zeros(0),
              "huge": lambda: np.zeros(20 * n + 10_000)}[shape]()
    return Case(m, a)


def non_finite(draw, m, a):
    key = _pick(draw, a)
    a = dict(a)
    arr = a[key].copy()
    arr[draw(st.integers(0, len(arr) - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    a[key] = arr
    return Case(m, a)


def out_of_range_probability(draw, m, a):
    key = draw(st.sampled_from(sorted(k for k in a if k.startswith("TreatmentRecovery-v0/"))))
    a = dict(a)
    arr = a[key].copy()
    arr[draw(st.integers(0, len(arr) - 1))] = draw(st.sampled_from([1.5, -0.1, 2.0, -1e9]))
    a[key] = arr
    return Case(m, a)


def wrong_dtype(draw, m, a):
    key = _pick(draw, a)
    a = dict(a)
    kind = draw(st.sampled_from(["int64", "int8", "bool", "complex128", "float16", "U8", "object", "struct"]))
    if kind == "object":
        arr = np.array([Evil()] * len(a[key]), dtype=object)
    elif kind == "struct":
        arr = np.zeros(len(a[key]), dtype=[("x", "f8")])
    else:
        arr = a[key].astype(kind)
    a[key] = arr
    return Case(m, a)


def wrong_version(draw, m, a):
    field = draw(st.sampled_from(["format_version", "benchmark_version", "format"]))
    if field == "format_version":
        m[field] = draw(st.one_of(st.integers().filter(lambda v: v != 1), st.just("1"), st.just(True),
                                  st.just(None), st.just(1.5)))
    elif field == "benchmark_version":
        m[field] = draw(st.sampled_from(["0.0.9", "0.1.1", "1.0.0", "0.1", "latest", ""]))
    else:
        m[field] = draw(st.sampled_from(["causalbench-submission-v2", "", "CausalBench-Submission", None]))
    return Case(m, a)


def wrong_hash(draw, m, a):
    kind = draw(st.sampled_from(["other", "upper", "flip"]))
    if kind == "other":
        new = draw(st.text("0123456789abcdef", min_size=64, max_size=64))
        m["predictions"]["sha256"] = new if new != m["predictions"]["sha256"] else "0" * 64
        return Case(m, a, update_hash=False)
    if kind == "upper":  # the schema wants lower-case hex
        digest = m["predictions"]["sha256"]
        m["predictions"]["sha256"] = digest.upper() if digest.upper() != digest else "G" * 64
        return Case(m, a, update_hash=False)
    raw = bytearray(npz_bytes(a))
    i = draw(st.integers(0, len(raw) - 1))
    raw[i] ^= draw(st.integers(1, 255))
    return Case(m, a, npz_bytes=bytes(raw), update_hash=False)


def truncated_json(draw, m, a):
    text = json.dumps(m, indent=1).rstrip().encode()
    return Case(m, a, manifest_bytes=text[:draw(st.integers(0, len(text) - 1))])


def _allowed(path):
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    return set(node.get("properties", {}))


def extra_field(draw, m, a):
    where = draw(st.sampled_from(["top", "suite", "predictions", "claim"]))
    name = draw(st.text(min_size=1, max_size=12))
    value = draw(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)))
    if where == "top":
        target, allowed = m, _allowed(())
    elif where == "suite":
        target, allowed = m["suite"], _allowed(("suite",))
    elif where == "predictions":
        target, allowed = m["predictions"], _allowed(("predictions",))
    else:
        env = sorted(m["claimed_metrics"])[0]
        target, allowed = m["claimed_metrics"][env]["0"], set(CLAIMABLE)
    if name in allowed:
        name = name + "_x"
    target[name] = value
    return Case(m, a)


def missing_field(draw, m, a):
    where = draw(st.sampled_from(["top", "suite", "predictions"]))
    target = {"top": m, "suite": m["suite"], "predictions": m["predictions"]}[where]
    node = SCHEMA if where == "top" else SCHEMA["properties"][where]
    target.pop(draw(st.sampled_from(node["required"])))
    return Case(m, a)


def wrong_value(draw, m, a):
    edits: list[Callable[[dict], None]] = [
        lambda d: d.update(authors="Ada"), lambda d: d.update(authors=[]), lambda d: d.update(authors=[""]),
        lambda d: d.update(track="offline"), lambda d: d.update(track=None), lambda d: d.update(method="../evil"),
        lambda d: d.update(method=""), lambda d: d.update(method="a/b"), lambda d: d.update(method=".hidden"),
        lambda d: d.update(method="x" * 65), lambda d: d.update(paper="ftp://example.org"),
        lambda d: d.update(paper="javascript:alert(1)"), lambda d: d.update(paper="https://a b"),
        lambda d: d["suite"].update(seeds=[0]), lambda d: d["suite"].update(seeds=[1, 0]),
        lambda d: d["suite"].update(seeds=[0, 1, 2]), lambda d: d["suite"].update(n_test=41),
        lambda d: d["suite"].update(id="official-v3"), lambda d: d["suite"].update(envs=d["suite"]["envs"][::-1]),
        lambda d: d.update(authors=["Ada \ud800"]), lambda d: d.update(authors=["a\x07b"]),
        lambda d: d.update(description="x\u202eevil"), lambda d: d.update(method="erm-linear"),
        lambda d: d.update(method="Erm-Linear"), lambda d: d.update(method="erm--linear"),
        lambda d: d.update(method="errn-linear"), lambda d: d.update(method="causal-reference"),
        lambda d: d.update(method="tiny.erm"), lambda d: d.update(hparams={"k\x00": 1}),
        lambda d: d["suite"].update(envs=d["suite"]["envs"][:1]), lambda d: d["suite"].update(seeds=[0, 0]),
        lambda d: d["suite"].update(n_test=40.5), lambda d: d["suite"].update(n_test="40"),
        lambda d: d["predictions"].update(file="../erm.npz"), lambda d: d["predictions"].update(file="other.npz"),
        lambda d: d["predictions"].update(file="x.pkl"), lambda d: d["predictions"].update(file="/etc/passwd.npz"),
        lambda d: d.update(not_applicable={d["suite"]["envs"][0]: "too hard"}),
        lambda d: d.update(not_applicable={e: "no" for e in d["suite"]["envs"]}),
        lambda d: d.update(not_applicable={"Unknown-v0": "why"}),
        lambda d: d.update(not_applicable={d["suite"]["envs"][0]: ""}),
        lambda d: d.update(claimed_metrics=[]), lambda d: d.update(hparams={"a": {"nested": 1}}),
        lambda d: d.update(hparams={"bad key": 1}), lambda d: d.update(description="x" * 2001),
    ]
    draw(st.sampled_from(edits))(m)
    return Case(m, a)


def oversized(draw, m, a):
    kind = draw(st.sampled_from(["manifest", "npz", "member"]))
    if kind == "manifest":  # still valid JSON, just too big: refused before parsing
        text = json.dumps(m)
        return Case(m, a, manifest_bytes=(text[:-1] + " " * (10 ** 6) + "}").encode())
    if kind == "npz":
        return Case(m, a, npz_bytes=npz_bytes(a) + b"\0" * (draw(st.integers(2, 4)) * len(npz_bytes(a))))
    key = _pick(draw, a)
    a = dict(a)
    a[key] = np.zeros(500_000)
    return Case(m, a)


def disguised_pickle(draw, m, a):
    kind = draw(st.sampled_from(["pickle", "pickle-in-zip", "npy", "text", "empty", "zip-junk", "truncated"]))
    if kind == "pickle":
        raw = pickle.dumps({"arrays": a, "payload": Evil()}, protocol=draw(st.integers(0, 5)))
    elif kind == "pickle-in-zip":  # a pickle where an .npy member should be
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for k, v in a.items():
                zf.writestr(k + ".npy", pickle.dumps(Evil()) if k.endswith("/id") else _npy(v))
        raw = buf.getvalue()
    elif kind == "npy":
        buf = io.BytesIO()
        np.save(buf, a[_pick(draw, a)])
        raw = buf.getvalue()
    elif kind == "text":
        raw = b"not an npz\n"
    elif kind == "empty":
        raw = b""
    elif kind == "zip-junk":
        buf = io.BytesIO(npz_bytes(a))
        with zipfile.ZipFile(buf, "a") as zf:
            zf.writestr(draw(st.sampled_from(["README.txt", "x.npy", "__init__.py"])), b"print('hi')")
        raw = buf.getvalue()
    else:
        full = npz_bytes(a)
        raw = full[:draw(st.integers(0, len(full) - 1))]
    return Case(m, a, npz_bytes=raw)


def _npy(v):
    buf = io.BytesIO()
    np.save(buf, v)
    return buf.getvalue()


def malformed_json(draw, m, a):
    text = json.dumps(m)
    kind = draw(st.sampled_from(["duplicate", "nan", "not-utf8", "array", "number", "bom", "deep", "overflow",
                                 "bigint"]))
    raw = {
        "duplicate": lambda: ('{"method": "x", ' + text[1:]).encode(),
        "nan": lambda: text.replace('"ood_score": ', '"ood_score": NaN, "x": ', 1).encode(),
        "not-utf8": lambda: b"\xff\xfe" + text.encode(),
        "array": lambda: b"[" + text.encode() + b"]",
        "number": lambda: b"42",
        "bom": lambda: b"\xef\xbb\xbf" + text.encode(),
        "deep": lambda: b"[" * 100_000 + b"]" * 100_000,
        "overflow": lambda: text.replace('"ood_score": ', '"ood_score": 1e400, "x": ', 1).encode(),
        "bigint": lambda: text.replace('"ood_score": ', '"ood_score": ' + "9" * 400 + ', "x": ', 1).encode(),
    }[kind]()
    return Case(m, a, manifest_bytes=raw)


MUTATIONS = [edit_metric, claim_elsewhere, drop_arrays, extra_array, wrong_shape, non_finite,
             out_of_range_probability, wrong_dtype, wrong_version, wrong_hash, truncated_json, extra_field,
             missing_field, wrong_value, oversized, disguised_pickle, malformed_json]


def write(case: Case, folder: Path, original: Original) -> Path:
    unchanged = case.arrays.keys() == original[1].keys() and all(case.arrays[k] is original[1][k] for k in case.arrays)
    raw = case.npz_bytes if case.npz_bytes is not None else original[2] if unchanged else npz_bytes(case.arrays)
    name = "tiny-erm.npz"
    (folder / name).write_bytes(raw)
    manifest = case.manifest
    if case.update_hash and isinstance(manifest.get("predictions"), dict) and "sha256" in manifest["predictions"]:
        manifest["predictions"]["sha256"] = hashlib.sha256(raw).hexdigest()
    path = folder / "tiny-erm.json"
    text = case.manifest_bytes if case.manifest_bytes is not None else json.dumps(manifest, indent=1).encode()
    path.write_bytes(text)
    return path


def test_the_unmutated_submission_passes_the_same_harness(original, tiny):
    manifest, arrays, _, limits = original
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Case(copy(manifest), dict(arrays)), Path(tmp), original)
        assert publish(path, Path(tmp) / "board", tiny, limits=limits).exists()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One folder reused by every example (files are overwritten): cheaper than a temp dir per example."""
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "board").mkdir()
    return folder


@settings(max_examples=1000, derandomize=True)
@given(data=st.data())
def test_every_mutated_submission_is_rejected_with_one_line_and_nothing_written(original, tiny, workdir, data):
    manifest, arrays, _, limits = original
    mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    case = mutation(data.draw, copy(manifest), dict(arrays))
    path = write(case, workdir, original)
    root = workdir / "board"
    with pytest.raises(SubmissionError) as err:
        publish(path, root, tiny, limits=limits)
    message = str(err.value)
    assert message and "\n" not in message and len(message) < 400, message
    assert list(root.iterdir()) == [], f"{mutation.__name__} wrote {list(root.rglob('*'))}"
    assert not MARKER.exists(), "a submission was unpickled"
