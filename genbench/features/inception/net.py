"""Running torch-fidelity's TF Inception-v3 faster on CPU, with bit-identical features.

The network, its weights and every block's forward stay torch-fidelity's (`FeatureExtractorInceptionV3`, the
TF 2015-12-05 graph; Heusel et al. 2017). What changes is how the work is scheduled, never the arithmetic:

- the work is split into two pipeline stages: (1) the resize (TF1 bilinear or clean-fid's PIL bicubic),
  (x - 128) / 128 and the stem (the layers up to MaxPool_2, at 147x147 and 73x73: about 40% of the
  arithmetic), and (2) the Mixed blocks and the read-out. `prefetch` runs stage 1 for batch i+1 in a
  background thread while stage 2 runs batch i, so extraction keeps two cores busy even with one torch
  intra-op thread (each stage runs the same ops on the same data as before: identical results). On CPU it
  does so only when a core is spare (`spare_core`): with every core already taken by torch threads or
  torchrun ranks, the second stage only oversubscribes (measured: 2 threads on 2 cores, 16.5 img/s with it
  and 17.6 without);
- on CPU, pooling goes to kernels that give the same bits as the NCHW ones but run 1.7-3.5x faster: 3x3 max
  pooling as two strided `unfold(...).amax(-1)` passes (a max is exact whatever the order), and the TF-style
  average pooling (count_include_pad=False) on a channels_last copy (the same per-window sum, vectorised
  over channels). The convolutions keep NCHW: a channels_last convolution changes the float32 sums (~1e-4).
"""
from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, TypeVar

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

TRUNK = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
         "MaxPool_2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
         "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "AvgPool")
SIZE = 299

T = TypeVar("T")
U = TypeVar("U")


def _pair(v: object) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))  # type: ignore[index]


def max_pool_exact(x: torch.Tensor, kernel: object, stride: object, padding: object) -> torch.Tensor:
    """F.max_pool2d (dilation 1, floor mode, no indices) as two strided unfold+amax passes: same values."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride or kernel), _pair(padding)
    if ph or pw:
        x = F.pad(x, (pw, pw, ph, ph), value=float("-inf"))  # max pooling pads with -inf
    return x.unfold(2, kh, sh).amax(-1).unfold(3, kw, sw).amax(-1)  # [B, C, H', W']


def avg_pool_channels_last(func: Callable[..., torch.Tensor], a: dict) -> torch.Tensor:
    """avg_pool2d on a channels_last copy (same per-window sums, vectorised over channels), returned NCHW."""
    a["input"] = a["input"].contiguous(memory_format=torch.channels_last)
    return func(**a).contiguous()


def _args(args: tuple, kwargs: dict, names: tuple[str, ...], defaults: dict) -> dict:
    out = dict(defaults)
    out.update(zip(names, args))
    out.update(kwargs)
    return out


_MAX_NAMES = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
_AVG_NAMES = ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")


class FastPooling(TorchFunctionMode):
    """Routes CPU float32 max/avg pooling to the bit-identical faster kernels described in the docstring."""

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        x = args[0] if args else kwargs.get("input")
        if isinstance(x, torch.Tensor) and x.device.type == "cpu" and x.dtype == torch.float32 and x.dim() == 4:
            if func in (F.max_pool2d, F._max_pool2d):  # type: ignore[attr-defined]
                a = _args(args, kwargs, _MAX_NAMES, {"stride": None, "padding": 0, "dilation": 1,
                                                     "ceil_mode": False, "return_indices": False})
                if _pair(a["dilation"]) == (1, 1) and not a["ceil_mode"] and not a["return_indices"]:
                    return max_pool_exact(x, a["kernel_size"], a["stride"], a["padding"])
            elif func is torch._C._nn.avg_pool2d:
                return avg_pool_channels_last(func, _args(args, kwargs, _AVG_NAMES, {}))
        return func(*args, **kwargs)


STEM, BODY = TRUNK[:7], TRUNK[7:]  # up to MaxPool_2 (the 147x147 and 73x73 layers), then the Mixed blocks


def run_layers(net: torch.nn.Module, names: tuple[str, ...], x: torch.Tensor) -> torch.Tensor:
    """torch-fidelity's modules `names` in order, with the CPU pooling of FastPooling."""
    mode = FastPooling() if x.device.type == "cpu" else contextlib.nullcontext()
    with mode:
        for name in names:
            x = getattr(net, name)(x)
    return x


def head(net: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """AvgPool output [B, 2048, 1, 1] -> (pool3 [B, 2048], logits_unbiased [B, 1008]) as torch-fidelity does."""
    pool3 = torch.flatten(x, 1)  # [B, 2048]
    return pool3, pool3.mm(net.fc.weight.T)  # [B, 2048], [B, 1008]


def normalise(x: torch.Tensor) -> torch.Tensor:
    """float32 pixels in [0, 255] -> (x - 128) / 128, as torch-fidelity and clean-fid (InceptionV3W) do."""
    return (x - 128) / 128


_END = object()


def spare_core() -> bool:
    """True when this process's torch threads leave a core for the prepare stage: the cores this process
    may run on >= 2 x torch threads x processes on this machine (torchrun's LOCAL_WORLD_SIZE)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    return cores >= 2 * torch.get_num_threads() * ranks


def prefetch(items: Iterator[T], fn: Callable[[T], U]) -> Iterator[U]:
    """fn over items; the next item is drawn and prepared in a background thread while the caller works.

    Order is kept (one worker, one item ahead), so results are identical to `map(fn, items)`.
    """
    it = iter(items)

    def step() -> object:
        item = next(it, _END)
        return _END if item is _END else fn(item)

    threads = torch.get_num_threads()  # OpenMP's thread count is per calling thread: give the worker ours
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="genbench-prepare", initializer=torch.set_num_threads,
                            initargs=(threads,)) as pool:
        fut = pool.submit(step)
        while (res := fut.result()) is not _END:
            fut = pool.submit(step)
            yield res  # type: ignore[misc]
