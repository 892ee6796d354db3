"""Publishing: concurrent submissions under one lock, transactions that leave the leaderboard byte-identical on a
full disk, manifests of valid text only, slug names without lookalikes, escaped Markdown and HTML, fair ranking."""

from __future__ import annotations

import errno
import html.parser
import json
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from causalbench.cli import main
from causalbench.errors import SubmissionError
from causalbench.leaderboard import publish as publishing
from causalbench.leaderboard.entries import entry, is_ranked
from causalbench.leaderboard.names import entry_name
from causalbench.leaderboard.render import build, md
from causalbench.leaderboard.validate import builtin_names, check_submission, publish
from causalbench.testing import one_line_error

HOSTILE = ("[x](javascript:alert(1))", "<script>alert(1)</script>", "a | b", "![i](https://e.org/i.png)",
           "`code` *em* _u_ ~~s~~ $x$ <img src=x onerror=alert(1)>", "</table><b>x</b> &amp; \\| [ref]: javascript:x")


def renamed(submission: Path, folder: Path, name: str, **fields) -> Path:
    """A copy of the valid submission under another method name (and other manifest fields)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads(submission.read_text())
    data.update(method=name, **fields)
    shutil.copy(submission.with_suffix(".npz"), folder / data["predictions"]["file"])
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root (folders as None) with its bytes."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def _submit(args: tuple[str, str, str]) -> str:
    path, root, suite = args
    from causalbench.leaderboard.format import SuiteSpec

    try:
        publish(path, root, SuiteSpec(**json.loads(suite)))
    except SubmissionError as err:
        return f"refused: {err}"
    return "ok"


def test_ten_concurrent_submissions_leave_exactly_the_expected_entries(valid_submission, tiny, tmp_path):
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"] + ["same"] * 4
    paths = [renamed(valid_submission, tmp_path / f"sub{i}", name) for i, name in enumerate(names)]
    root = tmp_path / "board"
    suite = json.dumps({**tiny.__dict__, "overrides": [list(o) for o in tiny.overrides]})
    with multiprocessing.get_context("fork").Pool(10) as pool:   # 10 publishers at once (fork: no re-imports)
        outcomes = pool.map(_submit, [(str(p), str(root), suite) for p in paths], chunksize=1)
    assert outcomes[:6] == ["ok"] * 6
    same = outcomes[6:]
    assert same.count("ok") == 1 and all("an entry for 'same' exists; pass --replace" in o for o in same if o != "ok")
    expected = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "same"}
    assert {p.stem for p in (root / "entries").glob("*.json")} == expected
    readme, page = (root / "README.md").read_text(), (root / "index.html").read_text()
    for name in expected:
        assert f"\n| {name} |" in readme and f'data-method="{name}"' in page
    assert readme.count("\n| same |") == 1 and page.count('data-method="same"') == 1
    assert not [p for p in root.iterdir() if p.name.startswith((".staging-", ".backup-"))]


@pytest.mark.parametrize("text, why", [
    ('"Ada \\ud800"', "lone surrogate (U+D800)"), ('"Ada\\u0007"', "control character (U+0007)"),
    ('"\\u202eAda"', "control character (U+202E)"), ('"Ada\\nLovelace"', "control character (U+000A)"),
])
def test_a_manifest_with_a_surrogate_or_control_character_is_rejected_by_check_in_one_line(
        valid_submission, tmp_path, capsys, text, why):
    raw = valid_submission.read_text().replace('"Test Author"', text, 1)
    path = tmp_path / "bad.json"
    shutil.copy(valid_submission.with_suffix(".npz"), tmp_path / valid_submission.with_suffix(".npz").name)
    path.write_text(raw)
    assert main(["submit", str(path), "--check"]) == 2
    err = capsys.readouterr().err.strip()
    assert why in err and "authors[0]" in err and "\n" not in err and "Traceback" not in err, err
    path.write_bytes(valid_submission.read_bytes().replace(b"Test Author", b"Test \xed\xa0\x80Author"))
    assert main(["submit", str(path), "--check"]) == 2   # an encoded surrogate is not UTF-8 at all
    assert "manifest is not UTF-8 text" in capsys.readouterr().err


def _failing(real, root: Path, fail_at: int, calls: list[int], where):
    """`real`, failing with ENOSPC on its fail_at-th call that touches `root` (per `where(args)`)."""
    def fake(*args, **kwargs):
        if where(*args).startswith(str(root)):
            calls[0] += 1
            if calls[0] == fail_at:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)
    return fake


def test_a_full_disk_during_publish_leaves_the_leaderboard_byte_identical(valid_submission, tiny, tmp_path,
                                                                         monkeypatch):
    root = tmp_path / "board"
    publish(valid_submission, root, tiny)
    new = check_submission(renamed(valid_submission, tmp_path / "n", "newcomer"), tiny)
    replacing = check_submission(valid_submission, tiny)
    before = snapshot(root)
    fd_path = (lambda fd, *_: os.readlink(f"/proc/self/fd/{fd}"))
    counts = {}
    for name, real, where in (("write", os.write, fd_path), ("replace", os.replace, lambda src, dst: str(dst))):
        calls = [0]
        monkeypatch.setattr(os, name, _failing(real, root, 0, calls, where))
        publishing.commit([new, replacing], root, replace=True)   # count the calls of a successful publish
        monkeypatch.setattr(os, name, real)
        counts[name] = calls[0]
        assert snapshot(root) != before
        shutil.rmtree(root)
        publish(valid_submission, root, tiny)
        before = snapshot(root)
    assert counts["write"] >= 4 and counts["replace"] >= 4   # two entries and two pages
    for name, real, where in (("write", os.write, fd_path), ("replace", os.replace, lambda src, dst: str(dst))):
        for k in range(1, counts[name] + 1):
            monkeypatch.setattr(os, name, _failing(real, root, k, [0], where))
            with one_line_error("the disk is full", kind=SubmissionError):
                publishing.commit([new, replacing], root, replace=True)
            monkeypatch.setattr(os, name, real)
            assert snapshot(root) == before, (name, k)


@pytest.mark.parametrize("name, folded", [("MyMethod", "mymethod"), ("ERM-deep-2", "erm-deep-2"), ("x", "x")])
def test_names_are_case_folded_slugs(name, folded) -> None:
    assert entry_name(name, builtin_names()) == folded


@pytest.mark.parametrize("name, why", [
    ("erm-linear.", "must be a slug"), ("a b", "must be a slug"), ("Ünïcode", "must be a slug"), ("-x", "must be a slug"),
    ("a/b", "must be a slug"), ("", "must be a slug"), ("x" * 65, "must be a slug"), ("a\u200bb", "control character"),
    ("Erm-Linear", "looks like the built-in 'erm-linear'"), ("erm--linear", "looks like the built-in 'erm-linear'"),
    ("ermlinear", "looks like the built-in 'erm-linear'"), ("errn-linear", "looks like the built-in 'erm-linear'"),
    ("erm-1inear", "looks like the built-in 'erm-linear'"), ("NULL", "looks like the built-in 'null'"),
    ("causa1-reference", "looks like the built-in 'causal-reference'"), ("lrm", "looks like the built-in 'irm'"),
])
def test_other_names_and_lookalikes_of_built_ins_are_refused(name, why) -> None:
    with one_line_error(why, kind=SubmissionError):
        entry_name(name, builtin_names())


def _entry(name: str, effect: float, kind: str = "method", covered: tuple[str, ...] = ("A-v0", "B-v0"),
           **meta) -> dict:
    runs = [{"unit": f"{i}:0", "effect_error": effect + 0.01 * i, "ood_link": 0.1, "ood_worst": 0.2,
             "spurious_reliance": 0.5, "causal_reliance": 0.5, "excess_risk_id": 0.0, "regret": None,
             "reliance_defined": True} for i in range(3)]
    results = {env: {"env_version": "v0", "loss": "mse", "runs": runs} for env in covered}
    meta = {"method": name, "track": "observational", "authors": ["A. Author"], "benchmark_version": "0.1.0", **meta}
    return entry(kind, meta, {"id": "t-v1", "envs": ["A-v0", "B-v0"], "seeds": [0], "n_test": 10, "instances": 3},
                 results, ("A-v0", "B-v0"), not_applicable={e: "no" for e in ("A-v0", "B-v0") if e not in covered})


def test_ranking_only_ranks_full_coverage_methods_and_never_references_or_predictions() -> None:
    entries = [_entry("slow", 0.5), _entry("fast", 0.3), _entry("partial", 0.01, covered=("A-v0",)),
               _entry("oracle", 0.0, privileged=True), _entry("causal-reference", 0.0, kind="reference",
                                                                    track="reference"),
               _entry("preds", 0.0, kind="predictions")]
    assert [e["method"] for e in entries if is_ranked(e)] == ["slow", "fast"]
    readme = build(entries)["README.md"]
    ranked = readme.split("## Ranked: observational")[1].split("\n## ")[0]
    assert "| 1 | fast |" in ranked and "| 2 | slow |" in ranked
    assert all(n not in ranked for n in ("partial", "oracle", "causal-reference", "preds"))
    refs = readme.split("## References (not ranked)")[1].split("\n## ")[0]
    assert "| oracle (privileged) |" in refs and "| causal-reference (reference) |" in refs
    per_env = readme.split("### A-v0")[1].split("###")[0]
    assert "| 1 | partial |" in per_env and "| ref | oracle (privileged) |" in per_env and "preds" not in per_env
    assert "| preds |" in readme.split("## Unverified")[1]
    # mean [95% interval] over the three units: 0.30, 0.31, 0.32 -> mean 0.31, half-width t(2) * 0.01 / sqrt(3)
    assert "| 1 | fast | observational | 0.310 [0.285, 0.335] |" in ranked


class _Collect(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags, self.hrefs, self.scripts = [], [], 0

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        self.scripts += tag == "script"
        self.hrefs += [v for k, v in attrs if k in ("href", "src")]


def test_markdown_and_html_escape_injection_strings() -> None:
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is not installed (pip install "
                                                            "markdown-it-py), so the Markdown is not parsed")
    hostile = _entry("hostile", 0.2, authors=list(HOSTILE), description=" ".join(HOSTILE),
                     paper="https://e.org/a)[y](javascript:alert(1)", track="observational")
    pages = build([hostile, _entry("plain", 0.3)])
    rendered = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(pages["README.md"])
    links = _Collect()
    links.feed(rendered)
    assert links.scripts == 0 and "img" not in links.tags and "b" not in links.tags
    assert all(h.startswith("https://") for h in links.hrefs), links.hrefs
    assert any("%28javascript" in h or "javascript" not in h for h in links.hrefs)
    header = next(line for line in pages["README.md"].splitlines() if line.startswith("| # | method"))
    row = next(line for line in pages["README.md"].splitlines() if line.startswith("| 1 | hostile"))
    assert rendered.count("<tr>") >= 3 and md("a | b") == "a \\| b"
    table = rendered.split("<table>")[1].split("</table>")[0]
    assert all(r.count("<td") == header.count("|") - 1 for r in table.split("<tr>")[2:]), row
    page = _Collect()
    page.feed(pages["index.html"])
    assert page.scripts == 1 and "img" not in page.tags and all(h.startswith(("https://", "data:")) for h in page.hrefs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["index.html"]


def test_the_documented_method_request_is_valid_and_bad_ones_are_one_line_errors(tmp_path) -> None:
    from causalbench.leaderboard.request import read_request

    doc = (Path(__file__).resolve().parents[2] / "leaderboard" / "requests" / "README.md").read_text()
    template = json.loads(doc.split("```json")[1].split("```")[0])
    path = tmp_path / "my-method.json"
    path.write_text(json.dumps(template))
    request = read_request(path)
    assert request.about.name == "my-method" and request.method == "mypkg.methods:MyMethod"
    for change, why in ((dict(requirements=["mypkg"]), "exact pins"), (dict(requirements=["mypkg>=1"]), "exact pins"),
                        (dict(name="Erm-Linear"), "looks like the built-in"),
                        (dict(method="os.system('x')"), "method must be"),
                        (dict(authors=["Ada\u0007"]), "control character"), (dict(extra=1), "unknown field"),
                        (dict(paper="javascript:alert(1)"), "http(s) link"), (dict(format="x"), "format must be")):
        path.write_text(json.dumps({**template, **change}))
        with one_line_error(why, kind=SubmissionError):
            read_request(path)
