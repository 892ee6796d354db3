"""Provenance stamped on every record: package version and the git commit of the code that ran."""

from __future__ import annotations

import subprocess
from pathlib import Path

# The benchmark version: scores from different minor versions are not comparable (see README "Metrics").
VERSION = "0.2.0"


def git_hash() -> str | None:
    """The commit of the working tree the package runs from (None outside a git checkout)."""
    try:
        root = Path(__file__).resolve().parents[1]
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
