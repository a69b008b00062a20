"""Progress on stderr: a tqdm bar on a terminal, plain lines with a heartbeat everywhere else (CI logs).

`bar(...)` is the one way library code shows progress (ARCHITECTURE rule 8: results are printed by the CLI
only; progress on stderr is not a result). On a terminal, or in a notebook, it is a tqdm bar as before.
Where stderr is a file or a pipe it is `Lines`: one line when a stage ends, and one at least every
`EVERY` seconds while it runs, each saying what is being done, done/total and the elapsed time:

    genbench: features inception-v3-tf 512/1000 img (12 s)

A background thread prints the heartbeat even when one step outlasts it (a diffusion batch, a slow
network load); of nested bars (the metrics and each one's bootstrap) only the innermost beats.
`enabled=False` (the API's `progress=False`, the CLI's --quiet) prints nothing; under torchrun only rank 0
reports. The clock is injectable and the thread optional, so tests drive the heartbeat without sleeping.
May import: the standard library (tqdm inside `bar`).
"""
from __future__ import annotations

import sys
import threading
import time
import weakref
from typing import Any, Callable, Iterable, Iterator, TextIO

EVERY = 10.0  # seconds between heartbeat lines at most
_OPEN: list[weakref.ref] = []  # the printing bars now open, outermost first: only the innermost beats


def bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
        enabled: bool = True, initial: int = 0, leave: bool = True, position: int | None = None,
        stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic, every: float = EVERY,
        heartbeat: bool = True) -> Any:
    """A progress bar over `iterable` (or updated by hand up to `total`), tqdm's interface: iterate it,
    or `update(n)`, `set_postfix(...)`, `set_postfix_str(s)`, `close()`, use it as a context manager."""
    stream = sys.stderr if stream is None else stream
    enabled = enabled and main_rank()
    if enabled and interactive(stream):
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, leave=leave, position=position,
                    file=stream)
    return Lines(iterable, total=total, desc=desc, unit=unit, initial=initial,
                 stream=stream if enabled else None, clock=clock, every=every, heartbeat=heartbeat)


def main_rank() -> bool:
    """False on a torchrun rank other than 0: the ranks share the work and rank 0 reports it (torch is not
    imported here; without a process group every process is its own rank 0)."""
    dist = sys.modules.get("torch.distributed")
    return dist is None or not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def interactive(stream: TextIO) -> bool:
    """Whether a person watches `stream` live: a terminal, or a Jupyter kernel (tqdm draws a widget)."""
    try:
        return bool(stream.isatty()) or "ipykernel" in sys.modules
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def elapsed_text(seconds: float) -> str:
    return f"{seconds:.0f} s"


def _printable(text: str) -> str:
    """Control characters (from a file name, say) never reach the log as themselves."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


class Lines:
    """Progress as lines on a stream no one watches live; `stream=None` prints nothing (a disabled bar)."""

    def __init__(self, iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
                 unit: str = "it", initial: int = 0, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, every: float = EVERY, heartbeat: bool = True):
        self.iterable, self.desc, self.unit, self.n = iterable, _printable(desc), unit, initial
        self.total = total if total is not None else _length(iterable)
        self.stream, self.clock, self.every, self.postfix = stream, clock, every, ""
        self.start = self.last = clock()
        self.closed, self._lock, self._stop, self._said = False, threading.Lock(), threading.Event(), None
        if stream is not None:
            _OPEN.append(weakref.ref(self))
        if stream is not None and heartbeat:
            threading.Thread(target=_beat, args=(weakref.ref(self), self._stop, min(1.0, every)), daemon=True,
                             name=f"genbench progress {self.desc}").start()

    def line(self) -> str:
        done = f"{self.n}/{self.total}" if self.total is not None else f"{self.n}"
        extra = f", {self.postfix}" if self.postfix else ""
        return f"genbench: {self.desc} {done} {self.unit}{extra} ({elapsed_text(self.clock() - self.start)})"

    def _say(self) -> None:  # under self._lock
        self.last, self._said = self.clock(), (self.n, self.postfix)
        print(self.line(), file=self.stream, flush=True)

    def tick(self) -> None:
        """The heartbeat: a line if none was printed for `every` seconds (called by update and the thread)."""
        with self._lock:
            if self.stream is not None and not self.closed and self.clock() - self.last >= self.every:
                self._say()

    def update(self, n: int = 1) -> None:
        self.n += n
        self.tick()

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = _printable(s)

    def set_postfix(self, ordered_dict: dict | None = None, refresh: bool = True, **kwargs: Any) -> None:
        items = {**(ordered_dict or {}), **kwargs}
        self.set_postfix_str(", ".join(f"{k}={v}" for k, v in items.items()))

    def close(self, finished: bool = True) -> None:
        """End the stage: its last line (unless it failed, or nothing is shown), and the heartbeat stops."""
        self._stop.set()
        _OPEN[:] = [r for r in _OPEN if r() not in (None, self)]
        with self._lock:
            if finished and self.stream is not None and not self.closed and self._said != (self.n, self.postfix):
                self._say()  # the stage's last line, unless the heartbeat just said the same
            self.closed = True

    def __iter__(self) -> Iterator:
        finished = False
        try:
            for item in self.iterable or ():
                yield item
                self.update()
            finished = True
        finally:
            self.close(finished)

    def __enter__(self) -> "Lines":
        return self

    def __exit__(self, kind: type | None, *rest: Any) -> None:
        self.close(finished=kind is None)


def _length(iterable: Iterable | None) -> int | None:
    try:
        return len(iterable)  # type: ignore[arg-type]
    except TypeError:
        return None


def _beat(ref: "weakref.ref[Lines]", stop: threading.Event, period: float) -> None:
    """The heartbeat thread: ticks until the bar closes or is gone."""
    while not stop.wait(period):
        lines = ref()
        if lines is None:
            return
        if _OPEN and _OPEN[-1]() is lines:
            lines.tick()
        del lines
