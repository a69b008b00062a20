"""Wall time and peak memory of the built-in digits suite (`make run`), cold and warm, per stage."""
from __future__ import annotations

import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.sections import write_section

STAGE = re.compile(r"^stage times: (.*)$", re.M)


def _run(out: Path, boards: Path, preset: str) -> tuple[float, dict[str, float], float]:
    cmd = [sys.executable, "-m", "genbench.cli", "run", "--suite", "digits", "--preset", preset,
           "--out", str(out), "--board-dir", str(boards), "--device", "cpu"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    m = STAGE.search(proc.stdout)
    stages = {k: float(v.rstrip("s")) for k, v in (p.split() for p in m.group(1).split(", "))} if m else {}
    return wall, stages, peak_mib


def main(preset: str = "quick") -> None:
    with tempfile.TemporaryDirectory() as d:
        out, boards = Path(d) / "runs", Path(d) / "boards"
        cold = _run(out, boards, preset)
        warm = _run(out, boards, preset)
    stages = sorted(set(cold[1]) | set(warm[1]))
    rows = ["| run | wall (s) | " + " | ".join(f"{s} (s)" for s in stages) + " | peak RSS (MiB) |",
            "|---|---:|" + "---:|" * len(stages) + "---:|"]
    for name, (wall, st, peak) in (("cold", cold), ("warm", warm)):
        rows.append(f"| {name} | {wall:.1f} | " + " | ".join(f"{st.get(s, 0):.1f}" for s in stages)
                    + f" | {peak:.0f} |")
    body = (f"`genbench run --suite digits --preset {preset} --device cpu` on this 2-core CPU machine, "
            "cold (empty work folder) then warm (everything reused). Peak RSS is the largest child process "
            "(ru_maxrss of children, cumulative max).\n\n" + "\n".join(rows))
    write_section("make run (digits suite)", body)
    print(body)


if __name__ == "__main__":
    main(*(sys.argv[1:2]))
