"""Reproducible mode (issue #29): the pinned environment, its class, how the CLI applies it, and that the pins
take effect on this machine (ATen, oneDNN, OpenBLAS) when set before torch and numpy load."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genbench import reproducible as rp

ROOT = Path(__file__).resolve().parents[2]
X86 = rp.is_x86()


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in rp.pinned_env({}, "x86_64") and k != rp.OPT_OUT}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def test_pinned_env_is_avx2_with_fixed_threads():
    env = rp.pinned_env({}, "x86_64")
    assert env["ONEDNN_MAX_CPU_ISA"] == env["DNNL_MAX_CPU_ISA"] == "AVX2"
    assert env["MKL_CBWR"] == "AVX2" and env["MKL_ENABLE_INSTRUCTIONS"] == "AVX2"
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["OPENBLAS_CORETYPE"] == "Haswell"
    assert {env[k] for k in rp.THREAD_VARS} == {str(rp.THREADS)}
    assert set(rp.pinned_env({}, "aarch64")) == set(rp.THREAD_VARS)  # off x86: threads only


def test_a_machine_set_openblas_coretype_is_kept_and_named_in_the_class():
    environ = {"OPENBLAS_CORETYPE": "Zen", "OPENBLAS_L2_SIZE": "524288"}
    env = rp.pinned_env(environ, "x86_64")
    assert env["OPENBLAS_CORETYPE"] == "Zen"
    full = {**environ, **env}
    assert rp.reproducibility_class(full, "AVX2", "Zen", "x86_64") == "x86-64 AVX2 pinned, OpenBLAS core Zen"
    assert rp.reproducibility_class(full, "AVX2", "Zen", "x86_64") != rp.PINNED_CLASS


def test_class_needs_every_pin_and_its_effect():
    full = rp.pinned_env({}, "x86_64")
    assert rp.reproducibility_class(full, "AVX2", "Haswell", "x86_64") == rp.PINNED_CLASS
    assert rp.reproducibility_class(full, "AVX2", None, "x86_64") == rp.PINNED_CLASS  # OpenBLAS not visible
    assert rp.reproducibility_class(full, "AVX512", "Haswell", "x86_64") == "x86_64 unpinned (AVX512)"
    assert rp.reproducibility_class(full, "AVX2", "SkylakeX", "x86_64") == "x86_64 unpinned (AVX2)"
    partial = {k: v for k, v in full.items() if k != "MKL_CBWR"}
    assert rp.reproducibility_class(partial, "AVX2", "Haswell", "x86_64") == "x86_64 unpinned (AVX2)"


def test_only_run_and_train_are_pinned():
    assert rp.wanted(["run", "--suite", "digits"], {}) and rp.wanted(["train", "vae"], {})
    assert not rp.wanted(["eval", "--samples", "x"], {}) and not rp.wanted(["--version"], {})
    assert not rp.wanted(["run"], {rp.OPT_OUT: "1"}) and not rp.wanted(["train", "--help"], {})


def test_row_class_reads_new_and_old_records():
    assert rp.row_class({"reproducibility": {"class": rp.PINNED_CLASS}}) == rp.PINNED_CLASS
    assert rp.row_class({"cpu": f"x86_64 AMD EPYC (AVX2) [{rp.PINNED_CLASS}]"}) == rp.PINNED_CLASS
    assert rp.row_class({"cpu": "x86_64 Intel Xeon (AVX512)"}) == "unpinned (x86_64 Intel Xeon (AVX512))"
    assert rp.cpu_name({"cpu": f"x86_64 AMD EPYC (AVX2) [{rp.PINNED_CLASS}]"}) == "x86_64 AMD EPYC (AVX2)"


def test_in_process_cli_warns_and_leaves_the_environment(monkeypatch):
    import numpy  # noqa: F401  (loaded: too late to pin)

    for k in rp.pinned_env():
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv(rp.OPT_OUT, raising=False)
    with pytest.warns(UserWarning, match="recorded as unpinned"):
        rp.pin_for(["train", "vae", "--dataset", "digits", "--out", "x"])
    assert "ATEN_CPU_CAPABILITY" not in os.environ
    rp.pin_for(["eval", "--samples", "x"])  # other commands: nothing, no warning


_PROBE = """
import json, sys
import numpy, torch
from genbench.numerics import reproducibility_record, cpu_record
x = torch.randn(8, 32, 32, 32); c = torch.nn.Conv2d(32, 64, 3)
with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
    c(x)
print(json.dumps({"record": reproducibility_record(), "cpu": cpu_record(), "threads": torch.get_num_threads()}))
"""


def _probe(pinned: bool) -> tuple[dict, str]:
    """A fresh Python whose environment holds the pins (as `make run` exports them) or not."""
    env = _env(**rp.pinned_env(_env())) if pinned else _env()
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=120,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1]), out


@pytest.mark.skipif(not X86, reason="the ISA pins are for x86-64")
def test_pins_take_effect_when_set_before_torch_and_numpy_load():
    got, log = _probe(pinned=True)
    rec = got["record"]
    assert rec["class"] == rp.PINNED_CLASS, rec
    assert rec["aten_cpu_capability"] == "AVX2" and got["threads"] == rp.THREADS
    assert rec["openblas_core"] in (None, "Haswell")
    isa = [ln for ln in log.splitlines() if "isa:" in ln]
    assert not isa or all("AVX2" in ln and "AVX-512" not in ln for ln in isa), isa[:2]  # oneDNN's ISA
    assert got["cpu"].endswith(f"[{rp.PINNED_CLASS}]")


@pytest.mark.skipif(not X86, reason="the ISA pins are for x86-64")
def test_without_the_pins_the_record_says_unpinned():
    got, _ = _probe(pinned=False)
    assert "unpinned" in got["record"]["class"]


@pytest.mark.skipif(not X86, reason="the ISA pins are for x86-64")
def test_the_command_line_re_executes_itself_pinned(tmp_path):
    """`python -m genbench train ...` loads numpy before main() runs: it re-executes with the pins."""
    out = subprocess.run([sys.executable, "-m", "genbench", "train", "gan2d", "--dataset", "toy2d-ring8",
                          "--steps", "2", "--out", str(tmp_path / "g"), "--device", "cpu", "--no-progress"],
                         capture_output=True, text=True, env=_env(), timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert rp.PINNED_CLASS in out.stdout and "warning" not in out.stderr


def test_makefile_exports_the_pinned_environment():
    out = subprocess.run([sys.executable, "-m", "genbench.reproducible"], capture_output=True, text=True,
                         env=_env(), timeout=60, check=True).stdout
    assert dict(line.split("=", 1) for line in out.split()) == rp.pinned_env(_env())
    make = (ROOT / "Makefile").read_text()
    assert "genbench.reproducible" in make
