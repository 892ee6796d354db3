"""Test utilities shipped with the package: conformance checks for methods and error assertions.

Third-party methods and environments can run the same checks the built-in ones pass.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from .errors import CausalBenchError


@contextlib.contextmanager
def one_line_error(match: str | None = None, kind: type[Exception] = CausalBenchError) -> Iterator[None]:
    """Expect an error of `kind` whose message is a single non-empty line (containing `match`)."""
    try:
        yield
    except kind as err:
        message = str(err)
        assert message and "\n" not in message, f"expected a one-line message, got {message!r}"
        assert match is None or match in message, f"{match!r} not in {message!r}"
    else:
        raise AssertionError(f"expected {kind.__name__}{f' matching {match!r}' if match else ''}, nothing raised")
