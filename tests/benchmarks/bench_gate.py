"""Operating characteristics of the release gate as the CI workflow runs it (digits-default, N = 1,000).

How often does the gate fail a candidate that is as good as the baseline (false alarm), and how often
does it catch a real regression (detection)? Measured end to end through the files the workflow in
examples/ci/ commits and reads, under digits-default's default rules (version 3: fd<=+19, recall>=-0.15,
classes_covered>=-0, fd_pixels<=+0.28 and class_share>=-0.6; the committed full table was measured under
version 2's fd<=+15, recall>=-0.13, classes_covered>=-0 and fd_pixels<=+0.25), against the protocol's
reference (digits-test, 359 images).

One trial, each command run through genbench's own CLI entry point (genbench.cli.main, in this process):
1. record: a baseline sample file `baseline.npz` (N images), then the README's
   `genbench eval --samples baseline.npz --protocol digits-default --metrics fd,pr,modes
   --json baseline_result.json --save-features`, with its own fresh GENBENCH_HOME;
2. paired: a fresh folder holding only `baseline_result.json`, `baseline_result.features.npz` and the
   candidate's `candidate.npz`, a fresh GENBENCH_HOME (no feature cache, no baseline samples), and the
   workflow's `genbench gate --candidate candidate.npz --baseline baseline_result.json
   --protocol digits-default --json gate.json`; the verdict is read back from gate.json;
3. fallback: the same baseline recorded without `--save-features` (what a workflow that commits only the
   JSON has), gated in another fresh folder: the gate cannot pair and combines the two results' own
   intervals as independent. Both gates see the same baseline images and the same candidate file.

Draws. digits has 1,797 images: 1,438 in digits-train, 359 in digits-test (the reference). Disjoint
real subsets of 1,000 cannot be drawn twice from 1,438, so every set (baseline and candidate alike) is
N images drawn with replacement from a pool: digits-train itself (real), digits-train without 1 or 2
classes (chosen per trial), digits-train blurred (3x3 binomial kernel mixed half and half with the
image) or noised (Gaussian, σ = 25 of 255) (gate_pools.blur / noise), digits-train with one class k
kept at 30% of its share and the other classes filling up to N ("class k at 30%",
genbench.compare.regressions.partial_rows), or 1,000 samples (seeds 0-999, DDIM 50 steps) of a DDPM
trained on digits-train with the quick preset for a quarter of its steps (375 of 1,500). Each trial draws a fresh baseline from digits-train and a fresh candidate (gate_decision.draw,
seeded by N, condition and trial). The gate's bootstrap (B = 200) is seeded by the baseline's seed, as
in CI.

Cost. Run: `nice python -m tests.benchmarks.bench_gate [TRIALS_NULL TRIALS_ALT]` (default 100 and 20);
trials are kept in runs/bench-gate/e2e-trials*.json and resumed; `--table` only rewrites the section from
them; `--null-only` / `--alt-only` run the real-vs-real / regression trials alone (two workers);
`--partial-only` runs the ten "class k at 30%" conditions (one class kept at 30% of its share, the
others filling up to N: the partial mode dropping of issue #28) on the paired path only.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from genbench.cli import main as genbench_cli
from genbench.compare.gate import FAIL, INCONCLUSIVE, PASS
from genbench.io import atomic_write_json
from tests.benchmarks.gate_decision import CONDITIONS, PARTIAL, POOL, draw
from tests.benchmarks.gate_pools import ROOT, image_pools
from tests.benchmarks.sections import write_section

N = 1000
OUT_DIR = ROOT / "runs" / "bench-gate"
RECORD = ["eval", "--samples", "baseline.npz", "--protocol", "digits-default", "--metrics", "fd,pr,modes",
          "--json", "baseline_result.json", "--save-features"]
GATE = ["gate", "--candidate", "candidate.npz", "--baseline", "baseline_result.json", "--protocol",
        "digits-default", "--json", "gate.json"]
INTERVALS = ("paired", "independent")
PARTIAL_DOC = """One class kept at 30% of its share, the others filling up to N = 1,000
(genbench.compare.regressions.partial_rows), for
each of the ten classes, gated end to end on the CI path exactly as the trials above (record with
`--save-features`, gate in a fresh folder with a fresh GENBENCH_HOME; paired path only) under digits-default
version 3's default rules, which add `class_share>=-0.6` (the worst-kept class's share relative to the
baseline's, exact simultaneous interval over the classes). Each trial draws a fresh real baseline."""


