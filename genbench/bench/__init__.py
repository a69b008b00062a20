"""Built-in benchmarks: suites end to end, their baselines, and the published tables genbench reproduces.

Holds: `suites` (dataset + reference + protocol + reference models + baselines), `run_suite`
(`genbench run`: train -> generate -> evaluate -> leaderboard -> report), `baselines` (real-vs-real and
noise sets), `papers` (published tables as data), `reproduce` (`genbench reproduce`), `board_diff` (a new
board against the committed one: `make run`'s verdict).
May import: everything in the library except the CLI (`cli`, `commands`); `reference_models` only inside
functions, so that `import genbench` never loads it.
"""
