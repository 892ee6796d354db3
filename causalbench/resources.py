"""Memory and disk budgets: refuse, in one line, work that cannot fit instead of trying to allocate it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import DataError

GB = 1 << 30
CHECK_ABOVE = 1 << 28  # smaller requests are not checked (reading /proc/meminfo costs ~20 us)


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable on Linux, else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 62


def human(nbytes: float) -> str:
    """1.5e9 -> '1.4 GB'; huge values in scientific notation."""
    for unit, size in (("TB", 1 << 40), ("GB", GB), ("MB", 1 << 20)):
        if nbytes >= size:
            value = nbytes / size
            return f"{value:.3g} {unit}" if value < 1e6 else f"{value:.2e} {unit}"
    return f"{int(nbytes)} bytes"


STREAM_HINT = "stream it to disk in chunks with `causalbench generate ENV --n N --out FILE`"


def check_memory(nbytes: float, what: str, hint: str = STREAM_HINT) -> None:
    """Raise DataError (one line) when `what` needs more memory than is available."""
    if nbytes > CHECK_ABOVE and nbytes > available_memory():
        raise DataError(f"{what} needs ~{human(nbytes)} of memory, more than the {human(available_memory())} "
                        f"available; {hint}")


def check_disk(nbytes: float, path: str | Path, what: str) -> None:
    """Raise DataError (one line) when writing `what` to `path` needs more disk than is free there."""
    folder = Path(path).resolve().parent
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if nbytes > free:
        raise DataError(f"{what} needs ~{human(nbytes)} of disk, more than the {human(free)} free in {folder}")
