"""Self-contained HTML report of a leaderboard: tables, sample grids, metric charts, mode collapse.

Every figure is a PNG drawn with matplotlib's Agg canvas (no pyplot, no global backend change) and
embedded as base64, so the page needs no other file and no network. Sections:
  leaderboard tables (render.render_html_table), a sample grid per model (the first `GRID_MAX` samples
  of each model: pass samples drawn from the same seeds so that tiles line up across models), a bar
  chart per metric with its 95% CI as error bars, precision-vs-recall scatters (per feature-space
  suffix), and the mode-collapse report: a table of mode metrics, class histograms (from
  MetricValue.details["class_histogram"] or extra["class_histograms"]) and, for 2-D point samples,
  a scatter over the mixture's modes (genbench.data.toy2d_modes); optionally per-class tables
  (genbench.eval.per_class: FD / precision / recall / share within each classifier-assigned class).
A small inline script records, on load, how many images decoded (body data-images-ok / -total), which
the headless-browser test reads. The page is a pure function of its inputs: no timestamps.
"""
from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from genbench.errors import InputError
from genbench.io import atomic_write_text
from genbench.board.render import arrow, clean, heading, render_html_table

if TYPE_CHECKING:
    from genbench.board.leaderboard import Group, Leaderboard

GRID_MAX = 64
MODE_METRIC = re.compile(r"^(modes|mode_|reverse_kl|high_quality|kl|classes|ndb|js|duplicate|birthday|copying)")
_CSS = """body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;font-size:13px}th{background:#f3f3f3}
td:nth-child(2){text-align:left}.figs{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}
figcaption{font-size:12px;color:#555}.footnote{font-size:12px;color:#444}"""
_SCRIPT = """<script>window.addEventListener('load',function(){var imgs=Array.prototype.slice.call(document.images);
var ok=imgs.filter(function(i){return i.complete&&i.naturalWidth>0;}).length;
document.body.setAttribute('data-images-ok',String(ok));
document.body.setAttribute('data-images-total',String(imgs.length));
document.body.setAttribute('data-tables',String(document.querySelectorAll('table').length));});</script>"""


# ---- pictures ---------------------------------------------------------------------------------
def plot_text(text: object) -> str:
    """A model name as matplotlib text: `$` escaped, so a name is never parsed as mathtext."""
    return clean(text).replace("$", r"\$")


