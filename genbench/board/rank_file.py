"""Write `<board>.ranks.json`: the paired, Holm-controlled ranks of every group whose features are found.

Called by `genbench run` (after a suite's results), `genbench eval --add-to` (after each added model) and
`genbench board rank`. The board is re-read and the ranks file written (atomically) under the board's
lock, so a concurrent `--add-to` cannot slip a model in between. A group whose stored paired entry is
still current (same models, fingerprints and primary values) keeps it as it is unless `force`; any other
group is computed again from the features (genbench.board.rank_sources), or, when they cannot be found,
gets an "unpaired" entry naming why, which the rendered table and its rule show.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from genbench.board.ranks import METHOD, UNPAIRED_METHOD, group_digest, paired_ranks, ranks_path, stored_entry
from genbench.io import atomic_write_json, lock_for

if TYPE_CHECKING:
    from genbench.board.leaderboard import Group, Leaderboard


@dataclass(frozen=True)
class RankOptions:
    """Where the features are looked for, and how the pairs are tested."""

    cache_dirs: Sequence[str | Path] = ()
    features_dirs: Sequence[str | Path] = ()
    reps: int = 200
    device: str = "cpu"
    force: bool = False  # recompute groups whose paired entry is current too


def write_ranks(board: "Leaderboard | str | Path", cache_dirs: Sequence[str | Path] = (), reps: int = 200,
                device: str = "cpu", opts: RankOptions | None = None) -> dict[str, dict]:
    """Compute and write the board's ranks file; returns its entries by protocol_id ({} for a board
    without a file)."""
    from genbench.board.leaderboard import Leaderboard

    opts = opts or RankOptions(cache_dirs, (), reps, device)
    path = board.path if isinstance(board, Leaderboard) else Path(board)
    if path is None:
        return {}
    with lock_for(path):
        current = Leaderboard.load(path)
        out = {g.protocol_id: _entry(g, path, opts) for g in current.groups()}
        atomic_write_json(ranks_path(path), out)
    return out


def _entry(group: "Group", path: Path, opts: RankOptions) -> dict:
    stored = stored_entry(group, path)
    if stored and stored.get("method") == METHOD and not opts.force:
        return stored
    from genbench.compare.find_features import FeaturesUnavailable
    from genbench.errors import GenbenchError

    try:
        found = paired_ranks(group, _sources(group, path, opts), _extractors(group, opts.device), opts.reps)
    except (FeaturesUnavailable, GenbenchError) as e:  # e.g. a cache file that cannot be read: rank unpaired
        return {"method": UNPAIRED_METHOD, "digest": group_digest(group), "reason": str(e)}
    return {"method": METHOD, "digest": group_digest(group), "labels": found.ranks.labels,
            "rule": found.ranks.rule, "pairs": [t.to_json() for t in found.pairs]}


def _sources(group: "Group", path: Path, opts: RankOptions):
    from genbench.board.rank_sources import board_sources

    cells = {m: group.cell(m, group.primary) or {} for m in group.models()}
    return board_sources(path, cells, list(opts.cache_dirs), list(opts.features_dirs))


def _extractors(group: "Group", device: str) -> dict:
    """The extractor of the primary metric's space ({} when the protocol or the extractor is not available)."""
    from genbench.compare.find_features import FeaturesUnavailable, space_of
    from genbench.errors import GenbenchError
    from genbench.features.extract import build_extractor
    from genbench.protocols import PROTOCOLS

    name = str(group.protocol.get("protocol"))
    try:
        space = space_of(PROTOCOLS.get(name), group.primary) if name in PROTOCOLS else None
        return {} if space is None else {space.extractor: build_extractor(space.extractor, device=device)}
    except (FeaturesUnavailable, GenbenchError):
        return {}


def describe(entries: dict[str, dict]) -> list[str]:
    """One line per group: paired (how many pairs) or unpaired (why)."""
    out = []
    for pid, e in entries.items():
        if e.get("method") == METHOD:
            out.append(f"{pid}: paired, Holm over {len(e.get('pairs') or [])} pairs")
        else:
            out.append(f"{pid}: overlap (unpaired): {e.get('reason')}")
    return out
