"""`genbench power`: how many samples should a gate draw? Detection and false-alarm rates against N.

Pilot samples of the baseline (and of a candidate, or a regression of known kind and size applied to the
baseline) are featurised under the protocol; genbench.compare.power fits each rule's variance law
s²(N) = a/N + c on bootstrap subsets of the pilot and predicts the strict gate's stop rate at each N.
Exit 0 with a table (and --json); 2 on bad input. All arguments are checked before any extraction.
"""
from __future__ import annotations

import argparse
import json

from genbench.commands.common import parse_weights
from genbench.errors import ConfigError


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(x) for x in str(text).split(",") if x.strip()}))
    except ValueError:
        raise ConfigError(f"--sizes {text!r}: expected comma-separated whole numbers, e.g. 250,1000,5000") from None
    if not sizes or sizes[0] < 2:
        raise ConfigError(f"--sizes {text!r}: every N must be at least 2")
    return sizes


def _rate(name: str, v: float) -> float:
    if not 0.0 <= v <= 1.0:
        raise ConfigError(f"--{name} {v}: expected a rate between 0 and 1")
    return v


def _options(args: argparse.Namespace):
    from genbench.compare.power import PlanOptions, Target
    from genbench.compare.regressions import Regression

    if (args.candidate is None) == (args.kind is None):
        raise ConfigError("give either --candidate SAMPLES or --kind KIND --size S, not both or neither")
    if args.kind is not None and args.size is None:
        raise ConfigError(f"--kind {args.kind}: give its --size")
    if args.draws < 2:
        raise ConfigError(f"--draws {args.draws}: the spread of the difference needs at least 2 draws")
    if args.share is not None and args.kind != "partial-class":
        raise ConfigError(f"--share {args.share}: only --kind partial-class takes a share")
    reg = Regression(args.kind, float(args.size), args.seed, args.share) if args.kind else None
    target = Target(_rate("detect", args.detect), _rate("false-alarm", args.false_alarm))
    return reg, PlanOptions(_sizes(args.sizes), target, args.bootstrap, args.seed, args.draws)


def _rules(args: argparse.Namespace, protocol):
    from genbench.compare.gate import default_rules, parse_rule
    from genbench.compare.pilot import directions

    if args.rule:
        return [parse_rule(r) for r in args.rule]
    return default_rules(protocol, directions(protocol, [g.metric for g in protocol.gate_rules]))


def _images(spec: str, what: str):
    from genbench.sets.samples import open_samples

    return open_samples(spec, what=what).load()


def run(args: argparse.Namespace) -> int:
    from genbench.compare.find_features import space_of
    from genbench.compare.pilot import PilotImages, build_pilots
    from genbench.compare.power import plan
    from genbench.features.extract import build_extractor
    from genbench.protocols import PROTOCOLS

    protocol = PROTOCOLS.get(args.protocol)
    reg, opts = _options(args)
    rules, weights = _rules(args, protocol), parse_weights(args.weights)
    names = {space_of(protocol, r.metric).extractor for r in rules}
    ref = args.ref or protocol.reference
    if ref is None:
        raise ConfigError(f"--protocol {protocol.name} has no default reference; give --ref")
    imgs = PilotImages(_images(args.baseline, "--baseline"), _images(ref, "--ref"),
                       None if args.candidate is None else _images(args.candidate, "--candidate"), reg)
    extractors = {n: build_extractor(n, device=args.device, weights_path=weights.get(n),
                                     allow_unverified=args.allow_unverified_weights) for n in names}
    pilots, contexts, outputs = build_pilots(rules, protocol, imgs, extractors,
                                             dataset=ref if isinstance(ref, str) else None)
    result = plan(pilots, protocol.config, opts, contexts, protocol.params, outputs)
    print(format_plan(result, rules))
    if args.json:
        from genbench.io import atomic_write_json

        atomic_write_json(args.json, result.to_json())
    return 0


def format_plan(result, rules) -> str:
    """The plan as a text table: N, detection at the pilot's effect with its interval over the effect's
    uncertainty, false alarm, then per rule (detection / false alarm); then the notes and the effects."""
    from genbench.compare.power import notes

    names = list(result.rows[0].per_rule) if result.rows else []
    head = ["N", "detection", "interval", "false alarm"] + names
    lines = ["  ".join(f"{h:>14}" for h in head)]
    for r in result.rows:
        lo, hi = r.detection_range
        cells = [f"{r.n:,}" + ("" if r.reliable else " !"), f"{100 * r.detection:.1f}%",
                 f"{100 * lo:.0f}–{100 * hi:.0f}%", f"{100 * r.false_alarm:.1f}%"]
        cells += [f"{100 * d:.0f}% / {100 * f:.0f}%" for d, f in r.per_rule.values()]
        lines.append("  ".join(f"{c:>14}" for c in cells))
    lines += notes(result)
    lines.append("Pilot effect (candidate − baseline, 95% interval): " + "; ".join(
        f"{k}: {e['delta']:.4g} [{e['ci95'][0]:.4g}, {e['ci95'][1]:.4g}]" + ("" if e["distinguishable"] else " ~0")
        for k, e in result.effects.items()))
    lines.append("Scaling law of the candidate's difference: var(N) = a/N + c fitted on pilot subsets; " + "; ".join(
        f"{k}: a = {v['candidate'].draws.a:.4g}, c = {v['candidate'].draws.c:.4g}, δ = {v['candidate'].draws.delta:.4g}"
        for k, v in result.laws.items()))
    return "\n".join(lines)
