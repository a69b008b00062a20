"""`genbench gate`: fail a release when the candidate regresses against a baseline beyond tolerance.

Exit 0 pass, 1 regression (or inconclusive, unless --lenient), 2 bad input (including a side scored at
another N than the protocol fixes, unless --allow-n-mismatch). The decision logic lives in
genbench.compare.gate; the paired intervals in genbench.compare.paired; this module gathers the two EvalResults and the
sample sets behind them.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from genbench.commands.common import check_output_file, eval_options, parse_weights
from genbench.errors import InputError
from genbench.compare.gate import FAIL, GateReport, Rule, check_sample_counts, compare, parse_rule
from genbench.eval.result import EvalResult
from genbench.sets.samples import SampleSet


def _is_result_file(spec: str) -> bool:
    return spec.endswith(".json") and Path(spec).is_file()


def _is_samples(spec: str) -> bool:
    from genbench.data import DATASETS

    return not spec.endswith(".json") and (Path(spec).exists() or spec in DATASETS)


def load_baseline(spec: str, board: str, protocol: str | None) -> EvalResult:
    """A RESULT.json (schema-checked), or the latest result of model `spec` on leaderboard `board`."""
    if spec.endswith(".json"):
        from genbench.compare.result_schema import load_result

        return load_result(spec, "--baseline")
    from genbench.board.leaderboard import Leaderboard

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


def _score(samples: SampleSet, args: argparse.Namespace, proto: str | None, seed: int, name: str,
           bootstrap: int | None = None, like: EvalResult | None = None) -> EvalResult:
    """Evaluate a set under the protocol; against `like`'s reference (a baseline's) unless --ref is given."""
    from genbench.eval.run import evaluate

    ref, num_ref = reference_of(like) if args.ref is None and like is not None else (args.ref, None)
    opts = eval_options(args, bootstrap=bootstrap, num_samples=len(samples), seed=seed, cache_dir=args.cache_dir,
                        progress=not args.quiet, num_reference=num_ref)
    return evaluate(samples, ref, protocol=proto, metrics=_needed_metrics(proto, args.rule), name=name,
                    options=opts)


def reference_of(result: EvalResult) -> tuple[str | None, int | None]:
    """(reference, first n) that reproduce a result's reference when it was a built-in dataset, cut or not
    (`dataset:digits-test[:200]` -> ("digits-test", 200)); (None, None) otherwise: the protocol's default.
    The evaluation's reference fingerprint then matches the result's, or the gate says they differ."""
    m = re.fullmatch(r"dataset:([^\[\]]+)(?:\[:(\d+)\])?", str((result.reference or {}).get("source", "")))
    return (m.group(1), int(m.group(2)) if m.group(2) else None) if m else (None, None)


def _open(spec: str, n: int | None, what: str) -> SampleSet:
    from genbench.sets.samples import open_samples

    s = open_samples(spec, what=what)
    if n is not None and len(s) < n:
        raise InputError(f"{what} {spec}: has {len(s)} samples, but N = {n} is needed (the protocol's N; "
                         f"give --num-samples {len(s)} --allow-n-mismatch to compare at another N)")
    return s.take(n)


def _seed(args: argparse.Namespace, proto: str | None) -> int:
    """The seed the gate scores with: --seed, else the protocol's (never a result file's: it would choose the
    bootstrap draw behind an interval the decision reads)."""
    from genbench.protocols import PROTOCOLS

    if args.seed is not None:
        return args.seed
    return PROTOCOLS.get(proto).config.seed if proto in PROTOCOLS else 0


def _protocol_n(args: argparse.Namespace, proto: str | None, fallback: int | None) -> int | None:
    from genbench.protocols import PROTOCOLS

    if args.num_samples is not None:
        return args.num_samples
    fixed = PROTOCOLS.get(proto).num_samples if proto in PROTOCOLS else None
    return fixed or fallback


def _attached(spec: str, result: EvalResult, side: str, files: dict) -> None:
    from genbench.compare.verify import attached_features

    ff = attached_features(spec, result, f"--{side}")
    if ff is not None:
        files[side] = ff


def _candidate_file(spec: str, name: str, files: dict) -> EvalResult:
    """A candidate result file: its values must come from its own rows, so its features file is required."""
    from genbench.compare.result_schema import load_result

    candidate = load_result(spec, "--candidate")
    _attached(spec, candidate, "candidate", files)
    if "candidate" not in files:
        raise InputError(f"--candidate {spec}: records no features file, and a candidate's values are never "
                         "taken from a JSON; record it with `genbench eval ... --json R.json --save-features`, "
                         "or give the candidate's samples")
    candidate.name = candidate.name or name
    return candidate


def gather(args: argparse.Namespace) -> tuple[EvalResult, EvalResult, dict[str, SampleSet], dict]:
    """(candidate, baseline, sample sets opened here by fingerprint, checked features files by side)."""
    opened: dict[str, SampleSet] = {}
    files: dict = {}
    if _is_samples(args.baseline):
        proto = args.protocol
        if proto is None:
            raise InputError("--baseline SAMPLES: give --protocol (samples carry none)")
        s = _open(args.baseline, _protocol_n(args, proto, None), "--baseline")
        opened[s.fingerprint] = s
        baseline = _score(s, args, proto, args.seed or 0, "baseline")
    else:
        baseline = load_baseline(args.baseline, args.board, args.protocol)
        if args.baseline.endswith(".json"):
            _attached(args.baseline, baseline, "baseline", files)
        if args.independent and "baseline" not in files and not args.trust_baseline_values:
            from genbench.compare.trust import refusal  # before any scoring: nothing will recompute it

            raise InputError(refusal(args.baseline, args.board, "--independent given"))
    _agree_on_baseline(baseline)
    bp = baseline.protocol
    proto = args.protocol or bp.get("protocol")
    if _is_result_file(args.candidate):
        return _candidate_file(args.candidate, args.name, files), baseline, opened, files
    s = _open(args.candidate, _protocol_n(args, proto, bp.get("n_gen")), "--candidate")
    opened[s.fingerprint] = s
    if not (files or _is_samples(args.baseline) or args.trust_baseline_values
            or baseline.samples.get("fingerprint") in opened):
        _refuse_early(args, baseline)  # before scoring the candidate
    seed = _seed(args, proto)
    lazy = "baseline" in files and not args.independent  # paired: the candidate's own intervals are not read
    return _score(s, args, proto, seed, args.name, 0 if lazy else None, baseline), baseline, opened, files


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
                strict: bool, paired: dict | None = None) -> tuple[GateReport, int]:
    """The gate's verdict and exit code; `paired` holds compare()'s diffs / fallback_reason, if any."""
    report = compare(candidate, baseline, rules or None, protocol, **(paired or {}))
    return report, report.exit_code(strict)


def _print(report: GateReport, code: int, strict: bool, trusted: dict | None = None) -> None:
    from genbench.compare.trust import TRUST_FLAG, trust_lines
    from genbench.eval.names import escape_terminal as esc

    print(f"gate: {esc(report.candidate)} vs {esc(report.baseline)} under {esc(report.protocol_id)}")
    print(f"intervals: {report.method}")
    print(report.table())
    for line in trust_lines(trusted) if trusted else []:
        print(esc(line))
    if trusted:
        print(f"warning: the baseline's {', '.join(esc(m) for m in trusted['metrics'])} values, N and seed were "
              f"taken on trust ({TRUST_FLAG}): nothing recomputed them", file=sys.stderr)
    for w in report.warnings:  # a fallback reason may quote a result file's source: escaped
        print(f"warning: {esc(w)}", file=sys.stderr)
    if report.status == FAIL:
        print("\nREGRESSION: failing rules")
        print(report.table(only=(FAIL,)))
    lenient_fail = "INCONCLUSIVE (failing even under --lenient: a point difference is past its tolerance)"
    verdict = {0: "PASS" if report.status != "inconclusive" else "INCONCLUSIVE (--lenient: passing)",
               1: "FAIL" if report.status == FAIL else "INCONCLUSIVE (failing; --lenient passes it)"
               if strict and not report.lenient_refuses() else lenient_fail}[code]
    print(f"\nverdict: {verdict}")


def _rescore_with_intervals(candidate: EvalResult, baseline: EvalResult, args: argparse.Namespace,
                            opened: dict[str, SampleSet]) -> EvalResult:
    """The fallback reads the candidate's own intervals: score it again with the protocol's bootstrap."""
    seed = _seed(args, candidate.protocol.get("protocol"))
    return _score(opened[candidate.samples["fingerprint"]], args, candidate.protocol.get("protocol"), seed,
                  candidate.name or args.name, like=baseline)


def _agree_on_baseline(baseline: EvalResult) -> None:
    """torchrun: every rank gates against the same baseline content (a sha256 of the result, not its path)."""
    import hashlib
    import json

    from genbench import distributed

    doc = {k: v for k, v in baseline.to_json().items() if k != "name"}
    blob = json.dumps(doc, sort_keys=True, default=str).encode()
    distributed.agree("gate --baseline", {"baseline_sha256": hashlib.sha256(blob).hexdigest()})


def _refuse_early(args: argparse.Namespace, baseline: EvalResult) -> None:
    """Refuse, before any scoring, a baseline with no features file whose rows surely cannot be found: the
    refusal _refuse_untrusted would give after the work."""
    from genbench.compare.trust import refusal, rows_missing
    from genbench.paths import default_cache_dir
    from genbench.protocols import PROTOCOLS

    name = args.protocol or baseline.protocol.get("protocol")
    if name not in PROTOCOLS:
        return
    proto = PROTOCOLS.get(name)
    metrics = [parse_rule(r).metric for r in args.rule] or [g.metric for g in proto.gate_rules]
    root = None if args.cache_dir is False else (args.cache_dir or default_cache_dir())
    try:
        why = rows_missing(baseline.samples, proto, metrics, root, parse_weights(args.weights),
                           args.allow_unverified_weights)
    except Exception:  # noqa: BLE001 - only an early answer; pairing gives the full one after scoring
        return
    if why is not None:
        raise InputError(refusal(args.baseline, args.board, f"baseline: {why}"))


def _unchecked_baseline(args: argparse.Namespace, files: dict, paired: dict | None) -> str | None:
    """Why the decision would read the baseline's values unchecked (None: it reads only recomputed ones)."""
    if "baseline" in files or _is_samples(args.baseline):
        return None
    if paired is None:
        return "--independent given"
    return paired.get("fallback_reason")


