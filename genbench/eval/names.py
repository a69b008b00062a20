"""Model names: validated where they enter genbench, escaped for each format they are shown in.

A name enters from `--name`, from a leaderboard's JSONL rows (hand-written ones too), from a result JSON,
or as a board file's name. `validate_model_name` refuses what no reader should receive: control
characters, newlines, Unicode format characters (bidirectional overrides U+202A-U+202E and isolates
U+2066-U+2069, zero-width characters, which make text read differently from what it is: "Trojan Source",
Boucher & Anderson 2021), lone surrogates, surrounding spaces, empty or overlong names.

Every renderer still escapes, because a value can reach it without passing here (an old board file, a
path): `safe_text` shows unsafe characters as U+FFFD; then per format
- Markdown: backslash-escape the characters that open links, images, emphasis, code and tables
  (CommonMark's backslash escapes) and write <, >, & as entities, so `[x](javascript:...)` stays text;
- HTML: entities (html.escape, quotes included);
- LaTeX: the ten special characters as commands;
- CSV: a leading =, +, -, @, tab or CR gets a ' (OWASP's CSV-injection rule);
- terminal: safe_text (no escape sequences, no bidi reordering).
"""
from __future__ import annotations

import html
import re
import unicodedata

from genbench.errors import InputError

MAX_NAME_LEN = 200
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
REPLACEMENT = "\ufffd"


def unsafe_char(text: str) -> str | None:
    """The first character of `text` a reader must not receive (control, format, surrogate), or None."""
    for ch in text:
        if _UNSAFE.match(ch) or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return ch
    return None


def validate_model_name(name: object, where: object = "--name") -> str:
    """A model name a leaderboard can carry: printable Unicode without control or format characters
    (no newline, no bidi override, no lone surrogate), no surrounding spaces, 1..MAX_NAME_LEN characters."""
    if not isinstance(name, str):
        raise InputError(f"{where}: model name must be a string, got {type(name).__name__}")
    if not name.strip():
        raise InputError(f"{where}: model name for the leaderboard is empty")
    if len(name) > MAX_NAME_LEN:
        raise InputError(f"{where}: model name is {len(name)} characters long (at most {MAX_NAME_LEN})")
    bad = unsafe_char(name) or (None if name.isprintable() else next(c for c in name if not c.isprintable()))
    if bad is not None or name != name.strip():
        shown = ascii(bad) if bad is not None else "surrounding spaces"
        raise InputError(f"{where}: model name {ascii(name[:60])} contains {shown}; use printable "
                         "characters without control or format characters, newlines or surrounding spaces")
    return name


def safe_text(text: object) -> str:
    """str(text) with control and format characters (bidi overrides, zero-width, newlines) as U+FFFD."""
    s = str(text)
    return "".join(REPLACEMENT if unsafe_char(ch) else ch for ch in s) if unsafe_char(s) else s


_MD = {"\\": "\\\\", "|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;", "[": "\\[", "]": "\\]",
       "`": "\\`", "*": "\\*"}


def escape_markdown(text: object) -> str:
    """Text that renders as itself in a Markdown table cell or heading: no link, image, code or emphasis."""
    return "".join(_MD.get(ch, ch) for ch in safe_text(text))


def escape_html(text: object) -> str:
    return html.escape(safe_text(text), quote=True)


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def escape_latex(text: object) -> str:
    return "".join(_TEX.get(ch, ch) for ch in safe_text(text))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_csv(text: object) -> str:
    """A text cell that spreadsheets do not run as a formula (the csv module then quotes as needed)."""
    s = safe_text(text)
    return "'" + s if s.startswith(_FORMULA_START) else s


def escape_terminal(text: object) -> str:
    return safe_text(text)


ESCAPERS = {"md": escape_markdown, "html": escape_html, "latex": escape_latex, "csv": escape_csv,
            "text": escape_terminal}
