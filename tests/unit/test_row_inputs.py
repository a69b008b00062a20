"""Paired comparisons read their inputs through one mechanism: the extractor's declared derived inputs
(ExtractorSpec.provides) computed from feature rows (genbench.eval.inputs.row_inputs / row_sources)."""
from __future__ import annotations

import numpy as np
import pytest

import genbench.features._all  # noqa: F401  (registers every extractor)
from genbench.eval.inputs import row_inputs, row_sources
from genbench.numerics import softmax64


def _rows(rng: np.random.Generator, **dims: int) -> dict[str, np.ndarray]:
    return {k: rng.normal(size=(7, d)).astype(np.float32) for k, d in dims.items()}


def test_digits_rows_give_class_probs_from_logits() -> None:
    raw = _rows(np.random.default_rng(0), embedding=64, logits=10)
    out = row_inputs("digits-classifier", raw)
    assert np.array_equal(out["class_probs"], softmax64(raw["logits"]))
    assert out["embedding"] is raw["embedding"]
    assert "channel_classes" not in out  # needs the images


def test_clip_rows_give_clip_but_not_text() -> None:
    raw = _rows(np.random.default_rng(1), embedding=512)
    out = row_inputs("clip-vit-b-32", raw)
    assert np.array_equal(out["clip"], raw["embedding"])
    assert "text" not in out and "text_hessel" not in out  # need the network and the prompts


def test_foreign_keys_are_not_passed_on() -> None:
    raw = _rows(np.random.default_rng(2), embedding=3, junk=2)
    assert set(row_inputs("pixels", raw)) == {"embedding"}


def test_row_sources_map_derived_inputs_to_roles() -> None:
    assert row_sources("digits-classifier", {"embedding", "class_probs"}) == {"embedding", "logits"}
    assert row_sources("clip-vit-b-32", {"clip"}) == {"embedding"}


@pytest.mark.parametrize("extractor,name", [("digits-classifier", "channel_classes"), ("clip-vit-b-32", "text"),
                                            ("pixels", "class_probs"), ("pixels", "points")])
def test_inputs_rows_cannot_give_add_nothing(extractor: str, name: str) -> None:
    assert row_sources(extractor, {name, "embedding"}) == {"embedding"}
