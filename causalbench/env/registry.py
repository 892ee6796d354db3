"""The environment registry: ids -> lazy "module:Class" entries, `make`, and named suites of ids.

Built-in environments and suites are registered by the `causalbench.envs` plugin package on
first lookup; the core never names one.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Sequence

from ..errors import CausalBenchError
from ..registry import Registry
from .ids import ENV_ID

ENVS: Registry[Any] = Registry("environment", plugins=("causalbench.envs",))
SUITES: Registry[tuple[str, ...]] = Registry("suite", plugins=("causalbench.envs",))


def register_env(env_id: str, entry_point: Any, *, summary: str = "", gym_entry_point: str | None = None,
                 vector_entry_point: str | None = None, **meta: Any) -> None:
    """Register an environment id (lazily, by "module:Class") with a one-line summary."""
    if not ENV_ID.match(env_id):
        raise CausalBenchError(f"environment id {env_id!r} must look like Name-v0")
    ENVS.register(env_id, entry_point, summary=summary, gym_entry_point=gym_entry_point,
                  vector_entry_point=vector_entry_point, **meta)


def register_suite(name: str, env_ids: Sequence[str], *, summary: str = "") -> None:
    """Register a named list of environment ids (e.g. "default", the suite `causalbench run` uses)."""
    ids = tuple(env_ids)
    bad = [e for e in ids if not ENV_ID.match(e)]
    if bad or not ids:
        raise CausalBenchError(f"suite {name!r} needs environment ids like Name-v0, got {list(ids)}")
    SUITES.register(name, ids, summary=summary)


def suite(name: str) -> tuple[str, ...]:
    """The environment ids of a registered suite."""
    return SUITES.get(name)


def list_envs(include_deprecated: bool = False) -> list[str]:
    """Registered environment ids, e.g. ["IceCreamShorts-v1", ...]; superseded versions only on request."""
    return [e.name for e in ENVS.entries() if include_deprecated or not e.meta.get("deprecated")]


def make(env_id: str, **options: Any) -> Any:
    """Instantiate a registered environment; options (e.g. RandomSCM parameters) go to its constructor.

    Options are checked against the constructor's signature first, so a misspelt option is a
    one-line error naming the accepted ones, never silently ignored. A superseded version still
    builds (its meaning never changes) but warns, naming its successor.
    """
    newer = ENVS.entry(env_id).meta.get("deprecated")
    if newer:
        warnings.warn(f"{env_id} is superseded by {newer} (see its Version History)", DeprecationWarning, stacklevel=2)
    cls = ENVS.get(env_id)
    accepted, open_ended = constructor_options(cls)
    unknown = sorted(set(options) - set(accepted))
    if unknown and not open_ended:
        takes = f"accepted options: {', '.join(accepted)}" if accepted else "it takes no options"
        raise CausalBenchError(f"{env_id}: bad options {unknown}: {takes}")
    try:
        return cls(**options)
    except TypeError as err:
        raise CausalBenchError(f"{env_id}: bad options {sorted(options)}: {err}") from None


def constructor_options(cls: Any) -> tuple[tuple[str, ...], bool]:
    """(named keyword options of `cls.__init__`, whether it also takes arbitrary ones).

    The environment base class's generic `**options` does not count as taking arbitrary options:
    only an environment that defines its own `**kwargs` constructor does.
    """
    init = getattr(cls, "__init__", None)
    try:
        params = list(inspect.signature(init).parameters.values())[1:]
    except (TypeError, ValueError):
        return (), True
    named = tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    core = getattr(init, "__module__", "").startswith(__name__.rsplit(".", 1)[0] + ".")
    return named, var_kw and not core
