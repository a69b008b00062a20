"""genbench.features.inception.net: the faster CPU pooling gives the same bits, the prefetch keeps order."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genbench.features.inception.net import FastPooling, max_pool_exact, prefetch
from genbench.numerics import deterministic_cuda


@pytest.mark.parametrize("kernel,stride,padding", [(3, 2, 0), (3, 1, 1), (2, None, 0), ((3, 2), (2, 1), (1, 0))])
def test_max_pool_exact_equals_torch(kernel, stride, padding) -> None:
    x = torch.randn(2, 5, 17, 13, generator=torch.Generator().manual_seed(0))
    ref = F.max_pool2d(x, kernel, stride, padding)
    torch.testing.assert_close(max_pool_exact(x, kernel, stride, padding), ref, rtol=0, atol=0)


def test_fast_pooling_mode_is_bit_identical() -> None:
    x = torch.randn(3, 7, 35, 35, generator=torch.Generator().manual_seed(1))
    refs = [F.max_pool2d(x, kernel_size=3, stride=2), F.max_pool2d(x, 3, stride=1, padding=1),
            torch.nn.MaxPool2d(3, 2)(x), F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False),
            F.avg_pool2d(x, 3, 1, 1)]
    with torch.inference_mode(), FastPooling():
        got = [F.max_pool2d(x, kernel_size=3, stride=2), F.max_pool2d(x, 3, stride=1, padding=1),
               torch.nn.MaxPool2d(3, 2)(x), F.avg_pool2d(x, kernel_size=3, stride=1, padding=1,
                                                         count_include_pad=False), F.avg_pool2d(x, 3, 1, 1)]
        y, idx = F.max_pool2d(x, 3, 2, return_indices=True)  # not replaced: indices are requested
    for g, r in zip(got, refs):
        torch.testing.assert_close(g, r, rtol=0, atol=0)
        assert g.is_contiguous()
    assert idx.shape == y.shape


def test_fast_pooling_routes_to_the_fast_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    from genbench.features.inception import net as inception_net

    calls = {"max": 0, "avg": 0}

    def count(key, fn):  # noqa: ANN001, ANN202
        def wrapped(*a, **k):  # noqa: ANN002, ANN003, ANN202
            calls[key] += 1
            return fn(*a, **k)
        return wrapped

    monkeypatch.setattr(inception_net, "max_pool_exact", count("max", inception_net.max_pool_exact))
    monkeypatch.setattr(inception_net, "avg_pool_channels_last", count("avg", inception_net.avg_pool_channels_last))
    x = torch.randn(1, 2, 9, 9)
    with torch.inference_mode(), FastPooling():
        torch.nn.MaxPool2d(3, 2)(x)
        F.max_pool2d(x, 3, 1, 1)
        F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    assert calls == {"max": 2, "avg": 1}


def test_prefetch_keeps_order_and_propagates_errors() -> None:
    assert list(prefetch(iter(range(7)), lambda i: i * i)) == [i * i for i in range(7)]
    assert list(prefetch(iter([]), lambda i: i)) == []

    def boom(i: int) -> int:
        if i == 3:
            raise ValueError("bad item 3")
        return i

    out = []
    with pytest.raises(ValueError, match="bad item 3"):
        for v in prefetch(iter(range(6)), boom):
            out.append(v)
    assert out == [0, 1, 2]


def test_deterministic_cuda_is_a_no_op_on_cpu() -> None:
    before = torch.are_deterministic_algorithms_enabled()
    deterministic_cuda(torch.device("cpu"))
    assert torch.are_deterministic_algorithms_enabled() == before


def test_spare_core_counts_threads_ranks_and_affinity(monkeypatch) -> None:
    import os

    import torch

    from genbench.features.inception import net as inception_net

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert inception_net.spare_core()  # 1 thread on 2 cores: the second core runs stage 1
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert not inception_net.spare_core()  # two torchrun ranks already take both cores
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert not inception_net.spare_core()  # 2 threads on 2 cores
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert inception_net.spare_core()
