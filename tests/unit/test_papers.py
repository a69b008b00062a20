"""Published tables: every table of PROTOCOLS.md present, numbers exactly as published, CLI."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from genbench.cli import main
from genbench.errors import UnknownNameError
from genbench.bench.papers import PAPERS, get_paper
from genbench.protocols import PROTOCOLS

NAMES = ["ddpm-cifar10", "ddpm-lsun", "ldm", "pacgan-2d", "veegan-stacked-mnist"]


def test_every_table_present_with_protocol() -> None:
    assert PAPERS.names() == sorted(NAMES)
    for name in NAMES:
        t = get_paper(name)
        assert t.name == name and t.paper and t.citation and t.protocol_description
        assert isinstance(t.frame, pd.DataFrame) and len(t.frame) > 0
        assert not t.protocol or t.protocol in PROTOCOLS


def test_ddpm_numbers() -> None:
    c = get_paper("ddpm-cifar10").frame
    ls = c.loc["DDPM (L_simple)"]
    assert (ls["is"], ls["is_std"], ls["fid"], ls["fid_test"]) == (9.46, 0.11, 3.17, 5.24)
    iso = c.loc["DDPM (L, fixed isotropic Σ)"]
    assert (iso["is"], iso["is_std"], iso["fid"]) == (7.67, 0.13, 13.51) and math.isnan(iso["fid_test"])
    lsun = get_paper("ddpm-lsun").frame["fid"]
    assert lsun[("LSUN Bedroom", "DDPM")] == 6.36 and lsun[("LSUN Bedroom", "DDPM (large)")] == 4.90
    assert lsun[("LSUN Church", "DDPM")] == 7.89 and lsun[("LSUN Cat", "DDPM")] == 19.75


def test_ldm_numbers() -> None:
    f = get_paper("ldm").frame
    expect = {"CelebA-HQ": (5.11, 0.72, 0.49), "FFHQ": (4.98, 0.73, 0.50), "LSUN-Churches": (4.02, 0.64, 0.52),
              "LSUN-Bedrooms": (2.95, 0.66, 0.48)}
    for ds, (fid, p, r) in expect.items():
        row = f.xs(ds, level="dataset").iloc[0]
        assert (row["fid"], row["precision"], row["recall"]) == (fid, p, r)
    imnet = f.loc[("ImageNet", "LDM-4-G (cfg 1.5)")]
    assert (imnet["fid"], imnet["is"], imnet["precision"], imnet["recall"]) == (3.60, 247.67, 0.87, 0.48)


@pytest.mark.parametrize("key,values", [
    (("ring", "GAN"), (6.3, 0.5, 98.2, 0.2, 0.45, 0.09)), (("ring", "PacGAN2"), (7.9, 0.1, 95.6, 2.0, 0.07, 0.03)),
    (("grid", "GAN"), (17.3, 0.8, 94.8, 0.7, 0.70, 0.07)), (("grid", "PacGAN2"), (23.8, 0.7, 91.3, 0.8, 0.13, 0.04)),
])
def test_pacgan_numbers(key: tuple[str, str], values: tuple[float, ...]) -> None:
    row = get_paper("pacgan-2d").frame.loc[key]
    cols = ["modes_captured", "modes_captured_std", "high_quality_pct", "high_quality_pct_std", "reverse_kl",
            "reverse_kl_std"]
    assert tuple(row[c] for c in cols) == values


def test_veegan_numbers() -> None:
    f = get_paper("veegan-stacked-mnist").frame
    assert (f.loc["DCGAN", "modes_captured"], f.loc["DCGAN", "kl"]) == (99, 3.40)
    assert (f.loc["VEEGAN", "modes_captured"], f.loc["VEEGAN", "kl"]) == (150, 2.95)
    assert (f.loc["PacDCGAN2", "modes_captured"], f.loc["PacDCGAN2", "kl"]) == (1000, 0.06)


def test_frame_is_a_fresh_copy() -> None:
    t = get_paper("ldm")
    frame = t.frame
    frame.iloc[0, 0] = -1.0
    assert t.frame.iloc[0, 0] == 5.11


def test_cli(capsys: pytest.CaptureFixture) -> None:
    assert main(["papers", "list"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in NAMES)
    assert main(["papers", "show", "pacgan-2d"]) == 0
    out = capsys.readouterr().out
    assert "toy2d-default" in out and "23.8" in out and "PacGAN2" in out
    assert main(["papers", "show", "ddpm"]) == 2
    with pytest.raises(UnknownNameError):
        get_paper("nope")
