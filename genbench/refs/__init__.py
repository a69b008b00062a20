"""Reference statistics: a reference set as numbers (mean, covariance, root, optional rows), not images.

Holds: `stats` (the statistics file format and PrecomputedFeatures), `build` (`genbench ref` and
`genbench ref import`: write a statistics file from a set or from a peer library's file).
May import: the core, `sets`, `features`, `metrics` and `eval.plan` / `eval.inputs` (to build a file
exactly as an evaluation would read it). Never imports comparison, boards, suites or the CLI.
"""
