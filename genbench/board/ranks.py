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
family-wise control. The table itself says so: every rank cell of such a group reads e.g.
`2–4 overlap (unpaired)` (`UNPAIRED`), the CSV gains a `rank_rule` column, and the rule under the table
says why the features were not found and which command pairs them.

Paired ranks need features, which a render cannot count on (the cache may be elsewhere or gone), so
they are computed by `genbench.board.rank_file.write_ranks` (by `genbench run`, `genbench eval --add-to`
and `genbench board rank`, which have the caches) into `<board>.ranks.json`, keyed by each group's
protocol_id and a digest of its models' fingerprints and primary values. A group whose features were not
found gets an entry {"method": "unpaired", "digest", "reason"} instead. `rank_labels` reads that file
when it matches the group and otherwise falls back to interval overlap, so rendering stays
deterministic from the files alone.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genbench.compare.pairwise import ALPHA, RankInterval, beats, overlap_wins, rank_intervals, compare_all_pairs

if TYPE_CHECKING:
    from genbench.board.leaderboard import Group
    from genbench.board.rank_sources import Sources

PAIRED_RULE = ("Ranks: 1 + the number of models significantly better on {primary} (best–worst possible "
               "rank when they differ); every pair tested by a paired bootstrap (B = {reps}) against the "
               "shared reference, Holm-corrected over all {pairs} pairs (family-wise error at most {alpha:g}).")
OVERLAP_RULE = ("Ranks: 1 + the number of models significantly better on {primary} (best–worst possible "
                "rank when they differ); interval-overlap fallback: a pair differs when the two 95% "
                "intervals do not overlap, with no family-wise correction (UNPAIRED: {why}; "
                "`genbench board rank BOARD --cache-dir DIR --features-dir DIR` pairs them when the features "
                "can be found).")
NOT_COMPUTED = "the ranks file holds no paired ranks of these rows (it is missing, or older than them)"
UNPAIRED = "overlap (unpaired)"  # what every rank cell of an unpaired group adds: "2–4 overlap (unpaired)"
DASH = "\u2013"


@dataclass(frozen=True)
class Ranks:
    labels: dict[str, str]  # model -> "1" or "1–2"
    rule: str
    paired: bool = False  # False: interval overlap, without family-wise control

    def cell(self, model: str, default: str) -> str:
        """The rank cell shown in a table: the label, marked when the ranks are not paired."""
        label = self.labels.get(model, default)
        return label if self.paired else f"{label} {UNPAIRED}"


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


def overlap_ranks(group: "Group", why: str = NOT_COMPUTED) -> Ranks:
    models = _ranked_valued(group)
    cells = {m: group.cell(m, group.primary) for m in models}
    wins = overlap_wins({m: c.get("ci95") for m, c in cells.items()},
                        {m: float(c["value"]) for m, c in cells.items()}, bool(group.direction(group.primary)))
    rule = OVERLAP_RULE.format(primary=group.primary, why=why.rstrip("."))
    return Ranks(_labels(rank_intervals(models, wins)), rule)


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
UNPAIRED_METHOD = "unpaired"  # an entry saying why a group's features were not found


def stored_entry(group: "Group", board_path: str | Path | None) -> dict | None:
    """The ranks file's entry for the group when it is current (its digest matches), else None."""
    if board_path is None or not ranks_path(board_path).is_file():
        return None
    try:
        stored = json.loads(ranks_path(board_path).read_text()).get(group.protocol_id)
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    return stored if isinstance(stored, dict) and stored.get("digest") == group_digest(group) else None


def rank_labels(group: "Group", board_path: str | Path | None = None) -> Ranks:
    """The group's rank labels: paired ones from `<board>.ranks.json` when current, else interval overlap
    (with the reason the ranks file records, when it records one)."""
    stored = stored_entry(group, board_path)
    if stored and stored.get("method") == METHOD:
        return Ranks(dict(stored["labels"]), stored["rule"], paired=True)
    if stored and stored.get("method") == UNPAIRED_METHOD:
        return overlap_ranks(group, str(stored.get("reason") or NOT_COMPUTED))
    return overlap_ranks(group)


@dataclass(frozen=True)
class PairedRanks:
    ranks: Ranks
    pairs: list  # [PairTest], for the ranks file


def paired_ranks(group: "Group", sources: "Sources", extractors: dict, reps: int = 200, seed: int = 0,
                 alpha: float = ALPHA) -> PairedRanks:
    """All-pairs paired ranks of one section; FeaturesUnavailable says why they cannot be computed (no
    registered protocol, several references, an extractor or a model's rows that cannot be found)."""
    from genbench.errors import GenbenchError
    from genbench.compare.find_features import FeaturesUnavailable, paired_differences, space_of
    from genbench.protocols import PROTOCOLS

    name = str(group.protocol.get("protocol"))
    if name not in PROTOCOLS:
        raise FeaturesUnavailable(f"protocol {name!r} is not registered in this genbench")
    protocol, models = PROTOCOLS.get(name), _ranked_valued(group)
    cells = {m: group.cell(m, group.primary) for m in models}
    refs = {(c.get("reference") or {}).get("fingerprint") for c in cells.values()}
    if len(refs) != 1:
        raise FeaturesUnavailable("the models were scored against different reference sets")
    ref = next(iter(cells.values()))["reference"]
    space = space_of(protocol, group.primary)
    if space.extractor not in extractors:
        raise FeaturesUnavailable(f"extractor {space.extractor} is not available")
    sources.probe(cells, ref, extractors[space.extractor])

    def diff(a: str, b: str):
        return paired_differences(cells[a]["samples"], cells[b]["samples"], ref, [group.primary], protocol,
                                  sources.for_pair(a, b), extractors, reps, seed)[group.primary]

    try:
        tests = compare_all_pairs(models, diff, alpha)
    except GenbenchError as e:
        raise FeaturesUnavailable(str(e)) from None
    labels = _labels(rank_intervals(models, beats(tests, bool(group.direction(group.primary)))))
    rule = PAIRED_RULE.format(reps=reps, primary=group.primary, pairs=len(tests), alpha=alpha)
    return PairedRanks(Ranks(labels, rule, paired=True), tests)