def _refuse_untrusted(args: argparse.Namespace, why: str | None) -> None:
    """InputError when the decision would read unchecked baseline values and --trust-baseline-values is absent."""
    from genbench.compare.trust import refusal

    if why is not None and not args.trust_baseline_values:
        raise InputError(refusal(args.baseline, args.board, why))


def _trusted(args: argparse.Namespace, baseline: EvalResult, why: str | None, report: GateReport) -> dict | None:
    """The record of the baseline values the decision took on trust (None: it took none)."""
    from genbench.compare.trust import trust_record
    from genbench.eval.names import safe_text

    if why is None:
        return None
    return trust_record(safe_text(args.baseline), safe_text(why), baseline, [o.rule.metric for o in report.outcomes])


def run(args: argparse.Namespace) -> int:
    from genbench.compare.find_features import GateOptions, paired_for_gate
    from genbench.compare.verify import check_files
    from genbench.protocols import PROTOCOLS

    from genbench.eval.names import safe_text, validate_model_name

    validate_model_name(args.name, "--name")
    if args.json:  # before any work: a refused --json must not come after the verdict
        check_output_file(Path(args.json), "--json")
    rules = [parse_rule(r) for r in args.rule]  # bad rules fail before any evaluation
    if args.protocol:
        PROTOCOLS.get(args.protocol)
    candidate, baseline, opened, files = gather(args)
    name = args.protocol or baseline.protocol.get("protocol")
    proto = PROTOCOLS.get(name) if name in PROTOCOLS else None
    n_warnings = check_sample_counts(candidate, baseline, proto, args.allow_n_mismatch)
    opts = GateOptions(device=args.device, weights=parse_weights(args.weights),
                       allow_unverified=args.allow_unverified_weights, cache_dir=args.cache_dir,
                       batch_size=args.batch_size, bootstrap=args.bootstrap, seed=args.seed)
    check_files({"candidate": candidate, "baseline": baseline}, files, rules, proto, opts, opened,
                intervals=args.independent)  # --independent reads each side's own interval: recompute it too
    paired = None if args.independent else paired_for_gate(candidate, baseline, rules, proto, opened, opts, files)
    unchecked = _unchecked_baseline(args, files, paired)
    _refuse_untrusted(args, unchecked)  # before the fallback scores the candidate again
    if paired and "fallback_reason" in paired and candidate.protocol.get("bootstrap") == 0 and "candidate" not in files:
        candidate = _rescore_with_intervals(candidate, baseline, args, opened)
    report, code = decide_gate(candidate, baseline, rules, args.protocol, args.strict,
                               paired or {"fallback_reason": "--independent given"})
    for w in n_warnings:
        print(f"warning: {w} (--allow-n-mismatch)", file=sys.stderr)
    trusted = _trusted(args, baseline, unchecked, report)
    _print(report, code, args.strict, trusted)
    if args.json:
        from genbench.io import atomic_write_json

        names = {k: safe_text(getattr(report, k)) for k in ("candidate", "baseline")}
        atomic_write_json(args.json, {**report.to_json(), **names, "exit_code": code, "strict": args.strict,
                                      "n_mismatch": n_warnings,
                                      "features_files": {k: v.path.name for k, v in sorted(files.items())},
                                      "taken_on_trust": trusted})
    return code
