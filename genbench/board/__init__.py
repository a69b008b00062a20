"""Leaderboards: JSONL of results (a suite run replaces its rows), ranked and rendered for people.

Holds: `leaderboard` (Leaderboard over a long-format DataFrame), `ranks` (ranks from all pairs, read
from `<board>.ranks.json`), `rank_file` (writes it, under the board's lock), `rank_sources` (where each
model's features are found: caches, saved features files, its source), `render` (Markdown, CSV, HTML, LaTeX),
`report` (the self-contained HTML report with sample grids and plots).
May import: the core, `sets`, `data`, `metrics`, `features` (to find the rows behind ranks), `eval` (results,
names) and `compare`. Never imports suites or the CLI.
"""
