"""Deterministic renderers of a Leaderboard's wide tables: Markdown, CSV, HTML (table only), LaTeX.

One table per protocol_id (the main group first). Cells read "value ± h" where h is the half-width of
the 95% bootstrap CI (value to 4 significant digits, h to 2), or "value (sd s)" when only a standard
deviation is known. Headers carry the unit where a metric declares one (e.g. "kid ×10³") and ↑
(higher is better) or ↓. A footnote names the protocol, the
extractors with their short weights sha256, N gen / N ref and every skipped metric with its reason.
Output is a pure function of the current rows: no timestamps, and absolute paths are cut to basenames.
CSV stays machine-readable: plain metric names, numeric value and CI columns, one row per model.
"""
from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING

import pandas as pd

from genbench.errors import ConfigError
from genbench.board.ranks import UNPAIRED, parse_label, rank_labels
from genbench.eval.names import escape_html, escape_markdown, safe_text

if TYPE_CHECKING:
    from genbench.board.leaderboard import Group, Leaderboard

FORMATS = ("md", "csv", "html", "latex")
_ABS_PATH = re.compile(r"(?<![\w.~])/(?:[^\s/|,;()]+/)+([^\s/|,;()]+)")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: object) -> str:
    """str(text) with absolute POSIX paths reduced to their basename and control characters (newlines
    included) shown as spaces, so that no value can break a table row in any format."""
    return safe_text(_CONTROL.sub(" ", _ABS_PATH.sub(r"\1", str(text))))


