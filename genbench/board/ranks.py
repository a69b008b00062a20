"""Leaderboard ranks from all pairs: rank = 1 + the number of models significantly better.

Models are listed by the primary metric's point value. Every pair is tested (genbench.compare.pairwise):
paired, when every model's features and the reference's are found (the release gate's machinery,
genbench.compare.paired: each bootstrap replicate resamples the shared reference once and each sample
set once), with Holm's step-down correction over all pairs, so the chance of *any* false separation on a
board stays at or below 5%. A model's rank interval runs from 1 + (models significantly better) to
k − (models significantly worse), Chatbot Arena's "rank (UB)" and its mirror; it shows as `2` when
both ends agree, else as e.g. `2–4`. Unlike chaining neighbours, a run of small steps cannot merge the
two ends of a board: real data and the worst model are compared directly.

The fallback, for boards without features: the same rank rule over interval overlap (a pair differs
when the two models' own 95% CIs do not overlap; values without CIs differ when the values do), with no
family-wise control; the rule under the table says so.

Paired ranks need features, which a render cannot count on (the cache may be elsewhere or gone), so
they are computed by `write_ranks` (which has the cache) into `<board>.ranks.json`, keyed by each
group's protocol_id and a digest of its models' fingerprints and primary values. `rank_labels` reads
that file when it matches the group and otherwise falls back to interval overlap, so rendering stays
deterministic from the files alone.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from genbench.compare.pairwise import ALPHA, RankInterval, beats, overlap_wins, rank_intervals, compare_all_pairs
from genbench.io import atomic_write_json

if TYPE_CHECKING:
    from genbench.board.leaderboard import Group, Leaderboard

PAIRED_RULE = ("Ranks: 1 + the number of models significantly better on {primary} (best–worst possible "
               "rank when they differ); every pair tested by a paired bootstrap (B = {reps}) against the "
               "shared reference, Holm-corrected over all {pairs} pairs (family-wise error at most {alpha:g}).")
OVERLAP_RULE = ("Ranks: 1 + the number of models significantly better on {primary} (best–worst possible "
                "rank when they differ); interval-overlap fallback: a pair differs when the two 95% "
                "intervals do not overlap, with no family-wise correction (features for a paired "
                "comparison were not available).")
DASH = "\u2013"


@dataclass(frozen=True)
class Ranks:
    labels: dict[str, str]  # model -> "1" or "1–2"
    rule: str


def parse_label(label: str) -> tuple[int, int]:
    """(best, worst) of a rank label "3" or "2–4"."""
    best, _, worst = str(label).partition(DASH)
    return int(best), int(worst or best)


def _labels(intervals: dict[str, RankInterval]) -> dict[str, str]:
    return {m: r.label for m, r in intervals.items()}


def _ranked_valued(group: "Group") -> list[str]:
    out = []
    for m in group.ranked_models():
        cell = group.cell(m, group.primary)
        v = None if cell is None else cell.get("value")
        if v is not None and math.isfinite(float(v)):
            out.append(m)
    return out


def overlap_ranks(group: "Group") -> Ranks:
    models = _ranked_valued(group)
    cells = {m: group.cell(m, group.primary) for m in models}
    wins = overlap_wins({m: c.get("ci95") for m, c in cells.items()},
                        {m: float(c["value"]) for m, c in cells.items()}, bool(group.direction(group.primary)))
    return Ranks(_labels(rank_intervals(models, wins)), OVERLAP_RULE.format(primary=group.primary))


def group_digest(group: "Group") -> str:
    """sha256 over (model, sample fingerprint, primary value) of the group's ranked models."""
    items = []
    for m in _ranked_valued(group):
        cell = group.cell(m, group.primary)
        items.append([m, (cell.get("samples") or {}).get("fingerprint"), cell.get("value")])
    return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()


def ranks_path(board_path: str | Path) -> Path:
    p = Path(board_path)
    return p.with_name(p.stem + ".ranks.json")


METHOD = "all-pairs-holm"  # ranks.json entries written by another rule (neighbour chaining) are not read


def rank_labels(group: "Group", board_path: str | Path | None = None) -> Ranks:
    """The group's rank labels: paired ones from `<board>.ranks.json` when current, else interval overlap."""
    if board_path is not None and ranks_path(board_path).is_file():
        try:
            stored = json.loads(ranks_path(board_path).read_text()).get(group.protocol_id)
        except (OSError, json.JSONDecodeError, AttributeError):
            stored = None
        if stored and stored.get("method") == METHOD and stored.get("digest") == group_digest(group):
            return Ranks(dict(stored["labels"]), stored["rule"])
    return overlap_ranks(group)


@dataclass(frozen=True)
class PairedRanks:
    ranks: Ranks
    pairs: list  # [PairTest], for the ranks file


def paired_ranks(group: "Group", finder, extractors: dict, reps: int = 200, seed: int = 0,
                 alpha: float = ALPHA) -> PairedRanks | None:
    """All-pairs paired ranks of one section, or None when a protocol, extractor or set's features are missing."""
    from genbench.errors import GenbenchError
    from genbench.compare.find_features import FeaturesUnavailable, paired_differences
    from genbench.protocols import PROTOCOLS

    name = str(group.protocol.get("protocol"))
    if name not in PROTOCOLS:
        return None
    protocol, models = PROTOCOLS.get(name), _ranked_valued(group)
    cells = {m: group.cell(m, group.primary) for m in models}
    refs = {(c.get("reference") or {}).get("fingerprint") for c in cells.values()}
    if len(refs) != 1:
        return None

    def diff(a: str, b: str):
        return paired_differences(cells[a]["samples"], cells[b]["samples"], cells[a]["reference"],
                                  [group.primary], protocol, finder, extractors, reps, seed)[group.primary]

    try:
        tests = compare_all_pairs(models, diff, alpha)
    except (FeaturesUnavailable, GenbenchError):
        return None
    labels = _labels(rank_intervals(models, beats(tests, bool(group.direction(group.primary)))))
    rule = PAIRED_RULE.format(reps=reps, primary=group.primary, pairs=len(tests), alpha=alpha)
    return PairedRanks(Ranks(labels, rule), tests)


def write_ranks(board: "Leaderboard", cache_dirs: Sequence[str | Path], reps: int = 200,
                device: str = "cpu") -> Path | None:
    """Compute all-pairs paired ranks for every section whose features are found; write `<board>.ranks.json`."""
    from genbench.features.cache import FeatureCache
    from genbench.compare.find_features import Finder, MultiCache

    if board.path is None:
        return None
    finder = Finder(MultiCache([FeatureCache(c) for c in cache_dirs]), {})
    out = {}
    for group in board.groups():
        found = paired_ranks(group, finder, _extractors(group, device), reps)
        if found is not None:
            out[group.protocol_id] = {"method": METHOD, "digest": group_digest(group), "labels": found.ranks.labels,
                                      "rule": found.ranks.rule, "pairs": [t.to_json() for t in found.pairs]}
    return atomic_write_json(ranks_path(board.path), out)


def _extractors(group: "Group", device: str) -> dict:
    from genbench.errors import GenbenchError
    from genbench.features.extract import build_extractor
    from genbench.protocols import POINTS

    out = {}
    for sp in group.protocol.get("spaces") or []:
        name = sp.get("extractor") if isinstance(sp, dict) else None
        if name and name != POINTS:
            try:
                out[name] = build_extractor(name, device=device)
            except GenbenchError:
                continue
    return out
