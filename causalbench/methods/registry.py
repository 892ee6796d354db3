"""The method registry: names -> lazy "module:Class" entries with the track and protocol they run on."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import CausalBenchError
from ..registry import Registry
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
                    protocol: str | None = None, **params: Any) -> None:
    """Register a method under `name` (lazily, by "module:Class"); track/protocol default to the class's."""
    if track is not None and track not in TRACKS:
        raise CausalBenchError(f"unknown track {track!r}; tracks: {', '.join(TRACKS)}")
    if protocol is not None and protocol not in PROTOCOLS:
        raise CausalBenchError(f"unknown protocol {protocol!r}; protocols: {', '.join(PROTOCOLS)}")
    METHODS.register(name, entry_point, summary=summary, track=track, protocol=protocol, params=params,
                     tracks=(track,) if track else ())


def method_spec(name: str) -> MethodSpec:
    """Resolve a registered method (imports its module on first use)."""
    entry = METHODS.entry(name)
    cls = METHODS.get(name)
    track = entry.meta.get("track") or cls.track
    protocol = entry.meta.get("protocol") or cls.protocol
    return MethodSpec(name, cls, track, protocol, entry.summary, dict(entry.meta.get("params") or {}))
