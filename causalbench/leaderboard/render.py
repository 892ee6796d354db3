"""Render the leaderboard from entries/*.json: README.md and index.html (static, offline, no external resources).

Standard library only. Every number comes from an entry; every string that came from an entry is escaped
for Markdown (`md`: a backslash before every Markdown syntax character, so `[x](javascript:...)` stays text)
or HTML (`html.escape`), and links are http(s) URLs, percent-encoded (`safe_url`). The prose that explains
how entries are evaluated and how to submit lives in `render_text`.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote, urlsplit

from ..scoring.metrics import METRICS
from .entries import is_ranked, is_reference
from .format import OFFICIAL_SUITE, OVERALL_METRICS
from .render_html import page
from .render_text import DEFINITIONS, HOW_EVALUATED, HOW_TO_SUBMIT, PREDICTION_FORMAT, instance_spaces

TRACKS = ("observational", "observational+domains", "interventional", "online")
TRACK_COLORS = {"observational": "#4c72b0", "observational+domains": "#dd8452", "interventional": "#55a868",
                "online": "#c44e52", "reference": "#777777"}
COLUMNS = tuple((m, METRICS[m].label) for m in OVERALL_METRICS)
RANK_BY = "effect_error"   # the ruler's measure of causal confusion; ood_link and regret beside it
LOSS_NAMES = {"mse": "Var(Y) units", "cross_entropy": "nats"}
# Markdown (GitHub flavour) syntax characters: links, emphasis, code, math, HTML, table cells, strike-through.
_ESCAPED = set("\\`*_[](){}#!|~$^")


# ---------------------------------------------------------------- escaping


def md(text: Any) -> str:
    """Text for a Markdown table cell: one line, every Markdown syntax character backslash-escaped (so no link,
    image, emphasis, code span, math or cell break can start), `<`, `>` and `&` as entities."""
    out = []
    for ch in " ".join(str(text).split()):
        if ch in "<>&":
            out.append(html.escape(ch))
        elif ch in _ESCAPED:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def safe_url(link: Any) -> str | None:
    """An http(s) URL with everything outside the unreserved/reserved URL characters (and `()<>[]"'`)
    percent-encoded, or None if it is not an http(s) URL with a host."""
    if not isinstance(link, str):
        return None
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(link, safe=":/?#@!$&*+,;=%-._~")


# ---------------------------------------------------------------- numbers


def fmt(summary: Mapping[str, Any] | None) -> str:
    """'mean [ci_low, ci_high]' (a 95% interval over n units), 'mean' when n = 1, 'n/a' when none counted."""
    if not summary or not summary.get("n") or summary.get("mean") is None:
        return "n/a"
    lo, hi = summary.get("ci_low"), summary.get("ci_high")
    if summary["n"] == 1 or lo is None or hi is None:
        return f"{summary['mean']:.3f}"
    return f"{summary['mean']:.3f} [{lo:.3f}, {hi:.3f}]"


def _mean(summary: Mapping[str, Any] | None) -> float:
    return summary["mean"] if summary and summary.get("n") and summary.get("mean") is not None else math.inf


def ranked(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Lower RANK_BY first, then name."""
    return sorted(entries, key=lambda e: (_mean(e["overall"][RANK_BY]), e["method"]))


