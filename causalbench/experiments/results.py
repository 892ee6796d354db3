"""Run folders on disk: append-only JSON-lines records (torn lines tolerated) and the saved configuration."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import CausalBenchError

SCHEMA_VERSION = 1
RESULTS_FILE = "results.jsonl"
CONFIG_FILE = "config.json"


def saved_config(directory: str | Path, name: str = CONFIG_FILE) -> dict[str, Any]:
    """The configuration a run or sweep folder was started with (for --resume)."""
    path = Path(directory) / name
    if not path.exists():
        raise CausalBenchError(f"nothing to resume: {path} does not exist")
    return json.loads(path.read_text())["config"]


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records of a results file; a torn last line (an interrupted write) is ignored."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.exists():
        raise CausalBenchError(f"no results file at {path}")
    records = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("schema") == SCHEMA_VERSION:
            records.append(rec)
    return records


def append_records(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """Append whole records in one write and fsync: never a half job, never a duplicate."""
    payload = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    with open(path, "a+b") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                payload = "\n" + payload  # a torn line from an interrupted run stays isolated
        fh.write(payload.encode())
        fh.flush()
        os.fsync(fh.fileno())


def finished_keys(records: Iterable[dict[str, Any]]) -> set[str]:
    """Keys of jobs whose every stage is recorded."""
    stages: dict[str, set[int]] = {}
    total: dict[str, int] = {}
    for r in records:
        stages.setdefault(r["key"], set()).add(r["stage"])
        total[r["key"]] = r["n_stages"]
    return {k for k, s in stages.items() if len(s) == total[k]}
