"""torchrun on CPU (gloo): K = 1, 2, 3 processes give byte-identical JSON and samples; a failing rank ends the job.

Each run is a fresh `python -m torch.distributed.run --standalone --nproc-per-node K -m genbench ...`
with one thread per process (torchrun's default), the setting under which K does not change a single bit.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EVAL = ["eval", "--samples", "fake.npz", "--ref", "real.npz", "--extractor", "digits-classifier",
        "--metrics", "fd,kd,classifier_score", "--bootstrap", "10", "--batch-size", "16", "--device", "cpu"]


def _env(tmp: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", GENBENCH_HOME=str(tmp / "home"), PYTHONWARNINGS="ignore",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return env


def launch(k: int, args: list[str], cwd: Path, module: bool = True,
           timeout: float = 240) -> subprocess.CompletedProcess:
    target = ["-m", "genbench", *args] if module else args
    cmd = [sys.executable, *(["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={k}"] if k > 1 else []),
           *target]
    return subprocess.run(cmd, cwd=cwd, env=_env(cwd), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def digits_pair(tmp_path_factory) -> Path:
    from genbench.sets.samples import SampleSet

    where = tmp_path_factory.mktemp("torchrun")
    x = SampleSet.from_dataset("digits").load()  # [1797, 3, 8, 8] uint8
    np.savez(where / "fake.npz", arr_0=x[:60].transpose(0, 2, 3, 1))
    np.savez(where / "real.npz", arr_0=x[100:160].transpose(0, 2, 3, 1))
    return where


def test_eval_json_is_byte_identical_for_1_2_3_ranks(digits_pair):
    outs = {}
    for k in (1, 2, 3):  # 60 images in batches of 16: ranks hold 2+2, 2+1+1 batches
        r = launch(k, [*EVAL, "--json", f"k{k}.json", "--cache-dir", f"cache{k}"], digits_pair)
        assert r.returncode == 0, r.stderr[-2000:]
        assert r.stdout.count("wrote k") == 1  # only rank 0 prints
        outs[k] = (digits_pair / f"k{k}.json").read_bytes()
        assert len(list((digits_pair / f"cache{k}").rglob("*.npz"))) == 2  # fake + real, written once
    assert outs[1] == outs[2] == outs[3]
    r = launch(2, [*EVAL, "--json", "hit.json", "--cache-dir", "cache1"], digits_pair)  # cache hit on both ranks
    assert r.returncode == 0, r.stderr[-2000:]
    assert (digits_pair / "hit.json").read_bytes() == outs[1]


def test_evaluator_inside_ddp_equals_single_process_eval(digits_pair):
    r = launch(1, [*EVAL, "--json", "single.json", "--no-cache"], digits_pair)
    assert r.returncode == 0, r.stderr[-2000:]
    single = json.loads((digits_pair / "single.json").read_text())
    worker = str(ROOT / "tests" / "integration" / "dist_evaluator.py")
    for mode in ("features", "keep"):  # features extracted per batch / uint8 images kept until compute()
        r = launch(2, [worker, "fake.npz", "real.npz", f"ddp-{mode}.json", mode], digits_pair, module=False)
        assert r.returncode == 0, r.stderr[-2000:]
        ddp = json.loads((digits_pair / f"ddp-{mode}.json").read_text())
        assert ddp["metrics"] == single["metrics"] and ddp["protocol"]["n_gen"] == 60
    assert ddp["samples"]["fingerprint"] == single["samples"]["fingerprint"]


def test_generate_diffusers_two_ranks_same_bytes(tmp_path):
    pytest.importorskip("diffusers")
    from tests.diffusers_tiny import save_pipeline

    pipe = save_pipeline("ddim", tmp_path)
    args = ["generate", "--diffusers", str(pipe), "--seeds", "0-6", "--steps", "2", "--batch-size", "2",
            "--eta", "1", "--no-progress", "--device", "cpu"]
    outs = {}
    for k in (1, 2):  # 7 seeds in batches of 2 -> rank 0 seeds 0-3, rank 1 seeds 4-6
        r = launch(k, [*args, "--out", f"k{k}.npz"], tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        with np.load(tmp_path / f"k{k}.npz") as z:
            outs[k] = z["arr_0"]
    assert outs[1].shape == (7, 8, 8, 3) and np.array_equal(outs[1], outs[2])


@pytest.mark.parametrize("mode", ["guarded", "bare"])
def test_failing_rank_ends_job_with_its_message(tmp_path, mode):
    t0 = time.perf_counter()
    r = launch(2, [str(ROOT / "tests" / "integration" / "dist_worker.py"), mode], tmp_path, module=False, timeout=120)
    assert r.returncode != 0
    assert "[rank 1/2] shard.npz: rank one cannot read image 7" in r.stderr
    assert "finished" not in r.stdout
    assert time.perf_counter() - t0 < 120