def _suite(entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    for e in entries:
        if e.get("kind") != "predictions":
            return e["suite"]
    return entries[0]["suite"] if entries else OFFICIAL_SUITE.describe()


def _authors(entry: Mapping[str, Any]) -> str:
    names = list(entry.get("authors") or [])
    return ", ".join(names[:3]) + (" et al." if len(names) > 3 else "")


def _loss(entries: Sequence[Mapping[str, Any]], env_id: str) -> str:
    for e in entries:
        if env_id in e["results"]:
            return LOSS_NAMES.get(e["results"][env_id]["loss"], str(e["results"][env_id]["loss"]))
    return "loss"


def split(entries: Sequence[Mapping[str, Any]]) -> tuple[list, list, list, list]:
    """(ranked methods, reference rows, methods with partial coverage, unverified prediction submissions)."""
    return ([e for e in entries if is_ranked(e)], ranked(e for e in entries if is_reference(e)),
            [e for e in entries if e.get("kind") == "method" and not is_ranked(e) and not is_reference(e)],
            ranked(e for e in entries if e.get("kind") == "predictions"))


def instance_sets(entries: Sequence[Mapping[str, Any]]) -> list[tuple[dict[str, list[int]], list[str]]]:
    """Distinct instance sets (env -> instance seeds) and the entries evaluated on each."""
    groups: dict[str, tuple[dict[str, list[int]], list[str]]] = {}
    for e in entries:
        if e.get("instances"):
            key = json.dumps(e["instances"], sort_keys=True)
            groups.setdefault(key, (e["instances"], []))[1].append(e["method"])
    return list(groups.values())


# ---------------------------------------------------------------- README.md


def _tag(e: Mapping[str, Any]) -> str:
    if e.get("kind") == "reference":
        return "reference"
    if e.get("kind") == "predictions":
        return "unverified"
    return "privileged" if e.get("privileged") else ("baseline" if e.get("baseline") else "")


def _md_name(e: Mapping[str, Any]) -> str:
    tag = _tag(e)
    return md(e["method"]) + (f" ({tag})" if tag and tag != "unverified" else "")


def _md_who(e: Mapping[str, Any]) -> str:
    who = md(_authors(e))
    link = safe_url(e.get("paper"))
    return who + (f" · [paper](<{link}>)" if link else "")


def _md_table(rows: Sequence[Mapping[str, Any]], numbered: bool, key: str = "overall") -> list[str]:
    head = ("| # " if numbered else "") + "| method | track | " + " | ".join(
        f"{label} ↓" for _, label in COLUMNS) + " | authors |"
    rule = ("|---:" if numbered else "") + "|---|---|" + "---|" * len(COLUMNS) + "---|"
    out = [head, rule]
    for i, e in enumerate(rows, 1):
        cells = " | ".join(fmt(e[key][m]) for m, _ in COLUMNS)
        out.append((f"| {i} " if numbered else "") + f"| {_md_name(e)} | {md(e['track'])} | {cells} | {_md_who(e)} |")
    return out


def readme(entries: Sequence[Mapping[str, Any]]) -> str:
    suite = _suite(entries)
    methods, references, partial, unverified = split(entries)
    lines = [
        "# causalbench leaderboard", "",
        "<!-- Generated by leaderboard/submit.py from entries/*.json: do not edit by hand. -->", "",
        f"Suite **{md(suite['id'])}** · {suite.get('instances', 0)} hidden instances per environment × training "
        f"seed(s) {', '.join(map(str, suite['seeds']))} · {suite.get('n_train', 'n/a')} training rows · "
        f"{suite['n_test']} rows per test set · benchmark version "
        f"{md(', '.join(sorted({str(e['benchmark_version']) for e in entries})) or 'n/a')}.", "",
        "Methods are trained and scored by the harness on **hidden instances** of every environment family, drawn "
        "from secret seeds at evaluation time and published below afterwards, each job in an isolated worker that "
        "sees only arrays. Cells are the mean and a 95% interval over the (instance, seed) units, each unit the "
        "mean over the environments; lower is better everywhere. Ranked by effect error (the error of the model's "
        "implied interventional contrasts: causal confusion), with OOD excess risk on link shifts and regret beside "
        "it. See *How entries are evaluated* below.", "",
    ]
    if not entries:
        lines += ["No entries yet.", ""]
    for track in TRACKS:
        rows = ranked(e for e in methods if e["track"] == track)
        if rows:
            lines += [f"## Ranked: {track}", "", *_md_table(rows, True), ""]
    if methods:
        lines += ["A method is ranked only in a suite it fully covers (every environment, no failed job).", ""]
    if references:
        lines += ["## References (not ranked)", "",
                  "Exact references and privileged methods (told which features are causal) on the same kind of "
                  "hidden instances: yardsticks, not competitors.", "", *_md_table(references, False), ""]
    lines += _per_env(entries, methods + partial + references, suite)
    lines += _skips(entries)
    if unverified:
        lines += ["## Unverified: prediction submissions (not ranked)", "",
                  "Predictions on the **public** instances, re-scored by the scorer. Public instances can be "
                  "computed from public code, so these numbers cannot be verified as a method's and are never "
                  "ranked. Cells: mean [95% interval] over seeds.", "", *_md_table(unverified, False), ""]
    lines += _instances_md(entries, suite)
    lines += [*HOW_EVALUATED, "", *HOW_TO_SUBMIT, "", *PREDICTION_FORMAT, "", "## Columns", "",
              "| column | meaning |", "|---|---|", *[f"| {md(name)} | {md(text)} |" for name, text in DEFINITIONS]]
    return "\n".join(lines).rstrip() + "\n"


def _per_env(entries: Sequence[Mapping[str, Any]], shown: Sequence[Mapping[str, Any]],
             suite: Mapping[str, Any]) -> list[str]:
    out = ["## Per environment", "",
           "Every method that covers the environment (also those that do not cover the whole suite) and the "
           "references; # ranks the non-reference methods.", ""] if shown else []
    for env_id in suite["envs"]:
        rows = sorted((e for e in shown if env_id in e["results"]),
                      key=lambda e: (_mean(e["results"][env_id]["summary"][RANK_BY]), e["method"]))
        if not rows:
            continue
        out += [f"### {md(env_id)} (version {md(env_id.rsplit('-', 1)[-1])}; excess risk in {_loss(entries, env_id)})",
                "", "| # | method | track | " + " | ".join(label for _, label in COLUMNS) + " |",
                "|---:|---|---|" + "---|" * len(COLUMNS)]
        rank = 0
        for e in rows:
            rank += 0 if is_reference(e) else 1
            summary = e["results"][env_id]["summary"]
            out.append(f"| {'ref' if is_reference(e) else rank} | {_md_name(e)} | {md(e['track'])} | "
                       + " | ".join(fmt(summary[m]) for m, _ in COLUMNS) + " |")
        out.append("")
    return out


def _skips(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [(e["method"], env, "not applicable", why) for e in ranked(entries)
            for env, why in sorted(e.get("not_applicable", {}).items())]
    rows += [(e["method"], env, "failed", why) for e in ranked(entries) for env, why in sorted(e.get("failures", {}).items())]
    if not rows:
        return []
    return ["## Not applicable or failed", "", "| method | environment | status | reason |", "|---|---|---|---|",
            *[f"| {md(m)} | {md(env)} | {status} | {md(why)} |" for m, env, status, why in rows], ""]


def _instances_md(entries: Sequence[Mapping[str, Any]], suite: Mapping[str, Any]) -> list[str]:
    out = ["## Instances and seeds (published after evaluation)", "",
           f"Training seeds {', '.join(map(str, suite['seeds']))}; evaluation sets use seed 1,000,000 + the training "
           "seed in their own streams. What each environment family randomises:", "",
           *[md(line) if not line.startswith("- `") else line for line in instance_spaces(suite["envs"])], ""]
    for i, (instances, names) in enumerate(instance_sets(entries), 1):
        out += [f"Instance set {i}, used by {', '.join(md(n) for n in sorted(names))}:", "",
                *[f"- {md(env)}: {', '.join(str(s) for s in seeds)}" for env, seeds in sorted(instances.items())], ""]
    return out


# ---------------------------------------------------------------- index.html


def _value(summary: Mapping[str, Any] | None) -> str:
    return "" if not summary or not summary.get("n") or summary.get("mean") is None else repr(float(summary["mean"]))


def _cell(summary: Mapping[str, Any] | None) -> str:
    return f'<td class="num" data-value="{_value(summary)}">{html.escape(fmt(summary))}</td>'


def _who(entry: Mapping[str, Any]) -> str:
    who = html.escape(_authors(entry))
    link = safe_url(entry.get("paper"))
    if link:
        who += f' · <a href="{html.escape(link, quote=True)}" rel="noopener noreferrer">paper</a>'
    return who


def _row(e: Mapping[str, Any], rank: str, summary: Mapping[str, Any], table: str) -> str:
    name = html.escape(e["method"], quote=True)
    kind = "reference" if is_reference(e) else ("unverified" if e.get("kind") == "predictions" else "method")
    badge = f' <span class="badge">{_tag(e)}</span>' if _tag(e) else ""
    color = TRACK_COLORS.get(e["track"], "#777")
    track = html.escape(e["track"], quote=True)
    return (f'<tr data-method="{name}" data-track="{track}" data-kind="{kind}">'
            f'<td class="num" data-value="{html.escape(rank, quote=True)}">{html.escape(rank)}</td>'
            f'<td data-value="{name}" title="{html.escape(str(e.get("description") or ""), quote=True)}">'
            f'{html.escape(e["method"])}{badge}</td><td data-value="{track}"><span class="dot" '
            f'style="background:{color}"></span>{html.escape(e["track"])}</td>'
            + "".join(_cell(summary[m]) for m, _ in COLUMNS)
            + (f'<td class="who">{_who(e)}</td>' if table != "env" else "") + "</tr>")


def _head(with_authors: bool = True) -> str:
    return ('<tr><th data-type="num">#</th><th>method</th><th>track</th>'
            + "".join(f'<th data-type="num">{html.escape(label)} ↓</th>' for _, label in COLUMNS)
            + ("<th>authors</th>" if with_authors else "") + "</tr>")


def _overall_table(methods: Sequence[Mapping[str, Any]], references: Sequence[Mapping[str, Any]]) -> str:
    rows, ranks = [], {t: 0 for t in TRACKS}
    for e in ranked(methods):
        ranks[e["track"]] = ranks.get(e["track"], 0) + 1
        rows.append(_row(e, str(ranks[e["track"]]), e["overall"], "overall"))
    rows += [_row(e, "ref", e["overall"], "overall") for e in references]
    return (f'<div class="scroll"><table class="sortable" id="overall"><thead>{_head()}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _unverified_table(entries: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(_row(e, "", e["overall"], "unverified") for e in entries)
    return (f'<div class="scroll"><table class="sortable" id="unverified"><thead>{_head()}</thead>'
            f"<tbody>{rows}</tbody></table></div>")


def _env_table(shown: Sequence[Mapping[str, Any]], entries: Sequence[Mapping[str, Any]], env_id: str) -> str:
    rows = sorted((e for e in shown if env_id in e["results"]),
                  key=lambda e: (_mean(e["results"][env_id]["summary"][RANK_BY]), e["method"]))
    if not rows:
        return ""
    body, rank = [], 0
    for e in rows:
        rank += 0 if is_reference(e) else 1
        body.append(_row(e, "ref" if is_reference(e) else str(rank), e["results"][env_id]["summary"], "env"))
    title = f"{env_id} — version {env_id.rsplit('-', 1)[-1]}, excess risk in {_loss(entries, env_id)}"
    return (f'<details><summary>{html.escape(title)}</summary>'
            f'<table class="sortable env" data-env="{html.escape(env_id, quote=True)}">'
            f"<thead>{_head(False)}</thead><tbody>{''.join(body)}</tbody></table></details>")


def html_page(entries: Sequence[Mapping[str, Any]]) -> str:
    suite = _suite(entries)
    methods, references, partial, unverified = split(entries)
    versions = ", ".join(sorted({str(e["benchmark_version"]) for e in entries})) or "n/a"
    meta = (f"Suite <b>{html.escape(str(suite['id']))}</b> · {int(suite.get('instances', 0))} hidden instances per "
            f"environment × training seed(s) {html.escape(', '.join(map(str, suite['seeds'])))} · "
            f"{int(suite['n_test'])} rows per test set · benchmark version {html.escape(versions)} · environments: "
            f"{html.escape(', '.join(suite['envs']))}. Methods are evaluated by the harness on hidden instances (secret "
            "seeds, published after evaluation), in isolated workers; cells are mean [95% interval] over (instance, "
            "seed) units. Ranked by effect error within each track; references are not ranked. Click a column to sort.")
    options = "".join(f'<option value="{t}">{t}</option>' for t in (*TRACKS, "reference")
                      if any(e["track"] == t for e in methods + references))
    shown = methods + partial + references
    body = ""
    if methods or references:
        body += _overall_table(methods, references)
        body += "<h2>Per environment</h2>" + "".join(_env_table(shown, entries, env) for env in suite["envs"])
    if unverified:
        body += ("<h2>Unverified: prediction submissions (not ranked)</h2><p class=\"meta\">Predictions on the public "
                 "instances, re-scored; they cannot be verified as a method's and are never ranked.</p>"
                 + _unverified_table(unverified))
    if not entries:
        body = "<p>No entries yet.</p>"
    defs = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in DEFINITIONS)
    return page(meta, options, body, defs, len(entries))


def build(entries: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The generated pages, by file name."""
    entries = sorted(entries, key=lambda e: e["method"])
    return {"README.md": readme(entries), "index.html": html_page(entries)}
