"""One generic registry for every extension point: datasets, extractors, metrics, protocols, models.

An object that carries a `name` attribute (metric classes, ExtractorSpec, Protocol, ...) must be
registered under that same name; `import_submodules` lets a package register every module it holds
without a hand-kept import list.
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
from typing import Callable, Generic, Iterator, TypeVar

from genbench.errors import RegistrationError, UnknownNameError

T = TypeVar("T")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def suggest(name: str, names: list[str], n: int = 3) -> list[str]:
    """Up to n distinct known names close to an unknown one, closest first (the "did you mean" of every error).
    Callers may pass names with repeats (outputs of several metrics, several spaces): each is offered once."""
    return difflib.get_close_matches(name, list(dict.fromkeys(names)), n=n, cutoff=0.5)


def hint(name: str, names: list[str]) -> str:
    """' (did you mean ...?)' for the closest known name, or ''."""
    close = suggest(name, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Registry(Generic[T]):
    """Maps validated lowercase names to objects; unknown names raise with a "did you mean" hint."""

    def __init__(self, kind: str, check: Callable[[T], None] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._check = check  # validates an entry at registration (raises RegistrationError naming the problem)

    def add(self, name: str, obj: T) -> T:
        if not _NAME.match(name):
            raise RegistrationError(f"invalid {self.kind} name {name!r}: use lowercase letters, digits, '-', '_', '.'")
        if name in self._items:
            raise RegistrationError(f"{self.kind} {name!r} is already registered")
        own = getattr(obj, "name", None)
        if isinstance(own, str) and own != name:
            raise RegistrationError(f"{self.kind} {name!r}: the object's name attribute is {own!r}; they must agree")
        if self._check is not None:
            self._check(obj)
        self._items[name] = obj
        return obj

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            return self.add(name, obj)

        return deco

    def get(self, name: str) -> T:
        if name in self._items:
            return self._items[name]
        close = suggest(name, list(self._items))
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


def import_submodules(package: str, skip: Callable[[str], bool] = lambda name: False) -> list[str]:
    """Import every module of `package` and of its subpackages, except private ones and those `skip`
    names (a dotted name relative to `package`; a skipped subpackage is skipped whole); returns the
    imported names. Each module registers its entries on import."""
    names: list[str] = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if info.name.startswith("_") or skip(info.name):
            continue
        if info.ispkg:
            names += [f"{info.name}.{sub}" for sub in import_submodules(f"{package}.{info.name}")]
        else:
            importlib.import_module(f"{package}.{info.name}")
            names.append(info.name)
    return sorted(names)
