"""Rank groups: a leaderboard says when neighbouring models are statistically tied.

Models are ordered by the primary metric's point value. For each neighbouring pair (k, k+1) the
difference is tested: paired, when every model's features and the reference's are found (the same
machinery as the release gate, genbench.compare.paired: each bootstrap replicate resamples the shared reference
once and each sample set once; significant when the 95% interval of the difference excludes 0); else
by interval overlap (significant when the two models' own 95% CIs do not overlap; values without CIs
count as distinct). A new rank group starts after every significant step, so models whose difference
from the next is not significant share a rank, shown as e.g. `1–2`. The rule is stated under each table.

Paired groups need features, which a render cannot count on (the cache may be elsewhere or gone), so
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

from genbench.io import atomic_write_json

if TYPE_CHECKING:
    from genbench.board.leaderboard import Group, Leaderboard

PAIRED_RULE = ("Rank groups: paired bootstrap (B = {reps}) of each difference to the next model on "
               "{primary}, against the shared reference; a rank is shared while the 95% interval of "
               "the difference includes 0.")
OVERLAP_RULE = ("Rank groups: models share a rank while their 95% intervals on {primary} overlap those "
                "of the next model (interval overlap; features for a paired comparison were not available).")
DASH = "\u2013"


@dataclass(frozen=True)
class Ranks:
    labels: dict[str, str]  # model -> "1" or "1–2"
    rule: str


def groups_from_steps(models: Sequence[str], significant: Sequence[bool]) -> dict[str, str]:
    """Rank labels: significant[k] says whether models[k] and models[k+1] differ."""
    labels, start = {}, 0
    for k in range(len(models)):
        if k == len(models) - 1 or significant[k]:
            first, last = start + 1, k + 1
            for m in models[start:k + 1]:
                labels[m] = str(first) if first == last else f"{first}{DASH}{last}"
            start = k + 1
    return labels


def _ranked_valued(group: "Group") -> list[str]:
    out = []
    for m in group.ranked_models():
        cell = group.cell(m, group.primary)
        v = None if cell is None else cell.get("value")
        if v is not None and math.isfinite(float(v)):
            out.append(m)
    return out


def _overlap_step(group: "Group", a: str, b: str) -> bool:
    ca, cb = (group.cell(m, group.primary).get("ci95") for m in (a, b))
    if not ca or not cb:
        return group.cell(a, group.primary)["value"] != group.cell(b, group.primary)["value"]
    return ca[1] < cb[0] or cb[1] < ca[0]


def overlap_ranks(group: "Group") -> Ranks:
    models = _ranked_valued(group)
    steps = [_overlap_step(group, a, b) for a, b in zip(models, models[1:])]
    labels = groups_from_steps(models, steps)
    return Ranks(labels, OVERLAP_RULE.format(primary=group.primary))


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


def rank_labels(group: "Group", board_path: str | Path | None = None) -> Ranks:
    """The group's rank labels: paired ones from `<board>.ranks.json` when current, else interval overlap."""
    if board_path is not None and ranks_path(board_path).is_file():
        try:
            stored = json.loads(ranks_path(board_path).read_text()).get(group.protocol_id)
        except (OSError, json.JSONDecodeError):
            stored = None
        if stored and stored.get("digest") == group_digest(group):
            return Ranks(dict(stored["labels"]), stored["rule"])
    return overlap_ranks(group)


def paired_ranks(group: "Group", finder, extractors: dict, reps: int = 200, seed: int = 0) -> Ranks | None:
    """Paired rank groups of one section, or None when a protocol, extractor or set's features are missing."""
    from genbench.errors import GenbenchError
    from genbench.compare.find_features import FeaturesUnavailable, paired_differences
    from genbench.protocols import PROTOCOLS

    name = str(group.protocol.get("protocol"))
    if name not in PROTOCOLS:
        return None
    protocol, models = PROTOCOLS.get(name), _ranked_valued(group)
    cells = [group.cell(m, group.primary) for m in models]
    steps = []
    try:
        for a, b in zip(cells, cells[1:]):
            d = paired_differences(b["samples"], a["samples"], a["reference"], [group.primary], protocol, finder,
                                   extractors, reps, seed)[group.primary]
            steps.append(not (d.lo <= 0.0 <= d.hi))
    except (FeaturesUnavailable, GenbenchError):
        return None
    return Ranks(groups_from_steps(models, steps), PAIRED_RULE.format(reps=reps, primary=group.primary))


def write_ranks(board: "Leaderboard", cache_dirs: Sequence[str | Path], reps: int = 200,
                device: str = "cpu") -> Path | None:
    """Compute paired rank groups for every section whose features are found; write `<board>.ranks.json`."""
    from genbench.features.cache import FeatureCache
    from genbench.compare.find_features import Finder, MultiCache

    if board.path is None:
        return None
    finder = Finder(MultiCache([FeatureCache(c) for c in cache_dirs]), {})
    out = {}
    for group in board.groups():
        ranks = paired_ranks(group, finder, _extractors(group, device), reps)
        if ranks is not None:
            out[group.protocol_id] = {"digest": group_digest(group), "labels": ranks.labels, "rule": ranks.rule}
    return atomic_write_json(ranks_path(board.path), out)


def _extractors(group: "Group", device: str) -> dict:
    from genbench.errors import GenbenchError
    from genbench.features.extract import build_extractor

    out = {}
    for sp in group.protocol.get("spaces") or []:
        name = sp.get("extractor") if isinstance(sp, dict) else None
        if name and name != "points":
            try:
                out[name] = build_extractor(name, device=device)
            except GenbenchError:
                continue
    return out