def image_grid(images: np.ndarray, ncols: int = 8, pad: int = 1, min_tile: int = 32) -> np.ndarray:
    """uint8 [N, 3, H, W] -> one uint8 [rows·(h+pad)+pad, cols·(w+pad)+pad, 3] image (nearest upscale
    so that tiles are at least `min_tile` pixels; white padding)."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[1] != 3 or x.dtype != np.uint8 or len(x) == 0:
        raise InputError(f"sample grid: expected non-empty uint8 [N, 3, H, W], got {x.dtype} {list(x.shape)}")
    scale = max(1, -(-min_tile // min(x.shape[2:])))
    x = x.repeat(scale, axis=2).repeat(scale, axis=3).transpose(0, 2, 3, 1)  # [N, h, w, 3]
    n, h, w, _ = x.shape
    cols = min(ncols, n)
    rows = -(-n // cols)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, dtype=np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = x[k]
    return grid


def _png_array(rgb: np.ndarray) -> str:
    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, rgb, format="png", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _png_figure(fig: Figure) -> str:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None}, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(b64: str, alt: str, caption: str) -> str:
    e = html.escape
    return (f'<figure><img src="data:image/png;base64,{b64}" alt="{e(alt)}">'
            f"<figcaption>{e(caption)}</figcaption></figure>")


def _errors(group: "Group", metric: str, models: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    vals, err, any_err = [], [], False
    for m in models:
        r = group.cell(m, metric)
        v = np.nan if r is None or r.get("value") is None else float(r["value"])
        lo = hi = 0.0
        if r is not None and r.get("ci95"):
            lo, hi, any_err = max(v - r["ci95"][0], 0.0), max(r["ci95"][1] - v, 0.0), True
        elif r is not None and r.get("std") is not None:
            lo = hi = 1.96 * float(r["std"])
            any_err = True
        vals.append(v)
        err.append((lo, hi))
    return np.array(vals), (np.array(err).T if any_err else None)


def off_scale(vals: np.ndarray, factor: float = 5.0) -> np.ndarray:
    """Which bars dwarf the others (e.g. the noise baseline's fd, 497 against 6 to 17): values above `factor`
    times the median of the finite values, when every value is non-negative. A boolean mask."""
    finite = vals[np.isfinite(vals)]
    if finite.size < 3 or (finite < 0).any() or np.median(finite) <= 0:
        return np.zeros(vals.shape, dtype=bool)
    return np.isfinite(vals) & (vals > factor * np.median(finite))


def bar_chart(group: "Group", metric: str) -> str:
    """Horizontal bars with 95% CIs. Bars that dwarf the others are cut at the axis' edge and labelled with
    their value, so the models' bars stay comparable."""
    models = group.ranked_models()
    vals, err = _errors(group, metric, models)
    big = off_scale(vals)
    fig = Figure(figsize=(4.2, 0.32 * len(models) + 1.0))
    ax = fig.add_subplot()
    y = np.arange(len(models))[::-1]
    ax.barh(y, np.nan_to_num(vals), xerr=err, color="#4c78a8", ecolor="#333", capsize=3)
    ax.set_yticks(y, [plot_text(m) for m in models], fontsize=8)
    title = f"{metric}{arrow(group.direction(metric))}"
    if big.any():
        _cut_bars(ax, vals, err, big, y)
        title += f" ({', '.join(plot_text(m) for m, b in zip(models, big) if b)} off scale)"
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    return _png_figure(fig)


def _cut_bars(ax: Any, vals: np.ndarray, err: np.ndarray | None, big: np.ndarray, y: np.ndarray) -> None:
    """Limit the x axis to the bars that are not off scale; label the cut bars with their value."""
    upper = vals + (err[1] if err is not None else 0.0)
    edge = float(np.nanmax(np.where(big, np.nan, upper))) * 1.25
    ax.set_xlim(0, edge)
    for yi, v, b in zip(y, vals, big):
        if b:
            ax.text(edge * 0.98, yi, f"{_fmt_num(float(v))} ▸", ha="right", va="center", fontsize=7,
                    color="white", fontweight="bold")


def label_offsets(x: np.ndarray, y: np.ndarray, near: float = 0.06, step: float = 9.0) -> list[tuple[float, float]]:
    """Text offsets (points) for point labels: a label whose point lies within `near` (data units) of an
    earlier labelled point is moved down one line per such neighbour, so nearby labels do not overlap."""
    out: list[tuple[float, float]] = []
    for i in range(len(x)):
        close = sum(1 for j in range(i) if np.hypot(x[i] - x[j], y[i] - y[j]) < near)
        out.append((3.0, 3.0 - step * close))
    return out


def pr_scatter(group: "Group", p_metric: str, r_metric: str) -> str:
    models = group.ranked_models()
    p, pe = _errors(group, p_metric, models)
    r, re_ = _errors(group, r_metric, models)
    fig = Figure(figsize=(4.2, 4.0))
    ax = fig.add_subplot()
    ax.errorbar(r, p, xerr=re_, yerr=pe, fmt="o", ms=4, capsize=2, color="#e45756")
    for name, xi, yi, off in zip(models, r, p, label_offsets(r, p)):
        ax.annotate(plot_text(name), (xi, yi), fontsize=7, xytext=off, textcoords="offset points")
    ax.set(xlabel=r_metric, ylabel=p_metric, xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
    ax.set_title("precision vs recall", fontsize=10)
    return _png_figure(fig)


def histogram_chart(counts: Any, title: str, reference: Any = None) -> str:
    c = np.asarray(counts, dtype=float).ravel()
    fig = Figure(figsize=(4.2, 2.6))
    ax = fig.add_subplot()
    ax.bar(np.arange(len(c)), c / max(c.sum(), 1), width=1.0, color="#72b7b2", label="samples")
    if reference is not None:
        ref = np.asarray(reference, dtype=float).ravel()
        ax.step(np.arange(len(ref)), ref / max(ref.sum(), 1), where="mid", color="#333", label="reference")
        ax.legend(fontsize=7)
    ax.set(xlabel="class", ylabel="fraction")
    ax.set_title(title, fontsize=10)
    return _png_figure(fig)


def _mixture_for(points: np.ndarray, hint: str | None) -> str:
    """The mode-mixture dataset named by the hint, else the one whose modes' extent is nearest the points'."""
    from genbench.data import mixture_names, toy2d_modes

    if hint in mixture_names():
        return hint
    extent = float(np.nanmax(np.abs(points)))
    return min(mixture_names(), key=lambda n: abs(float(np.abs(toy2d_modes(n)[0]).max()) - extent))


def toy2d_scatter(points: np.ndarray, title: str, mixture: str | None = None) -> str:
    from genbench.data import toy2d_modes

    pts = np.asarray(points, dtype=np.float64)
    centres, _ = toy2d_modes(_mixture_for(pts, mixture))
    fig = Figure(figsize=(3.6, 3.6))
    ax = fig.add_subplot()
    ax.scatter(centres[:, 0], centres[:, 1], s=120, marker="o", facecolors="none", edgecolors="#e45756",
               label="modes")
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5, color="#4c78a8", label="samples")
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(title, fontsize=10)
    return _png_figure(fig)


# ---- sections ---------------------------------------------------------------------------------
def _section(title: str, body: str, sid: str) -> str:
    return f'<section id="{sid}">\n<h2>{html.escape(title)}</h2>\n{body}\n</section>'


def _model_order(board: "Leaderboard", models: list[str]) -> list[str]:
    """Ranked order of the main group, then any other models by name."""
    ranked = board.groups()[0].ranked_models() if board.groups() else []
    return [m for m in ranked if m in models] + sorted(m for m in models if m not in ranked)


def samples_section(board: "Leaderboard", samples: dict[str, np.ndarray], mixture: str | None) -> str:
    figs = []
    for model in _model_order(board, list(samples)):
        x = np.asarray(samples[model])
        if x.ndim == 2 and x.shape[1] == 2:
            figs.append(_img(toy2d_scatter(x, plot_text(model), mixture), f"samples of {clean(model)}",
                             f"{clean(model)}: {len(x)} samples over the mixture modes"))
        else:
            shown = x[:GRID_MAX]
            figs.append(_img(_png_array(image_grid(shown)), f"samples of {clean(model)}",
                             f"{clean(model)}: first {len(shown)} samples"))
    return _section("Samples", f'<div class="figs">{"".join(figs)}</div>', "samples")


def _pr_pairs(metrics: list[str]) -> list[tuple[str, str]]:
    return [(m, "recall" + m[len("precision"):]) for m in metrics
            if m.startswith("precision") and "recall" + m[len("precision"):] in metrics]


def charts_section(board: "Leaderboard") -> str:
    parts = []
    for i, group in enumerate(board.groups()):
        figs = [_img(bar_chart(group, m), f"bar chart of {m}", f"{m} with 95% CI") for m in group.metrics()]
        figs += [_img(pr_scatter(group, p, r), f"{p} vs {r}", f"{p} vs {r}") for p, r in _pr_pairs(group.metrics())]
        parts.append(f'<h3>{html.escape(clean(heading(group)))}</h3>\n<div class="figs" id="charts-{i}">'
                     f'{"".join(figs)}</div>')
    return _section("Metrics", "\n".join(parts), "metrics")


def _mode_table(group: "Group", idx: int) -> str:
    metrics = [m for m in group.metrics() if MODE_METRIC.match(m)]
    if not metrics:
        return ""
    from genbench.board.render import fmt_cell

    e = html.escape
    head = "".join(f"<th>{e(m + arrow(group.direction(m)))}</th>" for m in metrics)
    rows = "".join(f"<tr><td>{e(clean(mod))}</td>" + "".join(f"<td>{e(fmt_cell(group.cell(mod, m)))}</td>"
                                                              for m in metrics) + "</tr>"
                   for mod in group.ranked_models())
    return (f'<table class="mode-collapse" id="modes-{idx}"><thead><tr><th>model</th>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def _histograms(group: "Group", extra_hists: dict) -> list[str]:
    figs = []
    for model in group.ranked_models():
        found = [(r["metric"], r["details"]) for r in group.rows
                 if r["model"] == model and isinstance(r.get("details"), dict) and "class_histogram" in r["details"]]
        for metric, d in found[:1]:
            figs.append(_img(histogram_chart(d["class_histogram"], f"{plot_text(model)} ({metric})",
                                             d.get("reference_histogram")),
                             f"class histogram of {clean(model)}", f"{clean(model)}: predicted classes"))
        if not found and model in extra_hists:
            figs.append(_img(histogram_chart(extra_hists[model], clean(model)),
                             f"class histogram of {clean(model)}", f"{clean(model)}: predicted classes"))
    return figs


def modes_section(board: "Leaderboard", extra: dict) -> str:
    parts = []
    for i, group in enumerate(board.groups()):
        table, figs = _mode_table(group, i), _histograms(group, extra.get("class_histograms") or {})
        if table or figs:
            parts.append(f"<h3>{html.escape(clean(heading(group)))}</h3>\n{table}\n"
                         f'<div class="figs">{"".join(figs)}</div>')
    body = "\n".join(parts) or "<p>No mode-collapse metrics or class histograms in these results.</p>"
    return _section("Mode collapse", body, "mode-collapse")


def per_class_section(board: "Leaderboard", per_class: dict[str, list[dict]]) -> str:
    """Tables of per-class fd / precision / recall / share (genbench.eval.per_class): models x classes."""
    e = html.escape
    models = _model_order(board, list(per_class))
    classes = [r["class"] for r in per_class[models[0]]] if models else []
    parts = ["<p>Each image is labelled by the classifier's argmax; within class c, the generated images "
             "labelled c are compared with the reference images labelled c (small sets: per-class FD is "
             "biased upwards and only comparable at equal N).</p>"]
    for metric in ("fd", "precision", "recall", "share"):
        head = "".join(f"<th>{c}</th>" for c in classes)
        body = ""
        for m in models:
            cells = "".join(f"<td>{_fmt_num(r[metric])}</td>" for r in per_class[m])
            body += f"<tr><td>{e(clean(m))}</td>{cells}</tr>"
        parts.append(f"<h3>{e(metric)} per class</h3><table class=\"per-class\" id=\"per-class-{metric}\">"
                     f"<thead><tr><th>model</th>{head}</tr></thead><tbody>{body}</tbody></table>")
    return _section("Per-class metrics", "\n".join(parts), "per-class")


def _fmt_num(v: float) -> str:
    return "n/a" if v is None or not np.isfinite(v) else (f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}")


def _mixture_hint(board: "Leaderboard", extra: dict) -> str | None:
    from genbench.data import mixture_names

    if extra.get("toy2d"):
        return str(extra["toy2d"])
    for r in board.rows():
        src = str((r.get("protocol") or {}).get("reference_source") or (r.get("reference") or {}).get("source"))
        name = src[len("dataset:"):] if src.startswith("dataset:") else None
        if name in mixture_names():
            return name
    return None


def report_html(board: "Leaderboard", samples: dict[str, np.ndarray] | None = None,
                extra: dict | None = None) -> str:
    """The report page as a string. `extra`: title (str), class_histograms ({model: counts}),
    toy2d (mixture name for point samples), notes (list of str, shown under the title), per_class
    ({model: rows of genbench.eval.per_class.per_class_metrics})."""
    extra = dict(extra or {})
    title = str(extra.get("title") or f"genbench report: {board.suite}")
    notes = "".join(f"<p>{html.escape(clean(n))}</p>" for n in extra.get("notes") or [])
    tables = render_html_table(board) if board.groups() else "<p>The leaderboard is empty.</p>"
    sections = [_section("Leaderboard", tables, "leaderboard")]
    if samples:
        sections.append(samples_section(board, samples, _mixture_hint(board, extra)))
    if board.groups():
        sections += [charts_section(board), modes_section(board, extra)]
    if extra.get("per_class"):
        sections.append(per_class_section(board, extra["per_class"]))
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}'
            f"</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n{notes}\n"
            f"{body}\n{_SCRIPT}\n</body>\n</html>\n")


def write_report(board: "Leaderboard", out_html: str | Path, samples: dict[str, np.ndarray] | None = None,
                 extra: dict | None = None) -> Path:
    """Write the self-contained report atomically; returns its path."""
    return atomic_write_text(out_html, report_html(board, samples, extra))
