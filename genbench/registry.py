"""One generic registry for every extension point: datasets, extractors, metrics, protocols, models."""
from __future__ import annotations

import difflib
import re
from typing import Callable, Generic, Iterator, TypeVar

from genbench.errors import UnknownNameError

T = TypeVar("T")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


class Registry(Generic[T]):
    """Maps validated lowercase names to objects; unknown names raise with a "did you mean" hint."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, obj: T) -> T:
        if not _NAME.match(name):
            raise ValueError(f"invalid {self.kind} name {name!r}: use lowercase letters, digits, '-', '_', '.'")
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj
        return obj

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            return self.add(name, obj)

        return deco

    def get(self, name: str) -> T:
        if name in self._items:
            return self._items[name]
        close = difflib.get_close_matches(name, list(self._items), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(sorted(self._items))
        raise UnknownNameError(f"unknown {self.kind} {name!r}{hint} (known: {known})")

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._items.items()))

    def __len__(self) -> int:
        return len(self._items)
