"""genbench.progress: tqdm on a terminal, lines with a 10 s heartbeat elsewhere, nothing when disabled.

Time is a fake clock throughout: no test sleeps.
"""
from __future__ import annotations

import io
import re

import pytest

from genbench import progress
from genbench.progress import Lines, bar

LINE = re.compile(r"^genbench: (?P<what>.+) (?P<done>\d+)/(?P<total>\d+) (?P<unit>\S+)(?:, .*)? \((?P<s>\d+) s\)$")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _times(text: str) -> list[int]:
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, line
        out.append(int(m["s"]))
    return out


def test_a_long_stage_prints_a_line_at_least_every_10_s():
    """1000 images in batches that take 25 s each (longer than the heartbeat); the heartbeat thread's tick
    comes every second, as `_beat` calls it."""
    clock, log = Clock(), io.StringIO()
    b = bar(total=1000, desc="features inception-v3-tf", unit="img", stream=log, clock=clock, heartbeat=False)
    assert isinstance(b, Lines)
    with b:
        for _ in range(10):
            for _ in range(25):
                clock.now += 1
                b.tick()
            b.update(100)
    times = _times(log.getvalue())
    last = log.getvalue().splitlines()[-1]
    assert times[-1] == 250 and last.startswith("genbench: features inception-v3-tf 1000/1000 img")
    assert max(b - a for a, b in zip([0] + times, times)) <= 10
    assert len(times) >= 25


def test_a_short_stage_prints_one_line():
    clock, log = Clock(), io.StringIO()
    for _ in bar(range(3), desc="metrics digits-classifier", unit="metric", stream=log, clock=clock, heartbeat=False):
        clock.now += 1
    assert log.getvalue() == "genbench: metrics digits-classifier 3/3 metric (3 s)\n"


def test_postfix_and_unknown_total():
    clock, log = Clock(), io.StringIO()
    b = bar(iter("ab"), desc="train gan", stream=log, clock=clock, heartbeat=False)
    for _ in b:
        b.set_postfix({"loss": "0.5"})
    assert log.getvalue() == "genbench: train gan 2 it, loss=0.5 (0 s)\n"


def test_a_failed_stage_prints_no_final_line():
    clock, log = Clock(), io.StringIO()
    with pytest.raises(RuntimeError):
        with bar(total=10, desc="decode x", stream=log, clock=clock, heartbeat=False) as b:
            b.update(5)
            raise RuntimeError("image 7")
    assert log.getvalue() == ""


def test_disabled_prints_nothing_and_starts_no_thread(monkeypatch):
    monkeypatch.setattr(progress.threading, "Thread", None)  # would fail if a heartbeat thread started
    clock, log = Clock(), io.StringIO()
    b = bar(range(5), desc="x", enabled=False, stream=log, clock=clock)
    for _ in b:
        clock.now += 60
        b.tick()
    assert log.getvalue() == ""


def test_only_rank_0_reports(monkeypatch):
    import sys
    import types

    fake = types.SimpleNamespace(is_available=lambda: True, is_initialized=lambda: True, get_rank=lambda: 1)
    monkeypatch.setitem(sys.modules, "torch.distributed", fake)
    log = io.StringIO()
    with bar(total=1, desc="decode x", stream=log, heartbeat=False) as b:
        b.update()
    assert log.getvalue() == ""
    fake.get_rank = lambda: 0
    with bar(total=1, desc="decode x", stream=log, heartbeat=False) as b:
        b.update()
    assert log.getvalue().startswith("genbench: decode x 1/1 it")


def test_a_terminal_gets_tqdm():
    from tqdm.auto import tqdm

    term = Terminal()
    with bar(total=4, desc="features pixels", unit="img", stream=term) as b:
        assert isinstance(b, tqdm)
        b.update(4)
    assert "features pixels" in term.getvalue() and "4/4" in term.getvalue()


def test_the_heartbeat_thread_ticks_until_closed():
    """`_beat` as the thread runs it, with a stop event that lets a fake minute pass, second by second."""
    clock, log = Clock(), io.StringIO()
    b = Lines(total=10, desc="diffusers", unit="batch", stream=log, clock=clock, heartbeat=False)

    class Stop:
        waits = 0

        def wait(self, period: float) -> bool:
            clock.now += period
            self.waits += 1
            return self.waits > 60

    progress._beat(lambda: b, Stop(), 1.0)
    assert _times(log.getvalue()) == [10, 20, 30, 40, 50, 60]
    b.update(10)
    b.close()
    assert log.getvalue().splitlines()[-1] == "genbench: diffusers 10/10 batch (61 s)"
    assert all(r() is not b for r in progress._OPEN)


def test_only_the_innermost_bar_beats():
    clock, log = Clock(), io.StringIO()

    class Stop:
        def wait(self, period: float) -> bool:
            clock.now += period
            return clock.now > 30

    with bar(["fd"], desc="metrics x", stream=log, clock=clock, heartbeat=False) as outer:
        for _ in outer:
            with bar(total=5, desc="bootstrap fd", stream=log, clock=clock, heartbeat=False) as inner:
                progress._beat(lambda: outer, Stop(), 1.0)  # the outer bar's thread: silent
                assert log.getvalue() == ""
                clock.now = 0
                progress._beat(lambda: inner, Stop(), 1.0)
                inner.update(5)
    assert [x.split(" (")[0] for x in log.getvalue().splitlines()] == [
        "genbench: bootstrap fd 0/5 it", "genbench: bootstrap fd 0/5 it", "genbench: bootstrap fd 0/5 it",
        "genbench: bootstrap fd 5/5 it", "genbench: metrics x 1/1 it"]


def test_control_characters_do_not_reach_the_log():
    log = io.StringIO()
    with bar(total=1, desc="decode \x1b[31mred", stream=log, heartbeat=False) as b:
        b.update()
    assert "\x1b" not in log.getvalue() and "decode ?[31mred" in log.getvalue()
