"""`genbench gate`: fail a release when the candidate regresses against a baseline beyond tolerance.

Exit 0 pass (or inconclusive, with a warning), 1 regression (or inconclusive under --strict),
2 bad input. The decision logic lives in genbench.gate; this module gathers the two EvalResults.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genbench.commands.common import add_device, add_weights, parse_weights, positive_int
from genbench.errors import InputError
from genbench.gate import FAIL, GateReport, Rule, compare, parse_rule
from genbench.result import EvalResult


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gate", help="compare a candidate with a baseline using bootstrap intervals")
    p.add_argument("--candidate", required=True,
                   help="candidate samples (folder, .npz/.npy, dataset name) or an EvalResult JSON")
    p.add_argument("--baseline", required=True, help="a RESULT.json, or a model NAME on the --board leaderboard")
    p.add_argument("--board", default="leaderboards/digits.jsonl", help="leaderboard JSONL for a baseline NAME")
    p.add_argument("--ref", default=None, help="reference set (default: the protocol's)")
    p.add_argument("--protocol", default=None, help="protocol (default: the baseline's)")
    p.add_argument("--rule", action="append", default=[], metavar="RULE",
                   help='e.g. "fd<=+2.0" or "recall>=-0.02" (repeatable; default: the protocol\'s rules)')
    p.add_argument("--strict", action="store_true", help="an inconclusive gate fails (exit 1)")
    p.add_argument("--json", default=None, help="write the gate report as JSON here")
    p.add_argument("--seed", type=int, default=None, help="metric seed (default: the baseline's)")
    p.add_argument("--num-samples", type=positive_int, default=None, help="default: the baseline's N")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--cache-dir", default=None, help="feature cache (default $GENBENCH_HOME/cache)")
    p.add_argument("--name", default="candidate", help="candidate name in the report")
    add_device(p)
    add_weights(p)
    p.set_defaults(func=run)


def _is_result_file(spec: str) -> bool:
    return spec.endswith(".json") and Path(spec).is_file()


def load_baseline(spec: str, board: str, protocol: str | None) -> EvalResult:
    """A RESULT.json, or the latest result of model `spec` on leaderboard `board` (under `protocol`)."""
    if spec.endswith(".json"):
        if not Path(spec).is_file():
            raise InputError(f"--baseline {spec}: no such file")
        return EvalResult.load(spec)
    from genbench.leaderboard import Leaderboard

    if not Path(board).is_file():
        raise InputError(f"--board {board}: no such leaderboard (needed to look up --baseline {spec!r})")
    lb = Leaderboard.load(board)
    pids = sorted({r["protocol_id"] for r in lb.rows() if r["model"] == spec
                   and (protocol is None or r["protocol"].get("protocol") == protocol)})
    if len(pids) > 1:  # prefer the board's main group
        main = [p for p in lb.protocol_ids() if p in pids]
        pids = main[:1]
    result = lb.result_for(spec, pids[0] if pids else None)
    result.name = spec
    return result


def candidate_result(args: argparse.Namespace, baseline: EvalResult) -> EvalResult:
    """Load the candidate's result, or evaluate its samples with the baseline's protocol, N and seed."""
    if _is_result_file(args.candidate):
        res = EvalResult.load(args.candidate)
        res.name = res.name or args.name
        return res
    from genbench.evaluate import evaluate

    bp = baseline.protocol
    proto = args.protocol or bp.get("protocol")
    return evaluate(args.candidate, args.ref, protocol=proto, metrics=_needed_metrics(proto, args.rule),
                    num_samples=args.num_samples or bp.get("n_gen"),
                    seed=bp.get("seed", 0) if args.seed is None else args.seed, batch_size=args.batch_size,
                    device=args.device, weights=parse_weights(args.weights),
                    allow_unverified=args.allow_unverified_weights, cache_dir=args.cache_dir,
                    progress=sys.stderr.isatty(), name=args.name)


def _needed_metrics(protocol: str | None, rule_texts: list[str]) -> list[str] | None:
    """The protocol's metrics whose outputs the rules read (None: evaluate the whole protocol)."""
    from genbench.metrics import METRICS, load_all
    from genbench.protocols import PROTOCOLS

    if protocol is None or protocol not in PROTOCOLS:
        return None
    load_all()
    proto = PROTOCOLS.get(protocol)
    outputs = {parse_rule(t).metric for t in rule_texts} or {r.metric for r in proto.gate_rules}
    names = sorted({m for sp in proto.spaces for m in sp.metrics
                    if any(o + sp.suffix in outputs for o in METRICS.get(m).outputs)})
    return names or None


def decide_gate(candidate: EvalResult, baseline: EvalResult, rules: list[Rule], protocol: str | None,
                strict: bool) -> tuple[GateReport, int]:
    """The gate's verdict and exit code (0 pass/inconclusive, 1 regression or strict-inconclusive)."""
    report = compare(candidate, baseline, rules or None, protocol)
    return report, report.exit_code(strict)


def _print(report: GateReport, code: int) -> None:
    print(f"gate: {report.candidate} vs {report.baseline} under {report.protocol_id}")
    print(report.table())
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if report.status == FAIL:
        print("\nREGRESSION: failing rules")
        print(report.table(only=(FAIL,)))
    verdict = {0: "PASS" if report.status != "inconclusive" else "INCONCLUSIVE (not strict: passing)",
               1: "FAIL" if report.status == FAIL else "INCONCLUSIVE (--strict: failing)"}[code]
    print(f"\nverdict: {verdict}")


def run(args: argparse.Namespace) -> int:
    from genbench.protocols import PROTOCOLS

    rules = [parse_rule(r) for r in args.rule]  # bad rules fail before any evaluation
    if args.protocol:
        PROTOCOLS.get(args.protocol)
    baseline = load_baseline(args.baseline, args.board, args.protocol)
    candidate = candidate_result(args, baseline)
    report, code = decide_gate(candidate, baseline, rules, args.protocol, args.strict)
    _print(report, code)
    if args.json:
        from genbench.io import atomic_write_json

        atomic_write_json(args.json, {**report.to_json(), "exit_code": code, "strict": args.strict})
    return code
