"""genbench.distributed without a process group: sharding arithmetic and identity collectives."""
from __future__ import annotations

import numpy as np
import pytest

from genbench import distributed
from genbench.errors import ConfigError, InputError


@pytest.mark.parametrize("n,block,k", [(60, 16, 2), (60, 16, 3), (7, 1, 3), (5, 4, 4), (0, 8, 2), (1000, 64, 8)])
def test_shards_tile_range_in_rank_order_on_block_boundaries(n, block, k):
    parts = [distributed.shard(n, block, r, k) for r in range(k)]
    assert [i for p in parts for i in p] == list(range(n))
    assert all(p.start % block == 0 for p in parts if len(p))
    sizes = [-(-len(p) // block) for p in parts]  # blocks per rank differ by at most one
    assert max(sizes) - min(sizes) <= 1


def test_shard_without_group_is_everything():
    assert distributed.shard(10, 4) == range(0, 10)
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    with pytest.raises(ConfigError):
        distributed.shard(10, 0)


def test_collectives_are_identities_without_group():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert distributed.gather_rows(x) is x
    assert distributed.broadcast_object({"a": [1, 2]}) == {"a": [1, 2]}
    assert distributed.guarded(lambda: 5) == 5
    with pytest.raises(InputError):
        distributed.guarded(lambda: (_ for _ in ()).throw(InputError("bad")))
    x, labels = distributed.generate_sharded([3, 4, 5], lambda s: (np.array(s)[:, None], None), 2)
    assert x.ravel().tolist() == [3, 4, 5] and labels is None


def test_only_rank_zero_writes(tmp_path, monkeypatch):
    from genbench.io import atomic_dir, atomic_write_text

    monkeypatch.setattr(distributed, "is_main", lambda: False)
    atomic_write_text(tmp_path / "a.txt", "x")
    with atomic_dir(tmp_path / "d") as d:
        (d / "f").write_text("y")
    assert not (tmp_path / "a.txt").exists() and not (tmp_path / "d").exists()
    monkeypatch.setattr(distributed, "is_main", lambda: True)
    atomic_write_text(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").read_text() == "x"
