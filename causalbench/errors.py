"""User-facing errors: one exception family, always a one-line message."""

from __future__ import annotations


class CausalBenchError(Exception):
    """Base class for every error caused by user input; `str(err)` is a single line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class SCMError(CausalBenchError):
    """An SCM specification is invalid (cycle, unknown parent, bad table, bad roles...)."""


class InterventionError(CausalBenchError):
    """An intervention names an unknown variable or an invalid value."""


class RegistryError(CausalBenchError):
    """An unknown or duplicate name in a registry."""


class DataError(CausalBenchError):
    """A dataset, array or file is malformed."""


class ScoringError(CausalBenchError):
    """Predictions handed to the scorer are malformed or incomplete."""


class SubmissionError(CausalBenchError):
    """A leaderboard submission failed validation or re-scoring."""


class MissingDependency(CausalBenchError):
    """An optional third-party package (torch, pgmpy, ...) is not installed; the message names the extra."""


DISTRIBUTION = "causalbench-suite"
# optional top-level modules -> the extra that installs them
EXTRAS = {"torch": "torch", "pgmpy": "pgmpy", "minari": "minari", "ray": "ray", "sklearn": "all",
          "stable_baselines3": "rl"}


def missing_dependency(err: ImportError, what: str) -> MissingDependency | None:
    """The one-line error for `what` failing to import an optional package, or None for any other import error."""
    root = (getattr(err, "name", None) or "").split(".")[0]
    extra = EXTRAS.get(root)
    if extra is None:
        return None
    return MissingDependency(f"{what} needs {root}, which is not installed: pip install '{DISTRIBUTION}[{extra}]'")
