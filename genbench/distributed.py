"""torchrun sharding with identical numbers: split work by rank, gather rows in global order, fail together.

Uses torch.distributed as it is (no launcher of its own): `torchrun --nproc-per-node K -m genbench ...` sets
RANK / WORLD_SIZE / MASTER_ADDR, and `init_from_env()` joins the group (gloo on CPU, nccl on CUDA). Without
a process group every helper here is the identity (rank 0 of 1), so library code calls them unconditionally.

Exactness: work is split into contiguous blocks of whole batches (`shard(n, block=batch)`), so every image
goes through the network in the same batch, at the same position, whatever K; `gather_rows` moves raw bytes
and concatenates in rank order. Features, and everything computed from them, are then bit-identical for
K = 1, 2, 3, ... (tests/integration/test_torchrun.py). The idea of per-rank contiguous shards and a final
all-gather follows StyleGAN2-ADA's and EDM's metric code (no code taken from them).

Agreement: before any gather, `agree(what, facts)` makes every rank state what it is about to combine
(input fingerprints, N, protocol, extractor identities, the options that change numbers; for generate the
seeds, checkpoint sha256 and sampler settings) through the group's key-value store, and every rank compares
them: a disagreement ends every rank with a ConfigError (exit 2) naming each fact that differs and every
rank's value in full, instead of an exit 0 with numbers mixed from two inputs. The CLI agrees on its
command facts (genbench.commands.common.command_facts), never on argv: paths, cache folders and output
names may differ between nodes. A rank that never arrives (e.g. evaluate() called on rank 0 only) makes the
others fail after GENBENCH_AGREE_TIMEOUT_S seconds (default 600) with a message saying what to do, not wait
forever.

Failure protocol: `guarded(fn)` runs fn on this rank, then all ranks exchange an ok/error status, so a rank
that raises makes every rank raise `RankFailedError` with that rank's message instead of waiting forever in
the next collective. `run_command` (the CLI entry under torchrun) prints the error and leaves with
os._exit(code): torchrun then stops the other ranks and exits non-zero.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
import torch
import torch.distributed as dist

from genbench.errors import ConfigError, GenbenchError

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 7200  # a rank may wait this long for the slowest one (override: $GENBENCH_DIST_TIMEOUT_S)
AGREE_TIMEOUT_S = 600  # agree() waits this long for every rank to arrive (override: $GENBENCH_AGREE_TIMEOUT_S)
_SHOWN_DIFFS = 4
_MAX_DIMS = 8


class RankFailedError(GenbenchError):
    """Another rank raised; the message carries its rank and its error."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ---- the group -------------------------------------------------------------------------------------
