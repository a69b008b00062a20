"""HTML report: rendered from hand-made results and random samples, loaded in headless Chromium.

The page's inline script writes, on load, how many <img> decoded (naturalWidth > 0) into
body[data-images-ok]; --dump-dom after a virtual-time budget shows it. Skipped where no Chromium is
installed (.ci/run installs Debian's `chromium` package before `make test`).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from genbench.board.leaderboard import Leaderboard
from genbench.metrics.base import MetricValue
from genbench.board.report import image_grid, report_html, write_report
from genbench.eval.result import EvalResult

DIRS = {"fd": False, "precision": True, "recall": True, "modes_captured": True, "reverse_kl": False,
        "classes_covered": True, "coverage": True}


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _result(values: dict[str, float], protocol: str, n: int, hist: list[int] | None = None) -> EvalResult:
    metrics = {k: MetricValue(v, 0.02, (v - 0.04, v + 0.04)) for k, v in values.items()}
    if hist is not None:
        metrics["modes_captured"] = MetricValue(values["modes_captured"], 0.5, None,
                                                {"class_histogram": hist, "reference_histogram": [10] * len(hist)})
    record = {"protocol": protocol, "protocol_version": "1", "n_gen": n, "n_ref": n, "reference_fingerprint": "9" * 64,
              "primary": "fd" if protocol == "digits-default" else "modes_captured", "unverified": False,
              "reference_source": "toy2d-ring8" if protocol == "toy2d-default" else "digits-test"}
    return EvalResult(metrics, record, {"n": n}, {"n": n}, {"cmmd": "weights not installed"},
                      {k: DIRS.get(k) for k in metrics})


def _board(path: Path) -> Leaderboard:
    lb = Leaderboard.load(path)
    lb.add_results({
        "vae": _result({"fd": 3.0, "precision": 0.6, "recall": 0.4, "modes_captured": 9.0}, "digits-default", 64,
                       hist=[5, 9, 7, 0, 8, 6, 7, 9, 6, 7]),
        "gan": _result({"fd": 2.0, "precision": 0.8, "recall": 0.3, "modes_captured": 7.0}, "digits-default", 64,
                       hist=[12, 0, 14, 0, 11, 9, 0, 10, 8, 0]),
        "baseline:noise": _result({"fd": 40.0, "precision": 0.0, "recall": 0.0, "modes_captured": 1.0},
                                  "digits-default", 64, hist=[64, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        "toy-gan": _result({"modes_captured": 6.0, "reverse_kl": 0.4, "fd": 0.1}, "toy2d-default", 200),
    })
    return lb


def _samples() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    angles = 2 * np.pi * rng.integers(0, 8, 200) / 8
    ring = np.stack([np.cos(angles), np.sin(angles)], 1) + 0.01 * rng.standard_normal((200, 2))
    return {"vae": rng.integers(0, 256, (16, 3, 8, 8), dtype=np.uint8),
            "gan": rng.integers(0, 256, (16, 3, 8, 8), dtype=np.uint8),
            "baseline:noise": rng.integers(0, 256, (70, 3, 8, 8), dtype=np.uint8), "toy-gan": ring}


def test_image_grid_shape() -> None:
    grid = image_grid(np.zeros((10, 3, 8, 8), np.uint8), ncols=4, pad=1, min_tile=32)
    assert grid.shape == (3 * 33 + 1, 4 * 33 + 1, 3) and grid.dtype == np.uint8


def test_report_self_contained_and_deterministic(tmp_path: Path) -> None:
    lb = _board(tmp_path / "digits.jsonl")
    page = report_html(lb, _samples())
    assert page == report_html(Leaderboard.load(tmp_path / "digits.jsonl"), _samples())
    assert not re.search(r'(src|href)="(https?:|/|file:)', page)
    assert str(tmp_path) not in page


def test_report_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium); .ci/run installs it")
    out = write_report(_board(tmp_path / "digits.jsonl"), tmp_path / "report.html", _samples(),
                       {"title": "test report"})
    page = out.read_text()
    expected_images = page.count("<img ")
    # 4 sample panels + (4 metrics + 1 PR) bar/scatter charts for digits + 3 for toy2d + 3 histograms
    assert expected_images == 4 + 5 + 3 + 3
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
           "--dump-dom", out.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    dom = proc.stdout
    assert "<body" in dom, f"chromium printed no DOM (rc {proc.returncode}): {proc.stderr[-2000:]}"
    ok = re.search(r'data-images-ok="(\d+)"', dom)
    total = re.search(r'data-images-total="(\d+)"', dom)
    assert ok and total, "the report's load script did not run"
    assert int(total.group(1)) == expected_images and int(ok.group(1)) == expected_images
    assert len(re.findall(r'<table class="leaderboard"', dom)) == 2
    assert len(re.findall(r'<table class="mode-collapse"', dom)) == 2
    for section in ("leaderboard", "samples", "metrics", "mode-collapse"):
        assert f'<section id="{section}">' in dom


_MEASURE = """<script>window.addEventListener('load',function(){var b=document.body,d=document.documentElement;
var t=document.querySelector('table.leaderboard'),box=t.parentElement;
b.setAttribute('data-page-width',String(Math.max(d.scrollWidth,b.scrollWidth)));
b.setAttribute('data-box-width',String(box.clientWidth));b.setAttribute('data-table-width',String(t.scrollWidth));
b.setAttribute('data-box-right',String(Math.round(box.getBoundingClientRect().right)));
b.setAttribute('data-headers',Array.prototype.map.call(t.querySelectorAll('th'),function(h){return h.textContent;}).join('|'));});
</script>"""


def _wide_board(path: Path) -> Leaderboard:
    """A digits-default board with 24 metrics: the gate's three, the primary and 20 wide extras."""
    values = {"fd": 3.0, "recall": 0.4, "classes_covered": 10.0, "precision": 0.6, "coverage": 0.7}
    values.update({f"a_very_long_metric_name_{i:02d}": 1234.5678 + i for i in range(19)})
    lb = Leaderboard.load(path)
    lb.add_results({name: _result({k: v * (1 + j / 10) for k, v in values.items()}, "digits-default", 64)
                    for j, name in enumerate(("vae", "gan", "ddpm"))})
    return lb


def test_wide_board_fits_1400px_in_headless_chromium(tmp_path: Path) -> None:
    """Screenshot at 1,400 x 900: the page does not scroll sideways (the table scrolls in its own box), and
    the columns read primary, gate rules, then the rest."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium); .ci/run installs it")
    page = report_html(_wide_board(tmp_path / "wide.jsonl"), {}).replace("</body>", _MEASURE + "</body>")
    out = tmp_path / "wide.html"
    out.write_text(page)
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900",
              "--virtual-time-budget=5000"]
    shot = tmp_path / "wide.png"
    subprocess.run(common + [f"--screenshot={shot}", out.resolve().as_uri()], capture_output=True, timeout=180)
    dom = subprocess.run(common + ["--dump-dom", out.resolve().as_uri()], capture_output=True, text=True,
                         timeout=180).stdout
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', dom))
    assert "page-width" in attrs, "the measuring script did not run"
    assert int(attrs["page-width"]) <= 1400 and int(attrs["box-right"]) <= 1400
    assert int(attrs["table-width"]) > int(attrs["box-width"])  # wider than its box: it scrolls inside it
    headers = attrs["headers"].split("|")
    assert headers[:5] == ["#", "model", "fd ↓", "recall ↑", "classes_covered ↑"]
    assert headers[5:] == sorted(headers[5:])
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1400, 900)
