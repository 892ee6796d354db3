"""Method requests: how an outside method asks to be evaluated for the official leaderboard.

A request is a small JSON file (`leaderboard/requests/<name>.json`, added by a pull request or pasted into an
issue): format `causalbench-method-request`, the leaderboard `name`, the `method` (a "module:Class" path or an
entry-point name in the group `causalbench.methods`), pinned `requirements`, `authors` and optional `paper`,
`code`, `description`, `hparams`. The maintainer installs the requirements and runs
`python leaderboard/submit.py --request FILE`: the harness evaluates the method itself (`evaluate_method`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import SubmissionError
from .evaluate import About
from .names import check_text, entry_name
from .validate import builtin_names

REQUEST_FORMAT = "causalbench-method-request"
REQUEST_BYTES = 64 << 10
FIELDS = {"format", "name", "method", "requirements", "authors", "paper", "code", "description", "hparams"}
# An exact pin ("pkg==1.2.3", extras allowed) or a git URL at a commit ("pkg @ git+https://...@<40 hex>").
PINNED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?(==[A-Za-z0-9.+!-]+"
                    r"| @ git\+https://[^\s@]+@[0-9a-f]{40})")
METHOD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.]*|[a-z0-9][a-z0-9-]{0,63}")


@dataclass(frozen=True)
class MethodRequest:
    """A parsed, checked method request."""

    about: About
    method: str
    requirements: tuple[str, ...]
    hparams: Mapping[str, Any] = field(default_factory=dict)


def read_request(path: str | Path) -> MethodRequest:
    """Parse and check a request file (one-line `SubmissionError` for anything wrong)."""
    path = Path(path)
    try:
        raw = path.read_bytes()[:REQUEST_BYTES + 1]
    except OSError as err:
        raise SubmissionError(f"cannot read request {path.name}: {err.strerror}") from None
    if len(raw) > REQUEST_BYTES:
        raise SubmissionError(f"request {path.name} is larger than {REQUEST_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SubmissionError(f"request {path.name} is not UTF-8 JSON: {str(err)[:80]}") from None
    if not isinstance(data, dict) or data.get("format") != REQUEST_FORMAT:
        raise SubmissionError(f"request {path.name}: format must be {REQUEST_FORMAT!r}")
    check_text(data, "request")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise SubmissionError(f"request {path.name}: unknown field {unknown[0]!r}; fields: {', '.join(sorted(FIELDS))}")
    method = data.get("method")
    if not isinstance(method, str) or not METHOD.fullmatch(method):
        raise SubmissionError(f"request {path.name}: method must be 'package.module:Class' or an entry-point name")
    requirements = data.get("requirements")
    if not isinstance(requirements, list) or not all(isinstance(r, str) and PINNED.fullmatch(r) for r in requirements):
        raise SubmissionError(f"request {path.name}: requirements must be a list of exact pins ('pkg==1.2.3' or "
                              "'pkg @ git+https://...@<commit>')")
    hparams = data.get("hparams", {})
    if not isinstance(hparams, dict):
        raise SubmissionError(f"request {path.name}: hparams must be an object")
    authors = data.get("authors")
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise SubmissionError(f"request {path.name}: authors must be a list of names")
    for key in ("paper", "code", "description"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise SubmissionError(f"request {path.name}: {key} must be text")
    about = About(entry_name(data.get("name"), builtin_names()), tuple(authors), data.get("paper"), data.get("code"),
                  data.get("description"))
    return MethodRequest(about, method, tuple(requirements), dict(hparams))