def _cli(argv: list[str], folder: Path, home: Path) -> tuple[int, float]:
    """(exit code, seconds) of `genbench ARGV` run in `folder` with GENBENCH_HOME=home, output swallowed."""
    old_cwd, old_home = os.getcwd(), os.environ.get("GENBENCH_HOME")
    os.environ["GENBENCH_HOME"] = str(home)
    os.chdir(folder)
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            rc = genbench_cli(argv)
    except SystemExit as e:  # argparse errors
        rc = e.code if isinstance(e.code, int) else 2
    finally:
        os.chdir(old_cwd)
        os.environ.pop("GENBENCH_HOME") if old_home is None else os.environ.__setitem__("GENBENCH_HOME", old_home)
    return rc, time.perf_counter() - t0


def _write_set(path: Path, images: np.ndarray) -> None:
    """An ADM-layout sample file: arr_0 = uint8 [N, H, W, 3]."""
    np.savez(path, arr_0=np.ascontiguousarray(images.transpose(0, 2, 3, 1)))


def record(folder: Path, images: np.ndarray, save_features: bool) -> dict:
    """Record a baseline in `folder` (step 1, without --save-features for the fallback); the sample file is
    deleted afterwards, as CI never has it."""
    folder.mkdir(parents=True)
    _write_set(folder / "baseline.npz", images)
    rc, secs = _cli(RECORD if save_features else RECORD[:-1], folder, folder / "home")
    (folder / "baseline.npz").unlink()
    feats = folder / "baseline_result.features.npz"
    if rc != 0 or feats.is_file() != save_features:
        raise RuntimeError(f"recording the baseline exited {rc} in {folder}")
    return {"seconds": secs, "features_bytes": feats.stat().st_size if save_features else 0}


def gate(folder: Path, rec: Path, candidate: np.ndarray, trust: bool = False) -> tuple[dict, float]:
    """(gate.json, seconds) of the workflow's gate in a fresh `folder` holding the committed files; `trust`:
    the baseline records no features file, so its values are taken on trust (--trust-baseline-values)."""
    folder.mkdir(parents=True)
    for path in rec.glob("baseline_result.*"):
        shutil.copy(path, folder / path.name)
    _write_set(folder / "candidate.npz", candidate)
    rc, secs = _cli(GATE + ["--trust-baseline-values"] * trust, folder, folder / "home")
    out = json.loads((folder / "gate.json").read_text())
    if out["exit_code"] != rc:
        raise RuntimeError(f"gate.json says exit {out['exit_code']}, the command exited {rc} in {folder}")
    return out, secs


def _summary(cond: str, i: int, interval: str, out: dict, secs: float, rec: dict) -> dict:
    return {"condition": cond, "n": N, "trial": i, "interval": interval, "status": out["status"],
            "exit_code": out["exit_code"], "paired": out["paired"], "seconds": secs, "record": rec,
            "rules": {r["metric"]: r["status"] for r in out["rules"]},
            "diff": {r["metric"]: [r["diff"], *r["diff_ci95"]] for r in out["rules"]}}


def trial(images: dict, labels: np.ndarray, cond: str, i: int, scratch: Path,
          intervals: tuple[str, ...] = INTERVALS) -> list[dict]:
    """One draw: record the baseline with and without --save-features, and gate the same candidate file
    against each record in its own fresh folder (paired, then the fallback)."""
    base, pool, rows = draw(cond, N, i, labels, len(images[POOL.get(cond, "real")]))
    shutil.rmtree(scratch, ignore_errors=True)
    rows_out = []
    for interval in intervals:
        rec = record(scratch / f"record-{interval}", images["real"][base], interval == "paired")
        out, secs = gate(scratch / f"ci-{interval}", scratch / f"record-{interval}", images[pool][rows],
                         trust=interval != "paired")
        rows_out.append(_summary(cond, i, interval, out, secs, rec))
    shutil.rmtree(scratch, ignore_errors=True)
    return rows_out


def _key(d: dict) -> tuple:
    return d["condition"], d["n"], d["trial"], d["interval"]


def load_trials() -> list[dict]:
    """Every trial recorded so far (one file per worker), each (condition, N, trial, interval) once."""
    rows = {}
    for path in sorted(OUT_DIR.glob("e2e-trials*.json")):
        rows.update({_key(d): d for d in json.loads(path.read_text())})
    return list(rows.values())


def run(trials_null: int, trials_alt: int, conditions: tuple[str, ...] = CONDITIONS, worker: str = "",
        intervals: tuple[str, ...] = INTERVALS) -> list[dict]:
    """Run the missing trials of `conditions`; a worker name keeps parallel workers' files apart."""
    images, labels = image_pools()
    out = OUT_DIR / f"e2e-trials{worker}.json"
    mine = json.loads(out.read_text()) if out.is_file() else []
    have = {_key(d)[:3] for d in load_trials()}
    for i in range(max(trials_null, trials_alt)):  # round robin: every cell grows at the same pace
        for cond in conditions:
            if i < (trials_null if cond == "real-vs-real" else trials_alt) and (cond, N, i) not in have:
                mine += trial(images, labels, cond, i, OUT_DIR / f"scratch{worker}",
                              intervals if cond in PARTIAL else INTERVALS)
                atomic_write_json(out, mine)
        print(f"round {i + 1} done", flush=True)
    return load_trials()


