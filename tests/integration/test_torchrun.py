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


# ---- issue 20: ranks check each other; traps of distributed use; two "nodes" on this machine ----------------
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_nodes(args: list[str], cwds: list[Path], timeout: float = 240) -> list[subprocess.CompletedProcess]:
    """One torchrun per "node" (--nnodes 2, one process each), rendezvous over loopback only."""
    return launch_nodes_each([args] * len(cwds), cwds, timeout)


@pytest.fixture()
def two_nodes(digits_pair, tmp_path) -> list[Path]:
    nodes = [tmp_path / "node0", tmp_path / "node1"]
    for n in nodes:
        n.mkdir()
        for f in ("fake.npz", "real.npz"):
            (n / f).write_bytes((digits_pair / f).read_bytes())
    return nodes


NODE_EVAL = [*EVAL, "--json", "r.json", "--no-cache"]


def test_two_nodes_give_the_same_json_as_one_process(digits_pair, two_nodes):
    one = launch(1, [*EVAL, "--json", "one.json", "--no-cache"], digits_pair)
    assert one.returncode == 0, one.stderr[-2000:]
    runs = launch_nodes(NODE_EVAL, two_nodes)
    assert all(r.returncode == 0 for r in runs), [r.stderr[-1500:] for r in runs]
    written = [n / "r.json" for n in two_nodes if (n / "r.json").exists()]
    assert len(written) == 1  # rank 0 (whichever node the rendezvous made rank 0) writes
    assert written[0].read_bytes() == (digits_pair / "one.json").read_bytes()


def test_two_nodes_with_different_inputs_end_with_exit_2_not_a_hang(digits_pair, two_nodes):
    from genbench.sets.samples import SampleSet

    x = SampleSet.from_dataset("digits").load()  # node 1's fake.npz: other images, the same N
    np.savez(two_nodes[1] / "fake.npz", arr_0=x[300:360].transpose(0, 2, 3, 1))
    t0 = time.perf_counter()
    runs = launch_nodes(NODE_EVAL, two_nodes, timeout=180)
    assert time.perf_counter() - t0 < 180 and all(r.returncode != 0 for r in runs)
    for r in runs:
        assert "ranks disagree before combining" in r.stderr and "inputs.fake.fingerprint: rank 0" in r.stderr
        assert "exitcode  : 2" in r.stderr  # the rank's own exit code; torchrun itself exits 1
    assert not any((n / "r.json").exists() for n in two_nodes)


def _agree_pair(digits_pair) -> Path:
    from genbench.sets.samples import SampleSet

    x = SampleSet.from_dataset("digits").load()
    for r, rows in ((0, x[:40]), (1, x[400:440])):
        np.savez(digits_pair / f"fake{r}.npz", arr_0=rows.transpose(0, 2, 3, 1))
    return digits_pair


def test_ranks_reading_different_files_end_with_exit_2(digits_pair):
    where = _agree_pair(digits_pair)
    r = launch(2, [str(ROOT / "tests" / "integration" / "dist_agree.py"), "mismatch"], where, module=False,
               timeout=120)
    assert r.returncode != 0 and "exitcode  : 2" in r.stderr, r.stderr[-2000:]
    assert "ranks disagree before combining their work (evaluate())" in r.stderr
    assert not (where / "mismatch.json").exists()


def test_generate_ranks_compare_the_checkpoint_not_the_command_line(tmp_path):
    """Issue #27 class 6: `generate` compared argv only; its ranks now agree on the seeds, the model's
    checkpoint sha256 and the sampler settings, and a disagreement names the fact with both values in full."""
    r = launch(2, [str(ROOT / "tests" / "integration" / "dist_agree.py"), "generate-mismatch"], tmp_path,
               module=False, timeout=120)
    assert r.returncode != 0 and "exitcode  : 2" in r.stderr, r.stderr[-2000:]
    assert "ranks disagree before combining their work (generate)" in r.stderr
    assert f"model.checkpoint_sha256: rank 0 {'0' * 64}, rank 1 {'1' * 64}" in r.stderr


def test_different_flags_on_two_nodes_end_with_exit_2(two_nodes):
    port = _free_port()
    args = [[*NODE_EVAL, "--bootstrap", "10"], [*NODE_EVAL, "--bootstrap", "20"]]
    procs = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
                               "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "-m", "genbench",
                               *a], cwd=n, env=_env(n), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for a, n in zip(args, two_nodes)]
    errs = [p.communicate(timeout=180)[1] for p in procs]
    assert all(p.returncode != 0 for p in procs)
    assert all("ranks disagree before combining their work (the command)" in e for e in errs), errs[0][-1500:]
    assert all("options.bootstrap: rank 0 10, rank 1 20" in e for e in errs), errs[0][-1500:]


