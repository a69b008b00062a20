"""A board built the README's way ranks with the paired, Holm-controlled rule (digits-default, N = 1,000).

One trial builds a board as a user does, every command through genbench's CLI entry point
(genbench.cli.main, in this process), in a fresh folder with a fresh GENBENCH_HOME:
`genbench eval --samples M.npz --protocol digits-default --name M --add-to board.jsonl` for four models,
then `genbench board show board.jsonl`. The models: two real draws (real A, real B: N images of
digits-train drawn with replacement, each its own draw), a blurred draw (the same from digits-train
blurred, gate_pools.blur: a 3x3 binomial kernel mixed half and half with the image) and noise (N images
of uniform noise). The truth: real A = real B, both better than blur, blur better than noise.
A board is right when the two real draws share their rank interval, blur sits below both of them
(its best rank is 3) and noise is last (rank 4). The ranks are the labels `board show` prints
(genbench.board.ranks.rank_labels: from `<board>.ranks.json` when current; paired: every pair's paired
bootstrap, B = 200, Holm over the 6 pairs), and, for comparison, those of the interval-overlap rule that
such a board fell back to before (genbench.board.ranks.overlap_ranks on the same rows).
Run: `nice python -m tests.benchmarks.bench_board_add [TRIALS]` (default 20); trials are kept in
runs/bench-board-add/trials.json and resumed; `--table` only rewrites the section from them.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from genbench.board.leaderboard import Leaderboard
from genbench.board.ranks import overlap_ranks, parse_label, rank_labels
from genbench.cli import main as genbench_cli
from genbench.io import atomic_write_json
from tests.benchmarks.bench_gate import _write_set
from tests.benchmarks.gate_pools import ROOT, image_pools
from tests.benchmarks.sections import write_section

N = 1000
OUT = ROOT / "runs" / "bench-board-add"
MODELS = ("real-A", "real-B", "blur", "noise")
TITLE = "Leaderboard built with eval --add-to: paired ranks (digits-default, N = 1,000)"


def model_sets(pools: dict, i: int) -> dict[str, np.ndarray]:
    """The four models' images (uint8 [N, 3, 8, 8]) of trial i."""
    rng = np.random.default_rng([N, i, 0xADD])
    real, blurred = pools["real"], pools["blur"]
    return {"real-A": real[rng.integers(0, len(real), N)], "real-B": real[rng.integers(0, len(real), N)],
            "blur": blurred[rng.integers(0, len(blurred), N)],
            "noise": rng.integers(0, 256, (N, 3, 8, 8), dtype=np.uint8)}


def _cli(argv: list[str]) -> tuple[int, str]:
    """(exit code, stdout) of `genbench ARGV` in the current folder."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = genbench_cli(argv)
    return rc, out.getvalue()


def build(folder: Path, sets: dict[str, np.ndarray]) -> tuple[str, float, float]:
    """Build the board in `folder` as the README does; (what `board show` prints, seconds to build and show
    it, seconds of a `board rank --force` on it afterwards)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    old_cwd, old_home = os.getcwd(), os.environ.get("GENBENCH_HOME")
    os.environ["GENBENCH_HOME"] = str(folder / "home")
    os.chdir(folder)
    t0 = time.perf_counter()
    try:
        for name, images in sets.items():
            _write_set(folder / f"{name}.npz", images)
            rc, _ = _cli(["eval", "--samples", f"{name}.npz", "--protocol", "digits-default", "--name", name,
                          "--add-to", "board.jsonl", "--quiet"])
            if rc != 0:
                raise RuntimeError(f"eval of {name} exited {rc} in {folder}")
        rc, shown = _cli(["board", "show", "board.jsonl"])
        t1 = time.perf_counter()
        rc, _ = _cli(["board", "rank", "board.jsonl", "--force"])  # what re-ranking alone costs
        rank_secs = time.perf_counter() - t1
    finally:
        os.chdir(old_cwd)
        os.environ.pop("GENBENCH_HOME") if old_home is None else os.environ.__setitem__("GENBENCH_HOME", old_home)
    return shown, t1 - t0, rank_secs