def _rate(k: int, m: int) -> str:
    return f"{100.0 * k / m:.0f}% ({k}/{m})"


def _half(sel: list[dict], metric: str) -> str:
    w = [(r["diff"][metric][2] - r["diff"][metric][1]) / 2 for r in sel if metric in r["diff"]]
    return f"{np.mean(w):.3g}" if w else "-"


def _row(cond: str, interval: str, sel: list[dict]) -> str:
    c = Counter(r["status"] for r in sel)
    why = Counter(m for r in sel for m, s in r["rules"].items() if s != PASS)
    paired = sum(r["paired"] for r in sel)
    return (f"| {cond} | {interval} ({paired}/{len(sel)} paired) | {len(sel)} | {_rate(c[FAIL], len(sel))} | "
            f"{_rate(c[INCONCLUSIVE], len(sel))} | {_rate(c[PASS], len(sel))} | "
            f"{_rate(c[FAIL] + c[INCONCLUSIVE], len(sel))} | {_half(sel, 'fd')} / {_half(sel, 'fd_pixels')} | "
            + (", ".join(f"{m} {k}" for m, k in why.most_common()) or "-") + " |")


def table(rows: list[dict]) -> str:
    lines = ["| candidate | gate.json interval | trials | fail | inconclusive | pass | "
             "stopped (exit 1, default strict) | mean 95% half-width fd / fd_pixels | rules not passed |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for interval in INTERVALS:
        for cond in CONDITIONS:
            sel = [r for r in rows if r["condition"] == cond and r["interval"] == interval]
            if sel:
                lines.append(_row(cond, interval, sel))
    return "\n".join(lines)


def costs(rows: list[dict]) -> str:
    """Size and time of a baseline record, and time of a gate, as measured in the trials."""
    if not rows:
        return ""
    rec = [r["record"] for r in rows if r["interval"] == "paired"]
    gate_s = {iv: np.median([r["seconds"] for r in rows if r["interval"] == iv]) if any(
        r["interval"] == iv for r in rows) else float("nan") for iv in INTERVALS}
    return (f"A baseline record (`eval ... --save-features`, N = {N:,}) took {np.median([r['seconds'] for r in rec]):.1f} s "
            f"(median) and wrote a features file of {np.median([r['features_bytes'] for r in rec]) / 1e6:.2f} MB; "
            f"a gate took {gate_s['paired']:.1f} s paired" + (f" and {gate_s['independent']:.1f} s on the fallback"
            if np.isfinite(gate_s["independent"]) else "") + " "
            "(medians, one process, fresh GENBENCH_HOME each: the reference's features are recomputed every time).")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    nums = [int(a) for a in args if a.isdigit()]
    trials_null, trials_alt = (nums[0], nums[1]) if len(nums) >= 2 else (100, 20)
    load0, t0 = os.getloadavg()[0], time.perf_counter()
    if "--null-only" in args:
        rows = run(trials_null, 0, CONDITIONS[:1], worker="-null")
    elif "--alt-only" in args:
        rows = run(0, trials_alt, tuple(c for c in CONDITIONS[1:] if c not in PARTIAL), worker="-alt")
    elif "--partial-only" in args and "--table" not in args:  # one class at 30% of its share, paired only
        rows = run(0, trials_alt, PARTIAL, worker="-partial", intervals=("paired",))
    else:
        rows = load_trials() if "--table" in args else run(trials_null, trials_alt)
    minutes = (time.perf_counter() - t0) / 60
    load = next((a.split("=", 1)[1] for a in args if a.startswith("--load=")),
                f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    body = (__doc__.split("\n\n", 1)[1].rsplit("\n\nCost.", 1)[0] + "\n\n" + table(rows) + "\n\n" + costs(rows)
            + f" Measured on the 2-core CPU machine (load average {load})"
            + ("" if "--table" in args else f"; {minutes:.1f} min for the trials not already recorded")
            + ". \"fail\" is exit 1 under --lenient; \"stopped\" is exit 1 under the default (--strict).")
    if "--partial-only" in args:  # its own section: the other rows were measured under version 2's rules
        rows = [r for r in rows if r["condition"] in PARTIAL]
        body = (PARTIAL_DOC + "\n\n" + table(rows) + "\n\n" + costs(rows)
                + f" Measured on the 2-core CPU machine (load average {load}).")
        title = "Release gate: partial mode dropping (digits-default v3)"
    else:
        title = "Release gate: operating characteristics (digits-default)"
    write_section(title, body)
    print(table(rows))


if __name__ == "__main__":
    main()
