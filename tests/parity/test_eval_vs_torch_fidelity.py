"""End to end: genbench.evaluate's FID, KID and IS equal torch-fidelity's with identical random weights."""
from __future__ import annotations

import numpy as np
import pytest

from genbench.eval.run import evaluate
from genbench.metrics import MetricConfig
from genbench.metrics.inception_score import InceptionScore
from genbench.metrics.kid import KID
from genbench.protocols import custom_protocol
from tests.parity.inception_helpers import random_inception_weights, smooth_images, torch_fidelity_metrics

N = 16


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("tf")
    weights = random_inception_weights(d / "inception.pth", seed=3)
    fake, real = smooth_images(N, seed=1), smooth_images(N, seed=2)
    theirs = torch_fidelity_metrics(fake, real, weights, splits=1, kid_subset_size=N)
    return weights, fake, real, theirs, d


def _ours(weights, fake, real, cache):
    proto = custom_protocol("inception-v3-tf", ("fid", "kid", "is"),
                            MetricConfig(bootstrap=0),
                            {"is": InceptionScore.Params(splits=1), "kid": KID.Params(subsets=10, subset_size=N)})
    return evaluate(fake, real, protocol=proto, weights={"inception-v3-tf": str(weights)},
                    allow_unverified=True, device="cpu", cache_dir=cache, batch_size=5)


def test_fid_kid_is_match_torch_fidelity(setup):
    weights, fake, real, theirs, d = setup
    res = _ours(weights, fake, real, d / "cache")
    assert res.unverified  # random weights: never ranked
    fid, tf_fid = res.value("fid"), theirs["frechet_inception_distance"]
    assert tf_fid > 1e-3  # features did not collapse
    assert abs(fid - tf_fid) <= 1e-6 * abs(tf_fid)
    assert res.value("is") == pytest.approx(theirs["inception_score_mean"], rel=1e-5)
    # torch-fidelity forms the cubic kernel from float32 features in float32 (numpy matmul); genbench
    # accumulates in float64. The kernel entries are O(1), so the float32 rounding is ~1e-7 absolute.
    # genbench reports kid ×10³ (torch-fidelity: raw MMD²).
    assert res.value("kid") / 1000.0 == pytest.approx(theirs["kernel_inception_distance_mean"], abs=1e-6)


def test_second_evaluation_hits_the_cache_without_running_the_network(setup, monkeypatch):
    weights, fake, real, _, d = setup
    first = _ours(weights, fake, real, d / "cache2")
    from genbench.features.inception import tf as inception

    def boom(*a, **k):
        raise AssertionError("the network ran on a cache hit")

    monkeypatch.setattr(inception.InceptionV3TF, "forward", boom)
    second = _ours(weights, fake, real, d / "cache2")
    assert first.value("fid") == second.value("fid")
    assert np.isfinite(second.value("is"))
