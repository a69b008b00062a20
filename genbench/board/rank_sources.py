"""Where a board's paired ranks find each model's feature rows: its features file, the caches, its source.

A board built with `genbench eval ... --add-to` holds rows of results computed anywhere. To pair them, the
ranks look, per model, for:
1. the features file its result records (`samples.features_file`, written by `--save-features`): at the
   path the row records relative to the board (`board_path`, set by `--add-to`), else by its file name in
   the board's folder or in a `--features-dir`. A file is used only when its sha256 is the one recorded and
   it names the model's sample fingerprint and N (genbench.compare.features_file.read_features);
2. the feature caches, in order (the user's, then `genbench run`'s `runs/cache` when present);
3. re-opening the recorded source (a dataset name or a sample file whose fingerprint still matches).
Rows found are kept in memory for the whole board, so every pair reuses them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from genbench.compare.features_file import FeaturesFile, read_features
from genbench.compare.find_features import FeaturesUnavailable, Finder, MultiCache
from genbench.errors import GenbenchError
from genbench.features.cache import FeatureCache

RUN_CACHE = Path("runs") / "cache"  # `genbench run`'s feature cache under its default --out


def default_cache_dirs(given: Sequence[str | Path] | None = None) -> list[Path]:
    """The caches searched: those given, else $GENBENCH_HOME/cache and `runs/cache` when it exists."""
    from genbench.paths import default_cache_dir

    if given:
        return [Path(c) for c in given]
    return [default_cache_dir()] + ([RUN_CACHE] if RUN_CACHE.is_dir() else [])


@dataclass
class MemoCache:
    """Caches read in order, with every hit and computed miss kept in memory for the caller's lifetime."""

    inner: MultiCache
    memo: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        if key not in self.memo:
            hit = self.inner.load(key)
            if hit is None:
                return None
            self.memo[key] = hit
        return self.memo[key]

    def get_or_compute(self, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        if key not in self.memo:
            self.memo[key] = self.inner.get_or_compute(key, compute)
        return self.memo[key]


def file_candidates(record: Mapping, board_dir: Path, dirs: Sequence[Path]) -> list[Path]:
    """Where a recorded features file may lie: the row's board-relative path, then its name in each folder."""
    out = [board_dir / str(record["board_path"])] if record.get("board_path") else []
    name = Path(str(record.get("path") or "")).name
    out += [d / name for d in [board_dir, *dirs]] if name else []
    return list(dict.fromkeys(out))


def features_file_of(samples: Mapping, board_dir: Path, dirs: Sequence[Path]) -> FeaturesFile | None:
    """The first candidate file that is the one the result records (sha256, fingerprint, N), else None."""
    from genbench.compare.verify import extractor_width

    record = samples.get("features_file")
    if not isinstance(record, Mapping) or not record.get("sha256"):
        return None
    for path in file_candidates(record, board_dir, dirs):
        if not path.is_file():
            continue
        try:
            ff = read_features(path, str(record["sha256"]), extractor_width)
        except GenbenchError:
            continue
        if ff.fingerprint == samples.get("fingerprint") and ff.n == samples.get("n"):
            return ff
    return None


@dataclass(frozen=True)
class Sources:
    """Per model, its checked features file (if any); for everything else one memoised Finder."""

    finder: Finder
    files: Mapping[str, FeaturesFile]
    unfound: Mapping[str, str] = field(default_factory=dict)  # model -> name of its recorded file not found

    def for_pair(self, a: str, b: str) -> Finder:
        """The Finder of the pair (a as "candidate", b as "baseline"): their files answer for their sides."""
        files = {side: self.files[m] for side, m in (("candidate", a), ("baseline", b)) if m in self.files}
        return dataclasses.replace(self.finder, files=files)

    def probe(self, cells: Mapping[str, Mapping], ref: Mapping, extractor) -> None:
        """Find every model's rows and the reference's now (kept for the pairs); FeaturesUnavailable names
        the first model whose rows are nowhere."""
        try:
            self.finder.raw_of(extractor, ref, "reference")
        except FeaturesUnavailable as e:
            raise FeaturesUnavailable(f"the reference: {e}") from None
        for model, cell in cells.items():
            try:
                self.for_pair(model, model).raw_of(extractor, cell["samples"], "candidate")
            except FeaturesUnavailable as e:
                raise FeaturesUnavailable(f"model {model!r}: {self._why(model, e)}") from None

    def _why(self, model: str, e: Exception) -> str:
        text = _plain(e)
        if model not in self.unfound:
            return text
        return (f"its features file {self.unfound[model]} is not beside the board, where --add-to recorded it, "
                f"nor in a --features-dir (or not the one its result records), and {text}")


def _plain(e: Exception) -> str:
    text = str(e)
    return text.split(": ", 1)[1] if text.startswith(("candidate: ", "baseline: ")) else text


def board_sources(board_path: Path, cells: Mapping[str, Mapping], cache_dirs: Sequence[str | Path],
                  features_dirs: Sequence[str | Path] = ()) -> Sources:
    """The sources of one group's models (cells: model -> its primary row)."""
    dirs = [Path(d) for d in features_dirs]
    files = {m: ff for m, c in cells.items()
             if (ff := features_file_of(c.get("samples") or {}, board_path.parent, dirs)) is not None}
    unfound = {m: Path(str(c["samples"]["features_file"].get("path"))).name for m, c in cells.items()
               if m not in files and isinstance((c.get("samples") or {}).get("features_file"), Mapping)}
    cache = MemoCache(MultiCache([FeatureCache(c) for c in cache_dirs] or [FeatureCache(None)]))  # none: memory only
    return Sources(Finder(cache, {}), files, unfound)  # type: ignore[arg-type]