def test_two_nodes_with_their_own_cache_dirs_give_the_one_process_json(digits_pair, two_nodes):
    """Issue #27 class 6: node-local --cache-dir used to stop both nodes at the command-line check. They now
    agree, fill each cache, and a rerun where only one node's cache still holds the features computes them
    together: the one-process JSON every time."""
    import shutil

    one = launch(1, [*EVAL, "--json", "one.json", "--no-cache"], digits_pair)
    assert one.returncode == 0, one.stderr[-2000:]
    for attempt in range(2):
        runs = launch_nodes_each([[*NODE_EVAL[:-1], "--cache-dir", f"cache-{n.name}"] for n in two_nodes], two_nodes)
        assert all(r.returncode == 0 for r in runs), [r.stderr[:3000] for r in runs]
        written = [n / "r.json" for n in two_nodes if (n / "r.json").exists()]
        assert len(written) == 1 and written[0].read_bytes() == (digits_pair / "one.json").read_bytes()
        written[0].unlink()
        assert all(len(list((n / f"cache-{n.name}").rglob("*.npz"))) == 2 for n in two_nodes)
        shutil.rmtree(two_nodes[1] / "cache-node1")  # the rerun: one node hits, the other misses


def launch_nodes_each(argvs: list[list[str]], cwds: list[Path],
                      timeout: float = 240) -> list[subprocess.CompletedProcess]:
    """One torchrun per "node" (--nnodes 2, one process each, each its own command line), over loopback only."""
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node-rank", str(i),
                               "--nproc-per-node", "1", "--rdzv-backend", "c10d",
                               "--rdzv-endpoint", f"127.0.0.1:{port}", "-m", "genbench", *a],
                              cwd=cwd, env=_env(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, (a, cwd) in enumerate(zip(argvs, cwds))]
    out = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=timeout)
            out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return out


def test_evaluate_on_rank_0_only_fails_in_bounded_time(digits_pair, monkeypatch):
    where = _agree_pair(digits_pair)
    monkeypatch.setenv("GENBENCH_AGREE_TIMEOUT_S", "5")
    t0 = time.perf_counter()
    r = launch(2, [str(ROOT / "tests" / "integration" / "dist_agree.py"), "rank0-only"], where, module=False,
               timeout=150)
    assert r.returncode != 0 and time.perf_counter() - t0 < 150
    assert "rank(s) 1 of 2 did not reach it within 5 s" in r.stderr, r.stderr[-2000:]
    assert "every rank must make this genbench call" in r.stderr


def test_evaluator_without_process_group_says_once_that_ranks_are_independent(digits_pair):
    where = _agree_pair(digits_pair)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           str(ROOT / "tests" / "integration" / "dist_agree.py"), "snippet"]
    r = subprocess.run(cmd, cwd=where, env=dict(_env(where), PYTHONWARNINGS="default"), capture_output=True,
                       text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr.count("without an initialised torch.distributed process group") == 1
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 2 and all(d["n"] == 40 for d in lines)  # independent: each scored its own 40


def test_warnings_are_printed_once_under_torchrun(digits_pair):
    from genbench.sets.samples import SampleSet

    x = SampleSet.from_dataset("digits").load()[:60].transpose(0, 2, 3, 1)  # [60, 8, 8, 3]
    rgba = np.concatenate([x, np.full((*x.shape[:3], 1), 255, np.uint8)], axis=3)
    np.savez(digits_pair / "rgba.npz", arr_0=rgba)
    args = [*EVAL, "--no-cache"]
    args[args.index("fake.npz")] = "rgba.npz"
    env = dict(_env(digits_pair), PYTHONWARNINGS="default")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "genbench", *args]
    r = subprocess.run(cmd, cwd=digits_pair, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr.count("alpha channel") == 1, r.stderr[-2000:]


def test_peer_failure_gives_one_line_not_a_gloo_traceback(tmp_path):
    r = launch(2, [str(ROOT / "tests" / "integration" / "dist_worker.py"), "bare"], tmp_path, module=False, timeout=120)
    assert r.returncode != 0 and "[rank 1/2] shard.npz: rank one cannot read image 7" in r.stderr
    assert "Connection closed by peer" not in r.stderr and "ProcessGroupGloo" not in r.stderr, r.stderr[-2000:]
