"""Run folders on disk: append-only JSON-lines records, the saved configuration, and the folder lock.

Records are appended whole (one write per job, fsynced); a torn last line from an interrupted
write is ignored, and readers keep the first record of every (job key, stage), so nothing is
ever counted twice. A sweep holds an exclusive lock on its folder while it runs.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import CausalBenchError

SCHEMA_VERSION = 2
RESULTS_FILE = "results.jsonl"
CONFIG_FILE = "config.json"
LOCK_FILE = ".lock"


def disk_error(err: OSError, path: Path) -> CausalBenchError:
    """A one-line error for what the disk refused (read-only, full, missing permission)."""
    what = {errno.EROFS: "is on a read-only file system", errno.ENOSPC: "is on a full disk",
            errno.EACCES: "is not writable (permission denied)", errno.EDQUOT: "is over its disk quota"}
    return CausalBenchError(f"cannot write {path}: it {what.get(err.errno, f'failed ({err.strerror})')}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and os.replace: readers never see half a file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o666 & ~_umask())   # what open() would give (mkstemp makes it private)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as err:
        raise disk_error(err, path) from None


def saved_config(directory: str | Path, name: str = CONFIG_FILE) -> dict[str, Any]:
    """The configuration a run or sweep folder was started with (for --resume)."""
    path = Path(directory) / name
    if not path.exists():
        raise CausalBenchError(f"nothing to resume: {path} does not exist")
    try:
        return json.loads(path.read_text())["config"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise CausalBenchError(f"{path} is not a causalbench configuration file") from None


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records of a results file (or run folder): torn lines ignored, the first record of each (key, stage) kept."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.exists():
        raise CausalBenchError(f"no results file at {path}")
    records, seen = [], set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("schema") == SCHEMA_VERSION:
            ident = (rec.get("key"), rec.get("stage"))
            if ident not in seen:
                seen.add(ident)
                records.append(rec)
    return records


def append_records(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """Append whole records in one write and fsync: never a half job."""
    payload = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    try:
        with open(path, "a+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    payload = "\n" + payload  # a torn line from an interrupted run stays isolated
            fh.write(payload.encode())
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        raise disk_error(err, path) from None


def recorded_stages(records: Iterable[dict[str, Any]]) -> dict[str, set[int]]:
    """Job key -> the stages already recorded."""
    out: dict[str, set[int]] = {}
    for r in records:
        out.setdefault(r["key"], set()).add(r["stage"])
    return out


class FolderLock:
    """An exclusive lock on a run folder: a second sweep into the same folder refuses in one line."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / LOCK_FILE
        self._fh: Any = None

    def __enter__(self) -> "FolderLock":
        import fcntl

        try:
            self._fh = open(self.path, "a+")
        except OSError as err:
            raise disk_error(err, self.path) from None
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            raise CausalBenchError(f"{self.path.parent} is in use by another causalbench process; "
                                   "wait for it or write to another --out") from None
        return self

    def __exit__(self, *exc: Any) -> None:
        import fcntl

        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()
