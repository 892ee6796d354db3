"""The method registry: names -> lazy "module:Class" entries with the track and protocol they run on."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import CausalBenchError
from ..registry import Registry, load_entry_point
from .base import PROTOCOLS, TRACKS, Method, Task


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: its class plus the track and protocol it runs on."""

    name: str
    cls: type[Method]
    track: str
    protocol: str
    summary: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def build(self, task: Task, seed: int = 0, **overrides: Any) -> Method:
        fields = {f.name for f in dataclasses.fields(self.cls.Params)}
        unknown = set(self.params) | set(overrides)
        unknown -= fields
        if unknown:
            raise CausalBenchError(f"method {self.name!r} has no hyper-parameter(s) {sorted(unknown)}; has {sorted(fields)}")
        return self.cls(task, self.cls.Params(**{**self.params, **overrides}), seed)


METHODS: Registry[type[Method]] = Registry("method", plugins=("causalbench.baselines",))


def register_method(name: str, entry_point: str | type[Method], *, summary: str, track: str | None = None,
                    protocol: str | None = None, main_run: bool = True, **params: Any) -> None:
    """Register a method under `name` (lazily, by "module:Class"); track/protocol default to the class's.
    `main_run=False`: a study's method that `causalbench run` and the official baselines leave out unless named."""
    if track is not None and track not in TRACKS:
        raise CausalBenchError(f"unknown track {track!r}; tracks: {', '.join(TRACKS)}")
    if protocol is not None and protocol not in PROTOCOLS:
        raise CausalBenchError(f"unknown protocol {protocol!r}; protocols: {', '.join(PROTOCOLS)}")
    METHODS.register(name, entry_point, summary=summary, track=track, protocol=protocol, params=params,
                     tracks=(track,) if track else (), main_run=main_run)


def main_run_methods() -> list[str]:
    """The registered methods `causalbench run` trains when none are named (and the leaderboard's baselines)."""
    return [m for m in METHODS.names() if METHODS.entry(m).meta.get("main_run", True)]


METHOD_SETS: Registry[tuple[str, ...]] = Registry("method set", plugins=("causalbench.baselines",))


def register_method_set(name: str, methods: tuple[str, ...] | list[str], *, summary: str = "") -> None:
    """Register a named list of methods (e.g. "scaling", what `causalbench scaling` trains by default)."""
    if not methods:
        raise CausalBenchError(f"method set {name!r} is empty")
    METHOD_SETS.register(name, tuple(methods), summary=summary)


def method_set(name: str) -> tuple[str, ...]:
    """The method names of a registered method set."""
    return METHOD_SETS.get(name)


ENTRY_POINT_GROUP = "causalbench.methods"


def method_spec(name: str) -> MethodSpec:
    """Resolve a method: a registered name, a "package.module:Class" spec, or a name an installed package
    exposes in the `causalbench.methods` entry-point group. Specs and entry points work in worker
    processes too (they are imported by name), so outside methods run under --jobs > 1."""
    if name in METHODS:
        entry = METHODS.entry(name)
        cls = METHODS.get(name)
        track = entry.meta.get("track") or cls.track
        protocol = entry.meta.get("protocol") or cls.protocol
        return MethodSpec(name, cls, track, protocol, entry.summary, dict(entry.meta.get("params") or {}))
    if ":" in name:
        try:
            cls = _import_spec(name)
        except (ImportError, AttributeError) as err:
            raise CausalBenchError(f"cannot import method {name!r}: {err}") from None
        return _outside_spec(name, cls)
    found = _entry_points().get(name)
    if found is not None:
        return _outside_spec(name, found.load())
    METHODS.entry(name)  # raises the registry's one-line "unknown method ... did you mean" error
    raise AssertionError("unreachable")


def _import_spec(name: str) -> Any:
    """Import a "module:Class" spec; a module in the working directory is found as `python -m` would find it
    (the directory is appended to sys.path, after everything installed, and worker processes inherit it)."""
    try:
        return load_entry_point(name)
    except ModuleNotFoundError as err:
        here = os.getcwd()
        top = name.split(":", 1)[0].split(".")[0]
        local = (Path(here) / top).is_dir() or (Path(here) / f"{top}.py").is_file()
        if err.name != top or here in sys.path or not local:
            raise
        sys.path.append(here)
        return load_entry_point(name)


def _outside_spec(name: str, cls: Any) -> MethodSpec:
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise CausalBenchError(f"{name!r} is not a causalbench Method subclass (got {cls!r})")
    if cls.track not in TRACKS or cls.protocol not in PROTOCOLS:
        raise CausalBenchError(f"{name!r}: track {cls.track!r} / protocol {cls.protocol!r} unknown")
    summary = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
    return MethodSpec(name, cls, cls.track, cls.protocol, summary, {})


def _entry_points() -> dict[str, Any]:
    """Methods installed packages expose in the `causalbench.methods` entry-point group."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def installed_methods() -> list[str]:
    """Names of the methods installed packages expose (entry points), for `causalbench list --methods`."""
    return sorted(_entry_points())
