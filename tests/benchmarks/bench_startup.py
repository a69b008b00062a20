"""Wall time of the CLI's start-up: `genbench --help`, `genbench gate --help`, against `import torch`.

Usage: python -m tests.benchmarks.bench_startup [RUNS] [--print]
Each command runs RUNS times (default 7) in a fresh interpreter, this checkout first on the path; the table
gives the median and the fastest run. --print shows the table without writing BENCHMARKS.md. Budget
(issue #26): each help at most 0.5 s on an idle machine; the parsers are declarations
(genbench/commands/parsers/) and import neither torch nor any command's implementation.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks.sections import write_section

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {
    "`python -c pass` (the interpreter alone)": ["-c", "pass"],
    "`genbench --help`": ["-m", "genbench", "--help"],
    "`genbench gate --help`": ["-m", "genbench", "gate", "--help"],
    "`python -c \"import torch\"`": ["-c", "import torch"],
}


def wall_times(args: list[str], runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
    return out


def measure(runs: int = 7) -> str:
    rows = ["| command | median (s) | fastest (s) |", "|---|---:|---:|"]
    for name, args in COMMANDS.items():
        wall_times(args, 1)  # warm the file cache
        t = wall_times(args, runs)
        rows.append(f"| {name} | {statistics.median(t):.2f} | {min(t):.2f} |")
    return (f"Wall time of a fresh interpreter running each command, {runs} runs after one warm-up, on the 2-core "
            "CPU machine. Budget: each help at most 0.5 s; before the parsers became declarations "
            "(issue #26) `genbench --help` imported torch and every command (3-15 s).\n\n" + "\n".join(rows))


def main(runs: int = 7, write: bool = True) -> None:
    body = measure(runs)
    if write:
        write_section("CLI start-up", body)
    print(body)


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    main(*numbers[:1], write="--print" not in sys.argv)