def launched() -> bool:
    """True under torchrun (or any launcher that sets WORLD_SIZE > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def init_from_env(device: str = "auto") -> bool:
    """Join the process group described by torchrun's environment; False (no-op) for a single process.

    Backend: nccl when CUDA is available and `device` is not 'cpu', else gloo. Each CUDA rank uses the GPU
    numbered LOCAL_RANK, so `--device cuda` / `auto` means "my GPU".
    """
    if not launched() or (dist.is_available() and dist.is_initialized()):
        return active()
    if not dist.is_available():
        raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    timeout = timedelta(seconds=float(os.environ.get("GENBENCH_DIST_TIMEOUT_S", DEFAULT_TIMEOUT_S)))
    dist.init_process_group("nccl" if use_cuda else "gloo", timeout=timeout)
    return True


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    return rank() == 0


def rank_label() -> str:
    """'[rank r/K] ' under a process group, '' otherwise (prefix for messages)."""
    return f"[rank {rank()}/{world_size()}] " if active() else ""


def barrier() -> None:
    if active():
        dist.barrier()


def _comm_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


# ---- splitting work ---------------------------------------------------------------------------------
def shard(n: int, block: int = 1, rank_: int | None = None, world: int | None = None) -> range:
    """This rank's contiguous part of range(n), in units of `block` items (e.g. whole batches).

    Blocks are split as evenly as possible, the first n_blocks % K ranks taking one more; the parts
    concatenated in rank order are range(n) again. A rank may get an empty range when n < K * block.
    """
    r = rank() if rank_ is None else rank_
    k = world_size() if world is None else world
    if block < 1 or n < 0:
        raise ConfigError(f"shard: need n >= 0 and block >= 1, got n={n}, block={block}")
    n_blocks = -(-n // block)
    base, extra = divmod(n_blocks, k)
    first = r * base + min(r, extra)
    last = first + base + (1 if r < extra else 0)
    return range(min(first * block, n), min(last * block, n))


# ---- collectives ------------------------------------------------------------------------------------
_DTYPES = [np.dtype(t) for t in ("uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
                                 "bool", "uint16", "uint32", "uint64")]


def _header(x: np.ndarray | None) -> torch.Tensor:
    """[rows, dtype code, ndim, dims...] int64; ndim -1 marks "no rows, shape unknown"."""
    h = torch.full((3 + _MAX_DIMS,), -1, dtype=torch.int64)
    if x is None:
        h[0] = 0
        return h
    if x.dtype not in _DTYPES or x.ndim > _MAX_DIMS or x.ndim < 1:
        raise ConfigError(f"gather_rows: unsupported array dtype {x.dtype} / shape {x.shape}")
    h[0], h[1], h[2] = x.shape[0], _DTYPES.index(x.dtype), x.ndim
    h[3:3 + x.ndim] = torch.tensor(x.shape, dtype=torch.int64)
    return h


def _all_gather(t: torch.Tensor) -> list[torch.Tensor]:
    dev = _comm_device()
    t = t.to(dev)
    out = [torch.empty_like(t) for _ in range(world_size())]
    dist.all_gather(out, t)
    return [o.cpu() for o in out]


def _agree_layout(headers: list[torch.Tensor]) -> tuple[np.dtype, tuple[int, ...]]:
    known = [h for h in headers if int(h[2]) >= 0]
    if not known:
        raise ConfigError("gather_rows: no rank has any rows, so the array shape is unknown")
    layouts = {(int(h[1]), tuple(int(d) for d in h[4:3 + int(h[2])])) for h in known}
    if len(layouts) != 1:
        raise ConfigError(f"gather_rows: ranks disagree on dtype/row shape: {sorted(layouts)}")
    code, tail = layouts.pop()
    return _DTYPES[code], tail


def gather_rows(x: np.ndarray | None) -> np.ndarray:
    """Every rank's rows concatenated in rank order, returned on every rank (bit-exact; any dtype).

    Ranks may hold different numbers of rows, including none (pass an empty array or None). Without a
    process group this returns x unchanged.
    """
    if not active():
        if x is None:
            raise ConfigError("gather_rows: nothing to gather")
        return x
    x = None if x is None or (x.shape[0] == 0 and x.ndim == 1) else np.ascontiguousarray(x)
    headers = _all_gather(_header(x))
    dtype, tail = _agree_layout(headers)
    rows = [int(h[0]) for h in headers]
    row_bytes = int(np.prod(tail, dtype=np.int64)) * dtype.itemsize
    buf = torch.zeros((max(rows) * row_bytes,), dtype=torch.uint8)
    if x is not None and x.size:
        buf[: x.nbytes] = torch.from_numpy(x.reshape(-1).view(np.uint8))
    parts = _all_gather(buf)
    chunks = [p[: r * row_bytes].numpy().view(dtype).reshape((r, *tail)) for p, r in zip(parts, rows)]
    return np.concatenate(chunks)


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """A JSON-serialisable object from rank `src` to every rank (identity without a group; no pickle)."""
    if not active():
        return obj
    data = json.dumps(obj).encode() if rank() == src else b""
    size = torch.tensor([len(data)], dtype=torch.int64, device=_comm_device())
    dist.broadcast(size, src)
    buf = torch.zeros((int(size.item()),), dtype=torch.uint8)
    if rank() == src:
        buf[:] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    buf = buf.to(_comm_device())
    dist.broadcast(buf, src)
    return json.loads(bytes(buf.cpu().numpy()).decode())


def _exchange_status(error: BaseException | None) -> None:
    """All ranks share ok / (exit code, message); if any failed, raise on every rank."""
    msg = None if error is None else [getattr(error, "exit_code", 1), f"{type(error).__name__}: {error}"
                                      if not isinstance(error, GenbenchError) else str(error)]
    blob = json.dumps(msg).encode()
    gathered = _gather_blobs(blob)
    failures = [(r, json.loads(b)) for r, b in enumerate(gathered) if json.loads(b) is not None]
    if not failures:
        return
    if error is not None:
        raise error
    r, (code, text) = failures[0]
    raise RankFailedError(f"rank {r} failed: {text}", exit_code=int(code))


def _gather_blobs(blob: bytes) -> list[bytes]:
    arr = np.frombuffer(blob, dtype=np.uint8)
    sizes = [int(h[0]) for h in _all_gather(torch.tensor([len(arr)], dtype=torch.int64))]
    buf = torch.zeros((max(sizes),), dtype=torch.uint8)
    buf[: len(arr)] = torch.from_numpy(arr.copy())
    return [bytes(p[:s].numpy()) for p, s in zip(_all_gather(buf), sizes)]


def guarded(fn: Callable[[], T]) -> T:
    """Run fn on this rank, then check that every rank succeeded (one status exchange).

    A rank whose fn raised re-raises its own error; the others raise RankFailedError naming it. Call it
    around rank-local work that precedes a collective, so that a failing rank cannot leave the others
    blocked in that collective. Without a process group it is fn().
    """
    if not active():
        return fn()
    try:
        out, err = fn(), None
    except Exception as e:  # noqa: BLE001 - every failure must reach the other ranks
        out, err = None, e
    _exchange_status(err)
    return out  # type: ignore[return-value]


def generate_sharded(seeds: Sequence[int], fn: Callable[[list[int]], tuple[np.ndarray, Any]], block: int,
                     labelled: bool = False, facts: dict | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """fn(seeds of this rank's shard) -> (samples [n, ...], labels [n] or None), gathered in seed order.

    Seeds are split in blocks of `block` (the generator's batch), so each seed lands in the same batch at
    the same position whatever K. `labelled` (the same on every rank) says whether labels are gathered.
    First every rank agrees on the seeds, the block and `facts` (the model's identity and sampler settings).
    """
    agree("generate", {"seeds": seeds_fact(seeds), "block": block, "labelled": labelled, **(facts or {})})
    part = shard(len(seeds), block)
    local = guarded(lambda: fn([int(seeds[i]) for i in part]) if len(part) else (None, None))
    x = gather_rows(None if local[0] is None else np.asarray(local[0]))
    if not labelled:
        return x, None
    return x, gather_rows(None if local[1] is None else np.asarray(local[1], dtype=np.int64))


def seeds_fact(seeds: Sequence[int]) -> dict:
    """A seed list as a fact ranks can compare in full: its length, first and last seed, and sha256."""
    import hashlib

    ints = [int(x) for x in seeds]
    return {"n": len(ints), "first": ints[0] if ints else None, "last": ints[-1] if ints else None,
            "sha256": hashlib.sha256(json.dumps(ints).encode()).hexdigest()}


# ---- agreement before combining ---------------------------------------------------------------------
_rounds = {"n": 0}


def flatten(facts: Any, prefix: str = "") -> dict[str, str]:
    """{"a.b": "value"} of a nested JSON-able dict (values as compact JSON text)."""
    if isinstance(facts, dict) and facts:
        out: dict[str, str] = {}
        for k, v in facts.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix or "value": json.dumps(facts, sort_keys=True, default=str)}


def disagreements(states: list[dict[str, str]]) -> list[str]:
    """'key: rank 0 v0, rank 1 v1' for each flattened key on which the ranks' states differ, each value in full
    as the JSON text the rank stated, a string without its quotes (pure)."""
    keys = sorted(set().union(*states))
    lines = []
    for k in keys:
        values = [st.get(k, "(absent)") for st in states]
        if len(set(values)) > 1:
            shown = ", ".join(f"rank {r} {v.strip(chr(34))}" for r, v in enumerate(values) if v != values[0] or r == 0)
            lines.append(f"{k}: {shown}")
    return lines


def _agree_timeout() -> float:
    return float(os.environ.get("GENBENCH_AGREE_TIMEOUT_S", AGREE_TIMEOUT_S))


def _store_wait(store: Any, keys: list[str], what: str) -> None:
    try:
        store.wait(keys, timedelta(seconds=_agree_timeout()))
    except Exception:  # noqa: BLE001 - DistStoreError (timeout) or a closed store: a rank is missing
        missing = [k.rsplit("/", 1)[1] for k in keys if not _has(store, k)]
        raise ConfigError(f"{what}: rank(s) {', '.join(missing) or '?'} of {world_size()} did not reach it within "
                          f"{_agree_timeout():g} s; under a torch.distributed process group every rank must make "
                          "this genbench call (or destroy the group first to evaluate in one process)") from None


def _has(store: Any, key: str) -> bool:
    try:
        return bool(store.check([key]))
    except Exception:  # noqa: BLE001
        return False


def agree(what: str, facts: dict) -> None:
    """Every rank states `facts`; if any rank's differ (or a rank does not come), raise on every rank.

    Uses the process group's key-value store, so it costs no collective and is bounded in time. Without a
    process group it does nothing.
    """
    if not active():
        return
    _rounds["n"] += 1
    store = dist.distributed_c10d._get_default_store()
    keys = [f"genbench/agree/{_rounds['n']}/{r}" for r in range(world_size())]
    store.set(keys[rank()], json.dumps({"what": what, **flatten(facts)}, sort_keys=True))
    _store_wait(store, keys, what)
    states = [json.loads(store.get(k)) for k in keys]
    diffs = disagreements(states)
    if diffs:
        more = f" (and {len(diffs) - _SHOWN_DIFFS} more)" if len(diffs) > _SHOWN_DIFFS else ""
        raise ConfigError(f"ranks disagree before combining their work ({what}): "
                          + "; ".join(diffs[:_SHOWN_DIFFS]) + more
                          + ". Every rank must read the same inputs with the same options")


# ---- the CLI entry -----------------------------------------------------------------------------------
def run_command(fn: Callable[[], int], device: str = "auto", facts: dict | None = None) -> int:
    """Run a CLI command on this rank: join the group, agree on `facts` (the command and the options that
    change numbers; None: the raw command line), run, and on failure leave at once.

    A non-zero code (the command printed its error) or an unexpected exception ends this process with
    os._exit, so a rank never hangs in teardown; torchrun then stops the others and exits non-zero.
    """
    if not launched():
        return fn()
    try:
        if init_from_env(device) and not is_main():
            sys.stdout = open(os.devnull, "w")  # tables and "wrote ..." lines come from rank 0 only
        code = _run_agreed(fn, {"argv": sys.argv[1:]} if facts is None else facts)
    except BaseException as e:  # noqa: BLE001
        code = _report_crash(e)
    if code:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if active():
        dist.barrier()
        dist.destroy_process_group()
    return code


def _run_agreed(fn: Callable[[], int], facts: dict) -> int:
    """fn() once every rank states the same command facts (an option that changes numbers differs: exit 2).
    Inputs are compared later by content (fingerprints), where the library opens them, not by path."""
    try:
        agree("the command", facts)
    except ConfigError as e:
        print(f"genbench: {rank_label()}error: {e}", file=sys.stderr)
        return e.exit_code
    return fn()


def peer_gone(e: BaseException) -> bool:
    """True for the error a collective raises when another rank has ended (gloo/nccl/store)."""
    text = f"{type(e).__name__}: {e}".lower()
    return any(w in text for w in ("connection closed by peer", "connection reset", "broken pipe",
                                   "distbackenderror", "distnetworkerror", "socket timeout", "recv", "nccl"))


def _report_crash(e: BaseException) -> int:
    """One line for a peer that went away (its own message is above); a traceback for anything else."""
    if peer_gone(e):
        print(f"genbench: {rank_label()}error: another rank ended, so this one stops too (see that rank's "
              "message)", file=sys.stderr)
        return 2
    import traceback

    print(f"genbench: {rank_label()}error: {type(e).__name__}: {e}", file=sys.stderr)
    traceback.print_exc()
    return 1


def cached_collectively(load: Callable[[str], Any], save: Callable[[str, Any], None], key: str,
                        compute: Callable[[], Any], everywhere: bool = False, store: str | None = None) -> Any:
    """A cache lookup under a process group. Every rank reads its own cache (nodes may each have their own
    --cache-dir); when every rank hits, each uses its hit, else every rank runs the (collective) compute.
    Then the first rank of each `store` (a cache folder, named as hostname + real path) that missed writes it,
    the others waiting (every rank if `everywhere`: a per-process memory cache)."""
    local = guarded(lambda: load(key))
    states = [json.loads(b) for b in _gather_blobs(json.dumps([local is not None, store]).encode())]
    if all(hit for hit, _ in states):
        return local
    value = compute()
    first = {}
    for r, (_, where) in enumerate(states):
        first.setdefault(where, r)
    writes = everywhere or (local is None and first[store] == rank())
    guarded(lambda: save(key, value) if writes else None)
    return value