def trial(pools: dict, i: int) -> dict:
    shown, secs, rank_secs = build(OUT / "scratch", model_sets(pools, i))
    board = Leaderboard.load(OUT / "scratch" / "board.jsonl")
    group = board.groups()[0]
    paired = rank_labels(group, board.path)
    row = {"trial": i, "seconds": secs, "rank_seconds": rank_secs, "paired": paired.paired, "labels": paired.labels,
           "overlap": overlap_ranks(group).labels, "unpaired_in_table": "unpaired" in shown,
           "fd": {m: group.cell(m, "fd")["value"] for m in MODELS}}
    shutil.rmtree(OUT / "scratch", ignore_errors=True)
    return row


def right(labels: dict[str, str]) -> dict[str, bool]:
    """Which of the three statements about the truth a board's labels show."""
    r = {m: parse_label(labels[m]) for m in MODELS}
    return {"reals together": r["real-A"] == r["real-B"],
            "blur below both reals": r["blur"][0] == 3,
            "noise last": r["noise"] == (4, 4)}


def table(rows: list[dict]) -> str:
    pct = lambda k: f"{100 * k / len(rows):.0f}% ({k}/{len(rows)})"  # noqa: E731
    lines = ["| statement | paired rule (what the board shows now) | interval overlap (the old fallback) |",
             "|---|---:|---:|"]
    for what in ("reals together", "blur below both reals", "noise last"):
        lines.append(f"| {what} | {pct(sum(right(r['labels'])[what] for r in rows))} | "
                     f"{pct(sum(right(r['overlap'])[what] for r in rows))} |")
    lines.append(f"| all three | {pct(sum(all(right(r['labels']).values()) for r in rows))} | "
                 f"{pct(sum(all(right(r['overlap']).values()) for r in rows))} |")
    lines.append(f"| boards ranked paired / saying \"unpaired\" in the table | {pct(sum(r['paired'] for r in rows))} "
                 f"/ {pct(sum(r['unpaired_in_table'] for r in rows))} | |")
    fd = {m: np.mean([r["fd"][m] for r in rows]) for m in MODELS}
    secs, rank = (np.median([r[k] for r in rows]) for k in ("seconds", "rank_seconds"))
    return "\n".join(lines) + "\n\n" + (f"Mean fd: {', '.join(f'{m} {v:.1f}' for m, v in fd.items())}. Building a "
                                        f"board (four `eval --add-to`, each re-ranking it, and `board show`) took "
                                        f"{secs:.1f} s; `board rank --force` on it (6 pairs from the cache) "
                                        f"{rank:.1f} s (medians).")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    trials = next((int(a) for a in args if a.isdigit()), 20)
    path, t0, load0 = OUT / "trials.json", time.perf_counter(), os.getloadavg()[0]
    rows = json.loads(path.read_text()) if path.is_file() else []
    if "--table" not in args:
        pools, _ = image_pools()
        for i in range(len(rows), trials):
            rows.append(trial(pools, i))
            atomic_write_json(path, rows)
            print(f"board {i + 1}: {rows[-1]['labels']}", flush=True)
    load = next((a.split("=", 1)[1] for a in args if a.startswith("--load=")),
                f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    body = (__doc__.split("\n\n", 1)[1].rsplit("\nRun:", 1)[0] + "\n\n" + table(rows) + "\n\n"
            + f"Measured on the 2-core CPU machine shared with other sessions (load average {load})"
            + ("." if "--table" in args else f"; {(time.perf_counter() - t0) / 60:.1f} min for the trials "
                                             "not already recorded."))
    write_section(TITLE, body)
    print(table(rows))


if __name__ == "__main__":
    main()
