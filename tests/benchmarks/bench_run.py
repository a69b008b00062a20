"""Wall time and peak memory of `make run` (the digits suite, quick preset), cold and warm, per stage.

Usage: python -m tests.benchmarks.bench_run [CLONE]
CLONE is a clean clone of the repository (default: a fresh `git clone` of this one into a temporary
folder); `make run` is timed there twice: cold (no runs/ folder) and warm (everything reused).
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.sections import write_section

ROOT = Path(__file__).resolve().parents[2]
STAGE = re.compile(r"^stage times: (.*)$", re.M)
STAGES = ("train", "generate", "features", "metrics", "render")
# Runs a command in a fresh interpreter and reports the peak RSS of that command's process tree alone.
WRAP = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
        "sys.exit(r.returncode)")


def _make_run(clone: Path) -> tuple[float, dict[str, float], float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAP, "make", "run"], cwd=clone, capture_output=True, text=True,
                          check=True)
    wall = time.perf_counter() - t0
    peak_mib = int(re.search(r"PEAK_KIB (\d+)", proc.stderr).group(1)) / 1024
    m = STAGE.search(proc.stdout)
    stages = {k: float(v.rstrip("s")) for k, v in (p.split() for p in m.group(1).split(", "))} if m else {}
    return wall, stages, peak_mib


def measure(clone: Path) -> str:
    cold = _make_run(clone)
    warm = _make_run(clone)
    rows = ["| run | wall (s) | " + " | ".join(f"{s} (s)" for s in STAGES) + " | peak RSS (MiB) |",
            "|---|---:|" + "---:|" * len(STAGES) + "---:|"]
    for name, (wall, st, peak) in (("cold", cold), ("warm", warm)):
        rows.append(f"| {name} | {wall:.1f} | " + " | ".join(f"{st.get(s, 0):.1f}" for s in STAGES)
                    + f" | {peak:.0f} |")
    return ("`make run` (digits suite, quick preset, CPU) in a clean clone on the 2-core CPU machine: cold "
            "(no runs/ folder; the virtualenv already installed) then warm (checkpoints, samples, features "
            "and results reused). Stage times are summed over the four models and two baselines; wall "
            "includes start-up and the report. Peak RSS is the largest process of that run.\n\n"
            + "\n".join(rows))


def main(clone: str | None = None) -> None:
    if clone is None:
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["git", "clone", "-q", str(ROOT), d + "/genbench"], check=True)
            body = measure(Path(d) / "genbench")
    else:
        body = measure(Path(clone))
    write_section("make run (digits suite)", body)
    print(body)


if __name__ == "__main__":
    main(*(sys.argv[1:2]))
