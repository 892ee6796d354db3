"""Publishing entries: one lock around check + write + render, and a transaction that leaves either the new
state or the old one, byte for byte.

`commit(entries, root)` takes the leaderboard's lock (`fcntl.flock` on `<root>/.lock`, waiting for other
publishers), re-reads the entries, checks the new ones against them (names, suite, the replace guard),
renders the pages of the result in memory, then writes every changed file through `transaction`: all files
are staged in a temporary folder inside `root`, the current ones hard-linked aside, and the staged ones
swapped in; if any step fails (a full disk, a failing rename), the swapped files are put back and the
leaderboard is exactly as it was.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import SubmissionError
from .entries import Entry
from .names import check_text, entry_name
from .render import build as render_pages

LOCK = ".lock"
STAGING, BACKUP = ".staging-", ".backup-"


class LeaderboardLock:
    """An exclusive, blocking lock on a leaderboard folder (concurrent publishers wait their turn)."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / LOCK
        self._fd: int | None = None

    def __enter__(self) -> "LeaderboardLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: Any) -> None:
        import fcntl

        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def load_entries(root: Path) -> dict[str, Entry]:
    """The entries of a leaderboard folder, by name."""
    folder = Path(root) / "entries"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def transaction(root: Path, files: Mapping[str, bytes | None]) -> None:
    """Replace (bytes) or delete (None) files under `root` all together: on any failure, nothing changed."""
    root = Path(root)
    made: list[Path] = []   # temporary folders, then folders the swap had to create
    done: list[str] = []
    try:
        stage = Path(tempfile.mkdtemp(prefix=STAGING, dir=root))
        made.append(stage)
        backup = Path(tempfile.mkdtemp(prefix=BACKUP, dir=root))
        made.append(backup)
        for i, (rel, data) in enumerate(files.items()):
            if data is not None:
                _write(stage / str(i), data)
        for rel in files:
            if (root / rel).exists():
                os.link(root / rel, backup / rel.replace("/", "%"))
        for i, (rel, data) in enumerate(files.items()):
            target = root / rel
            if not target.parent.exists():
                target.parent.mkdir(parents=True)
                made.append(target.parent)
            done.append(rel)
            if data is None:
                if target.exists():
                    os.unlink(target)
            else:
                os.replace(stage / str(i), target)
        for folder in {(root / rel).parent for rel in files}:
            _fsync_dir(folder)
    except BaseException:
        if len(made) >= 2:
            _roll_back(root, made[1], done)
        for folder in made[2:]:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        for folder in made[:2]:
            shutil.rmtree(folder, ignore_errors=True)


def _roll_back(root: Path, backup: Path, done: Sequence[str]) -> None:
    """Put back every file a failed transaction touched (hard links keep the old bytes; renames need no space)."""
    for rel in reversed(done):
        saved, target = backup / rel.replace("/", "%"), root / rel
        if saved.exists():
            os.rename(saved, target)
        elif target.exists():
            os.unlink(target)


def commit(new: Sequence[Entry], root: str | Path, *, replace: bool = False, reserved: Sequence[str] = (),
           remove: Sequence[str] = ()) -> list[Path]:
    """Add (or with `replace`, overwrite) entries and drop `remove`d ones under the lock; re-render the pages.

    `reserved`: names no non-baseline entry may take or resemble (built-in methods and references).
    """
    root = Path(root)
    named = []
    for e in new:   # everything that does not depend on the leaderboard's state is checked before the lock
        check_text(e, f"entry {str(e.get('method'))[:40]!r}")
        name = entry_name(e["method"], [r for r in reserved if not (e.get("baseline") and r == e.get("method"))])
        named.append({**e, "method": name})
    with LeaderboardLock(root):
        entries = load_entries(root) if (root / "entries").is_dir() else {}
        files: dict[str, bytes | None] = {}
        for e in named:
            name = e["method"]
            old = entries.get(name)
            if old is not None and old.get("baseline") and not e.get("baseline"):
                raise SubmissionError(f"{name!r} is a built-in baseline's entry; name your method differently")
            if old is not None and not replace:
                raise SubmissionError(f"an entry for {name!r} exists; pass --replace to overwrite it")
            suites = {x.get("suite", {}).get("id") for x in entries.values() if x.get("method") != name}
            if suites - {e["suite"]["id"]}:
                raise SubmissionError(f"{root} holds entries for suite {sorted(map(str, suites))[0]!r}, "
                                      f"not {e['suite']['id']!r}")
            entries[name] = e
            files[f"entries/{name}.json"] = (json.dumps(e, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
        for name in remove:
            if name in entries:
                del entries[name]
                files[f"entries/{name}.json"] = None
        for page, text in render_pages(list(entries.values())).items():
            files[page] = text.encode("utf-8")
        try:
            transaction(root, files)
        except OSError as err:
            raise _disk_error(err, root) from None
    return [root / rel for rel in files if rel.startswith("entries/") and files[rel] is not None]


def render(root: str | Path) -> list[Path]:
    """Regenerate the pages of a leaderboard folder from its entries (under the lock, atomically)."""
    root = Path(root)
    with LeaderboardLock(root):
        pages = render_pages(list(load_entries(root).values()))
        transaction(root, {name: text.encode("utf-8") for name, text in pages.items()})
    return [root / name for name in pages]


def _disk_error(err: OSError, root: Path) -> SubmissionError:
    what = {errno.ENOSPC: "the disk is full", errno.EROFS: "it is read-only", errno.EACCES: "permission denied",
            errno.EDQUOT: "over the disk quota"}.get(err.errno or 0, err.strerror or str(err))
    return SubmissionError(f"cannot publish to {root} ({what}); the leaderboard is unchanged")
