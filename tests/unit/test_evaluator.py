"""genbench.Evaluator: evaluate()'s numbers for the same images in the same order, whatever the batching."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import genbench
from genbench.errors import InputError
from genbench.sets.samples import SampleSet

KW = dict(extractor="digits-classifier", metrics="fd,kd,classifier_score", bootstrap=5, batch_size=16, device="cpu")


@pytest.fixture(scope="module")
def data():
    x = SampleSet.from_dataset("digits").load()  # [1797, 3, 8, 8] uint8
    return x[:50], x[200:260]


@pytest.fixture(scope="module")
def expected(data):
    fake, ref = data
    return genbench.evaluate(fake, ref, cache_dir=False, **KW).to_json()


@pytest.mark.parametrize("sizes,keep", [((50,), False), ((7, 13, 1, 29), False), ((16, 16, 16, 2), False),
                                        ((7, 13, 1, 29), True)])
def test_same_numbers_as_evaluate_for_any_batching(data, expected, sizes, keep):
    fake, ref = data
    ev = genbench.Evaluator(reference=ref, keep_images=keep, **KW)
    edges = np.cumsum((0,) + sizes)
    for a, b in zip(edges[:-1], edges[1:]):
        ev.update(fake[a:b])
    assert len(ev) == 50
    got = ev.compute().to_json()
    if keep:  # evaluate() on the kept images: the whole record is the same
        assert got == expected
    assert got["metrics"] == expected["metrics"] and got["skipped"] == expected["skipped"]
    assert got["protocol"]["n_gen"] == 50


def test_float_tensors_with_declared_range(data, expected):
    fake, ref = data
    ev = genbench.Evaluator(reference=ref, value_range="-1,1", **KW)
    t = torch.tensor(fake).float() / 127.5 - 1.0  # [50, 3, 8, 8] float32 in [-1, 1]
    ev.update(t[:20])
    ev.update(t[20:])
    assert ev.compute().to_json()["metrics"] == expected["metrics"]
    with pytest.raises(InputError, match="value range"):
        genbench.Evaluator(reference=ref, **KW).update(t)


def test_reference_extracted_once_and_reset(data, expected, monkeypatch):
    from genbench.features import extract as ex

    fake, ref = data
    seen = []
    real_extract = ex.extract
    monkeypatch.setattr(ex, "extract", lambda e, s, *a, **k: seen.append(len(s)) or real_extract(e, s, *a, **k))
    ev = genbench.Evaluator(reference=ref, **KW)
    ev.update(fake[:30])
    first = ev.compute()
    ev.update(fake[30:])
    assert ev.compute().to_json()["metrics"] == expected["metrics"]  # running total: 50 images
    ev.compute()  # nothing new: nothing extracted
    ev.reset()
    with pytest.raises(InputError, match="no images"):
        ev.compute()
    ev.update(fake[:30])
    assert ev.compute().to_json()["metrics"] == first.to_json()["metrics"]
    # whole batches of 16 as they fill, the partial tail at each compute(), the 60 reference images once
    assert seen == [16, 14, 60, 32, 2, 2, 16, 14]