def fmt_num(v: float | None, sig: int = 4) -> str:
    """A number to `sig` significant digits, without exponents for ordinary magnitudes."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    exp = math.floor(math.log10(abs(v)))
    if -4 <= exp < sig:
        return f"{v:.{max(sig - 1 - exp, 0)}f}"
    if exp >= sig:
        return f"{v:.0f}"
    return f"{v:.{sig - 1}e}"


def _decimals(v: float, sig: int) -> int | None:
    """Decimal places that show `v` to `sig` significant digits in fixed notation (None: use fmt_num)."""
    if not math.isfinite(v) or v == 0:
        return None
    exp = math.floor(math.log10(abs(v)))
    return max(sig - 1 - exp, 0) if -4 <= exp < sig + 4 else None


def fmt_pm(value: float | None, half: float) -> str:
    """"value ± half": half to 2 significant digits, value to the same decimal place (at most 4 sig)."""
    if value is None or not math.isfinite(value):
        return f"{fmt_num(value)} ± {fmt_num(half, 2)}"
    dh = _decimals(half, 2)
    dv = dh if value == 0 else _decimals(value, 4)
    if dv is None or dh is None:
        return f"{fmt_num(value)} ± {fmt_num(half, 2)}"
    return f"{value:.{min(dv, dh)}f} ± {half:.{dh}f}"


def fmt_cell(row: dict | None) -> str:
    if row is None:
        return "–"
    if row.get("ci95") and row.get("value") is not None:
        lo, hi = row["ci95"]
        return fmt_pm(float(row["value"]), (float(hi) - float(lo)) / 2)
    value = fmt_num(row.get("value"))
    if row.get("std") is not None:
        return f"{value} (sd {fmt_num(float(row['std']), 2)})"
    return value


def arrow(higher: bool | None) -> str:
    return "" if higher is None else (" ↑" if higher else " ↓")


def heading(group: "Group") -> str:
    p = group.protocol
    return (f"{p.get('protocol', '?')} v{p.get('protocol_version', '?')} "
            f"(protocol_id {group.protocol_id})")


def extractor_notes(protocol: dict) -> list[str]:
    """'name vX (weights sha256 abcdef123456)' per extractor of a protocol record."""
    notes = []
    for e in protocol.get("extractors") or []:
        if not isinstance(e, dict):
            continue
        name = e.get("extractor") or e.get("name") or "?"
        ver = f" v{e['extractor_version']}" if e.get("extractor_version") else ""
        sha = e.get("weights_sha256")
        notes.append(f"{name}{ver}" + (f" (weights sha256 {str(sha)[:12]})" if sha else " (no weights)"))
    if not notes:
        notes = sorted({str(s.get("extractor")) for s in protocol.get("spaces") or [] if isinstance(s, dict)})
    return notes


def footnote_lines(group: "Group", board_path: object = None) -> list[str]:
    p = group.protocol
    first = group.rows[0]
    n_gen = p.get("n_gen", (first.get("samples") or {}).get("n", "?"))
    n_ref = p.get("n_ref", (first.get("reference") or {}).get("n", "?"))
    lines = [f"Protocol: {p.get('protocol', '?')} version {p.get('protocol_version', '?')}; "
             f"N gen = {n_gen}, N ref = {n_ref}.",
             f"Extractors: {', '.join(extractor_notes(p)) or 'none'}.",
             f"Ranked by {group.primary}{arrow(group.direction(group.primary))}; "
             "± is the half-width of the 95% bootstrap CI; ↑ higher is better, ↓ lower is better."]
    lines.append(rank_labels(group, board_path).rule)
    lines.append(computed_on(group))
    for metric, reasons in group.skipped().items():
        for why, models in reasons.items():
            lines.append(f"Skipped {metric}: {why} ({', '.join(models)}).")
    return [clean(x) for x in lines]


def computed_on(group: "Group") -> str:
    """Where the group's values were computed: the reproducibility class (genbench.reproducible) and library
    versions, and what reproduces them byte for byte. A pinned board names only its class, so that two CPU
    kinds of the class write the same file; an unpinned one names its CPU (the rows' `cpu` names it always)."""
    from genbench.reproducible import cpu_name, is_pinned, row_class

    def env(r: dict) -> str:
        p = r.get("protocol") or {}
        klass = row_class(p)
        where = klass if is_pinned(klass) else f"{cpu_name(p)}, unpinned"
        return f"{where}, torch {p.get('torch_version', '?')}, numpy {p.get('numpy_version', '?')}"

    seen = list(dict.fromkeys(env(r) for r in group.rows))
    where = seen[0] if len(seen) == 1 else "several machines: " + "; ".join(seen)
    if all(is_pinned(row_class(r.get("protocol") or {})) for r in group.rows):
        return (f"Computed on {where}: CPU kernels pinned to AVX2 and thread counts fixed (genbench.reproducible), "
                "so that the same command with the same versions computes the same bytes on other x86-64 CPU "
                "kinds (make run reports whether it did).")
    return (f"Computed on {where}. The same command reproduces these values byte for byte on the same CPU kind "
            "and versions; another CPU kind rounds differently, which training can amplify (`genbench run` "
            "pins the CPU kernels to make them agree).")


def unit(group: "Group", metric: str) -> str:
    """' ×10³'-style unit of a metric's values (details["unit"] of its rows, e.g. kid), or ''."""
    for r in group.rows:
        if r["metric"] == metric and (r.get("details") or {}).get("unit"):
            return f" {r['details']['unit']}"
    return ""


def gate_metrics(group: "Group") -> list[str]:
    """The metrics of the group's protocol's gate rules, in the protocol's order ([] when not registered)."""
    from genbench.protocols import PROTOCOLS

    name = str(group.protocol.get("protocol"))
    return [g.metric for g in PROTOCOLS.get(name).gate_rules] if name in PROTOCOLS else []


def column_order(group: "Group") -> list[str]:
    """The protocol's order: the primary metric, then its gate rules' metrics, then the rest alphabetically."""
    names = group.metrics()
    first = [m for m in [group.primary] + gate_metrics(group) if m in names]
    first = list(dict.fromkeys(first))
    return first + [m for m in names if m not in first]


def table_cells(group: "Group", board_path: object = None) -> tuple[list[str], list[list[str]]]:
    """Header and body of a group's wide table as display strings."""
    metrics = column_order(group)
    header = ["#", "model"] + [clean(m) + unit(group, m) + arrow(group.direction(m)) for m in metrics]
    ranks = rank_labels(group, board_path)
    body = [[ranks.cell(model, str(i)), clean(model)] + [fmt_cell(group.cell(model, m)) for m in metrics]
            for i, model in enumerate(group.ranked_models(), 1)]
    return header, body


# ---- plain text (terminal) ---------------------------------------------------------------------
def render_text(board: "Leaderboard", width: int | None = None, all_columns: bool = False) -> str:
    """Aligned plain-text tables for the terminal (`genbench board show`).

    By default a table shows the rank, the model, the primary metric and the gate rules' metrics, then as
    many further columns as fit in `width` characters (None: no limit); `all_columns` shows every column.
    Footnotes wrap to the width."""
    import textwrap

    out = []
    for group in board.groups():
        header, body = table_cells(group, board.path)
        keep = _fitting_columns(group, header, body, None if all_columns else width)
        header, body = [header[i] for i in keep], [[r[i] for i in keep] for r in body]
        widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
        line = lambda cells: "  ".join(c.ljust(w) if i == 1 else c.rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        out += [clean(heading(group)), line(header), line(["-" * w for w in widths])]
        out += [line(row) for row in body] + [""]
        notes = footnote_lines(group, board.path)
        hidden = len(table_cells(group, board.path)[0]) - len(keep)
        if hidden:
            notes.append(f"{hidden} more columns not shown (genbench board show --all, or the .md/.csv files).")
        for note in notes:
            out += textwrap.wrap(note, width=max(40, width or 10**6), initial_indent="  ",
                                 subsequent_indent="    ", break_on_hyphens=False) or [""]
        out.append("")
    return "\n".join(out)


def _fitting_columns(group: "Group", header: list[str], body: list[list[str]], width: int | None) -> list[int]:
    """Indexes of the columns shown: rank, model and the primary metric always; then the gate metrics, then
    the others, each while the table stays within `width` (all of them when width is None). Columns keep
    their order; the first one that does not fit ends the table."""
    if width is None:
        return list(range(len(header)))
    size = lambda i: max(len(r[i]) for r in [header] + body)  # noqa: E731
    keep = list(range(min(3, len(header))))
    used = sum(size(i) for i in keep) + 2 * (len(keep) - 1)
    for i in range(len(keep), len(header)):
        if used + 2 + size(i) > width:
            break
        keep.append(i)
        used += 2 + size(i)
    return keep


# ---- Markdown ---------------------------------------------------------------------------------
def _md_escape(s: str) -> str:
    """Table-safe Markdown text: no link, code or emphasis; HTML tags and entities shown as text."""
    return escape_markdown(clean(s))


def render_markdown(board: "Leaderboard") -> str:
    out = [f"# Leaderboard: {_md_escape(board.suite)}", ""]
    for group in board.groups():
        header, body = table_cells(group, board.path)
        out += [f"## {_md_escape(clean(heading(group)))}", ""]
        out.append("| " + " | ".join(_md_escape(h) for h in header) + " |")
        out.append("|" + "|".join(["---:", "---"] + ["---:"] * (len(header) - 2)) + "|")
        out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in body]
        out += [""] + [f"- {_md_escape(x)}" for x in footnote_lines(group, board.path)] + [""]
    return "\n".join(out)


# ---- CSV --------------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(s: str) -> str:
    """A text cell that spreadsheets do not run as a formula (OWASP CSV injection: prefix with ')."""
    return "'" + s if s.startswith(_FORMULA_START) else s


def _rank_columns(group: "Group", models: list[str], board_path: object) -> tuple[list[int], list[int]]:
    """(best, worst) possible rank per model, in `models` order; unranked models (no value) go last."""
    labels = rank_labels(group, board_path).labels
    pairs = [parse_label(labels[m]) if m in labels else (i, i) for i, m in enumerate(models, 1)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def render_csv(board: "Leaderboard") -> str:
    """protocol_id, rank (best possible), model, then per metric (column_order): <metric>,
    <metric>_ci95_lo, <metric>_ci95_hi; last rank_worst (worst possible rank; equal to rank when exact).
    When any group's ranks are not paired, a last column rank_rule says, per row, "paired" or
    "overlap (unpaired)" (a board whose ranks are all paired has no such column)."""
    frames, rules = [], []
    for group in board.groups():
        wide = group.frame(ci=True)
        flat = pd.DataFrame(index=wide.index)
        for metric in column_order(group):
            flat[metric] = wide[(metric, "value")]
            flat[f"{metric}_ci95_lo"] = wide[(metric, "ci95_lo")]
            flat[f"{metric}_ci95_hi"] = wide[(metric, "ci95_hi")]
        best, worst = _rank_columns(group, list(wide.index), board.path)
        flat.insert(0, "rank", best)
        flat.insert(0, "protocol_id", group.protocol_id)
        flat["rank_worst"] = worst
        rules.append(rank_labels(group, board.path).paired)
        flat["rank_rule"] = "paired" if rules[-1] else UNPAIRED
        frames.append(flat.reset_index())
    if not frames:
        return "protocol_id,rank,model,rank_worst\n"
    table = pd.concat(frames, ignore_index=True, sort=False)
    table = table[["protocol_id", "rank", "model"] + [c for c in table.columns
                                                      if c not in ("protocol_id", "rank", "model", "rank_worst",
                                                                   "rank_rule")]
                  + ["rank_worst"] + ([] if all(rules) else ["rank_rule"])]
    for col in ("protocol_id", "model"):
        table[col] = table[col].map(lambda v: csv_text(clean(v)))
    table.columns = [csv_text(clean(c)) for c in table.columns]  # metric names come from files too
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g")
    return buf.getvalue()


# ---- HTML (table only) ------------------------------------------------------------------------
# A wide board scrolls inside its own box instead of widening the page (a 1,400 px window holds the page).
SCROLL_STYLE = "max-width:100%;overflow-x:auto"

def render_html_table(board: "Leaderboard") -> str:
    """<section> per group with a <table class="leaderboard"> inside a horizontally scrolling box (so the
    page keeps its width however many metrics there are); for embedding in a page."""
    parts = []
    for i, group in enumerate(board.groups()):
        header, body = table_cells(group, board.path)
        e = escape_html  # control and format characters too (issue #27: a metric name in a header)
        thead = "".join(f"<th>{e(h)}</th>" for h in header)
        rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>\n" for row in body)
        notes = "".join(f"<li>{e(x)}</li>" for x in footnote_lines(group, board.path))
        parts.append(
            f'<section class="board-group" id="board-{i}">\n<h3>{e(clean(heading(group)))}</h3>\n'
            f'<div class="board-scroll" style="{SCROLL_STYLE}">\n'
            f'<table class="leaderboard" data-protocol-id="{e(group.protocol_id)}">\n'
            f"<thead><tr>{thead}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</div>\n"
            f'<ul class="footnote">{notes}</ul>\n</section>')
    return "\n".join(parts) + "\n"


# ---- LaTeX ------------------------------------------------------------------------------------
_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def _tex(s: str) -> str:
    s = "".join(_TEX.get(ch, ch) for ch in clean(s))
    return (s.replace(" ± ", r" $\pm$ ").replace(" ↑", r" $\uparrow$").replace(" ↓", r" $\downarrow$")
            .replace("–", "--").replace("×10³", r"$\times 10^3$"))


def render_latex(board: "Leaderboard") -> str:
    """A booktabs tabular per group, followed by its footnote as a small paragraph."""
    out = [f"% Leaderboard: {_tex(clean(board.suite))}"]
    for group in board.groups():
        header, body = table_cells(group, board.path)
        out += [f"% {_tex(clean(heading(group)))}", r"\begin{tabular}{rl" + "r" * (len(header) - 2) + "}",
                r"\toprule", " & ".join(_tex(h) for h in header) + r" \\", r"\midrule"]
        out += [" & ".join(_tex(c) for c in row) + r" \\" for row in body]
        out += [r"\bottomrule", r"\end{tabular}", "", r"{\footnotesize"]
        out += [_tex(x) + r"\\" for x in footnote_lines(group, board.path)] + ["}", ""]
    return "\n".join(out)


def render(board: "Leaderboard", fmt: str) -> str:
    """Render a leaderboard in one of FORMATS (html: the table fragment; the report is report.py)."""
    fns = {"md": render_markdown, "csv": render_csv, "html": render_html_table, "latex": render_latex}
    if fmt not in fns:
        raise ConfigError(f"--format: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return fns[fmt](board)
