"""Derived inputs that rows of output roles cannot rebuild (issue #17): chosen by their declared sources,
derived per set under the same conditions as an evaluation, stored in features files (own dtype,
provenance, covered by the sha256) and resampled with the same row indices as the set's other rows."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import genbench.features._all  # noqa: F401  (registers every extractor)
from genbench.compare.features_file import FeaturesFile, read_features, sha256_of, write_features
from genbench.compare.find_features import FeaturesUnavailable, Finder, paired_differences
from genbench.errors import InputError
from genbench.eval.derived_rows import (conditional, derive_for_set, provenance, provenance_mismatch,
                                        unrebuildable)
from genbench.features.cache import FeatureCache
from genbench.protocols import custom_protocol

DIGITS = "digits-classifier"
CLASSES = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]], dtype=np.int64)  # [4, 3]
ROWS = {DIGITS: {"embedding": np.arange(12, dtype=np.float32).reshape(4, 3)}}
IDENT = {DIGITS: {"name": DIGITS, "version": "1"}}
PROV = {DIGITS: {"channel_classes": provenance(DIGITS, "channel_classes", frozenset({"stacked-channels"}))}}


def test_derived_inputs_are_chosen_by_their_sources_not_names() -> None:
    assert unrebuildable(DIGITS, {"embedding", "class_probs", "channel_classes"}) == ["channel_classes"]
    assert unrebuildable("clip-vit-b-32", {"clip", "text", "text_hessel"}) == ["text", "text_hessel"]
    assert unrebuildable("pixels", {"embedding"}) == []
    assert conditional(DIGITS, ["channel_classes"]) and not conditional("clip-vit-b-32", ["text"])


def test_derive_for_set_applies_the_evaluations_conditions() -> None:
    from genbench.data import load_dataset
    from genbench.features.digits import classify_channels

    x = np.asarray(load_dataset("stacked-digits").data)[:6]  # [6, 3, 8, 8]
    ext = SimpleNamespace(name=DIGITS, device="cpu")
    args = (ext, ["channel_classes"], "fake", lambda: x, {})
    assert derive_for_set(*args, frozenset()) == {}  # plain digits: whole-image classes, no channel classes
    got = derive_for_set(*args, frozenset({"stacked-channels"}))["channel_classes"]
    assert got.dtype == np.int64 and np.array_equal(got, classify_channels(x))
    assert derive_for_set(SimpleNamespace(name="clip-vit-b-32", device="cpu"), ["text"], "fake", lambda: x, {},
                          frozenset()) == {}  # no prompts: not derivable


def test_features_file_keeps_derived_rows_integer_with_provenance(tmp_path: Path) -> None:
    path = tmp_path / "r.features.npz"
    rec = write_features(path, "ab" * 32, 4, ROWS, IDENT, {DIGITS: {"channel_classes": CLASSES}}, PROV)
    ff = read_features(path, rec["sha256"])
    got = ff.derived_of(DIGITS)["channel_classes"]
    assert got.dtype == np.int64 and np.array_equal(got, CLASSES) and ff.provenance == PROV
    assert set(ff.raw(DIGITS)) == {"embedding"}  # derived rows are not taken for output roles
    assert provenance_mismatch(DIGITS, "channel_classes", ff.provenance[DIGITS]["channel_classes"]) is None
    plain = tmp_path / "plain.features.npz"
    write_features(plain, "ab" * 32, 4, ROWS, IDENT)
    with np.load(plain, allow_pickle=False) as z:
        assert "derived" not in z.files  # files without derived rows are what they were before


def test_a_changed_derived_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.features.npz"
    rec = write_features(path, "ab" * 32, 4, ROWS, IDENT, {DIGITS: {"channel_classes": CLASSES}}, PROV)
    changed = CLASSES.copy()
    changed[2, 1] = 3
    write_features(path, "ab" * 32, 4, ROWS, IDENT, {DIGITS: {"channel_classes": changed}}, PROV)
    with pytest.raises(InputError, match="sha256"):
        read_features(path, rec["sha256"])
    assert sha256_of(path) != rec["sha256"]


def test_malformed_derived_rows_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.features.npz"
    with pytest.raises(InputError, match="derived rows digits-classifier.channel_classes"):
        write_features(path, "ab" * 32, 4, ROWS, IDENT, {DIGITS: {"channel_classes": CLASSES[:3]}}, PROV)
    with pytest.raises(InputError, match="no provenance"):
        write_features(path, "ab" * 32, 4, ROWS, IDENT, {DIGITS: {"channel_classes": CLASSES}}, {})
    np.savez(path, format=np.array("genbench-features/1"), fingerprint=np.array("x"), n=np.array(4),
             identities=np.array("{}"), derived=np.array('{"digits-classifier": {"channel_classes": {}}}'),
             **{"digits-classifier.channel_classes": CLASSES.astype(np.int8)})
    with pytest.raises(InputError, match="int64/float32/float64"):
        read_features(path)
    np.savez(path, format=np.array("genbench-features/1"), fingerprint=np.array("x"), n=np.array(4),
             identities=np.array("{}"), derived=np.array('{"digits-classifier": {"channel_classes": {}}}'))
    with pytest.raises(InputError, match="recorded but not stored"):
        read_features(path)


def test_rows_derived_another_way_are_not_used() -> None:
    assert "derived by" in provenance_mismatch(DIGITS, "channel_classes",
                                               {"sources": ["images"], "derived_by": "x.other"})
    assert "derived from" in provenance_mismatch(DIGITS, "channel_classes", {"sources": ["logits"]})


# ---- CLIP score's `text`: only stored rows can stand in for the prompts ------------------------------------
CLIP = "clip-vit-b-32"
CLIP_IDENT = {"name": CLIP, "version": "1"}


def _clip_file(tmp_path: Path, what: str, emb: np.ndarray, text: np.ndarray | None) -> FeaturesFile:
    derived = {} if text is None else {CLIP: {"text": text}}
    prov = {CLIP: {"text": provenance(CLIP, "text", frozenset())}}
    path = tmp_path / f"{what}.features.npz"
    write_features(path, what, len(emb), {CLIP: {"embedding": emb}}, {CLIP: CLIP_IDENT}, derived, prov)
    return read_features(path)


def _clip_pair(tmp_path: Path, texts: dict[str, np.ndarray | None]) -> dict:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(40, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    files = {w: _clip_file(tmp_path, w, emb, None if t is None else t(emb)) for w, t in texts.items()}
    ext = SimpleNamespace(name=CLIP, device="cpu", cache_identity=lambda: CLIP_IDENT)
    finder = Finder(FeatureCache(None), {}, files=files)
    desc = {w: {"fingerprint": w, "n": 40} for w in texts}
    return paired_differences(desc["candidate"], desc["baseline"], desc["reference"], ["clip_score"],
                              custom_protocol(CLIP, ("clip_score",)), finder, {CLIP: ext}, reps=50, seed=0)


def test_clip_score_without_text_rows_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(FeaturesUnavailable) as e:
        _clip_pair(tmp_path, {"candidate": None, "baseline": lambda e: e, "reference": None})
    msg = str(e.value)
    assert "\n" not in msg and "'clip_score'" in msg and "candidate" in msg
    assert "text (from the network and the prompts)" in msg and "stores no such rows" in msg


def test_stored_text_rows_pair_and_resample_with_the_image_rows(tmp_path: Path) -> None:
    """text == image embedding row by row: every image scores 100, in every replicate only if the text rows
    are drawn with the same indices as the image rows (a shuffled pairing would score about 0)."""
    d = _clip_pair(tmp_path, {"candidate": lambda e: e, "baseline": lambda e: e, "reference": None})["clip_score"]
    assert d.a == pytest.approx(100.0) and d.b == pytest.approx(100.0)
    assert d.replicates == 50 and d.std == pytest.approx(0.0, abs=1e-9) and d.method == "paired bootstrap"


def test_a_candidate_given_as_samples_is_told_that_prompts_are_missing() -> None:
    from genbench.compare.find_features import missing_message

    finder = Finder(FeatureCache(None), {})
    sets = {"candidate": {"embedding": np.zeros((2, 8)), "clip": np.zeros((2, 8))}, "reference": {}}
    msg = missing_message(["clip_score"], CLIP, ["clip_score"], sets, finder)
    assert msg is not None and "a paired comparison has no prompts" in msg and "'clip_score'" in msg
    assert missing_message(["clip_score"], CLIP, ["clip_score"], {"candidate": {"text": 1}}, finder) is None


def test_a_set_is_reopened_only_when_a_derived_input_applies(monkeypatch) -> None:
    """digits-default gates `modes`, which lists channel_classes; without the stacked-channels trait the
    finder must not re-open (or fail on) a set whose rows came from the cache."""
    import genbench.compare.find_features as ff
    from genbench.compare.find_features import Want

    reopened: list[str] = []

    def reopen(desc, what):
        reopened.append(what)
        raise FeaturesUnavailable(f"{what}: source gone")

    monkeypatch.setattr(ff, "_reopen", reopen)
    monkeypatch.setattr(Finder, "_raw", lambda self, e, d, w: {"embedding": np.zeros((4, 3), np.float32),
                                                               "logits": np.zeros((4, 10), np.float32)})
    finder, ext = Finder(FeatureCache(None), {}), SimpleNamespace(name=DIGITS, device="cpu")
    desc = {"fingerprint": "ab", "n": 4, "source": "gone.npz"}
    out = finder.roles(ext, desc, "candidate", Want(("channel_classes",), "fake", frozenset()))
    assert "class_probs" in out and "channel_classes" not in out and reopened == []
    with pytest.raises(FeaturesUnavailable, match="source gone"):
        finder.roles(ext, desc, "candidate", Want(("channel_classes",), "fake", frozenset({"stacked-channels"})))
    assert reopened == ["candidate"]
