"""A small typed registry: names -> objects, with lazy "module:attr" entries.

One generic registry instead of name lists or if/elif factories (lm-eval-harness
style). Built-in entries live in plugin packages (`causalbench.envs`,
`causalbench.baselines`) that are imported on first lookup, so `import
causalbench` stays cheap and the core never imports an env or method by name.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterator, TypeVar

from .errors import RegistryError, missing_dependency

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered name: the object (or a lazy "module:attr" string) plus metadata."""

    name: str
    target: T | str
    summary: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def load_entry_point(path: str, what: str | None = None) -> Any:
    """Import "package.module:attr" and return the attribute (a missing optional package: one line naming
    the extra that installs it)."""
    module, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as err:
        missing = missing_dependency(err, what or path)
        if missing is None:
            raise
        raise missing from None
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Name -> object mapping; duplicate names are an error, unknown names suggest close matches."""

    def __init__(self, kind: str, plugins: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self._plugins = plugins
        self._loaded = False
        self._entries: dict[str, Entry[T]] = {}
        self._resolved: dict[str, T] = {}

    def register(
        self, name: str, target: T | str | None = None, *, summary: str = "", **meta: Any
    ) -> Callable[[T], T] | T | str:
        """Register `target` under `name`; without a target, act as a class decorator."""
        if target is None:
            def decorator(obj: T) -> T:
                self.register(name, obj, summary=summary, **meta)
                return obj

            return decorator
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, target, summary, dict(meta))
        return target

    def unregister(self, name: str) -> None:
        """Remove a name (tests use this to clean up after themselves)."""
        self._entries.pop(name, None)
        self._resolved.pop(name, None)

    def _load_plugins(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._plugins:
                importlib.import_module(module)

    def entry(self, name: str) -> Entry[T]:
        """The registry entry for `name`, with a helpful error when unknown."""
        self._load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(str(name), list(self._entries), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(self._entries))}"
            raise RegistryError(f"unknown {self.kind} {name!r}{hint}") from None

    def get(self, name: str) -> T:
        """The object registered under `name`, importing it on first use if lazy."""
        if name not in self._resolved:
            target = self.entry(name).target
            self._resolved[name] = (load_entry_point(target, f"{self.kind} {name!r}") if isinstance(target, str)
                                    else target)
        return self._resolved[name]

    def names(self) -> list[str]:
        self._load_plugins()
        return list(self._entries)

    def entries(self) -> list[Entry[T]]:
        self._load_plugins()
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
