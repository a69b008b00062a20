"""Comparisons between models on one reference: the release gate and leaderboard ranks.

Holds: `paired` (paired bootstrap of a difference against a shared reference; its row-count replicates come
from each metric's `count_values`, genbench.metrics.functional.counts), `find_features` (the feature rows
behind results), `gate` (rule parsing and verdicts), `features_file` (the `R.features.npz` format beside a
result), `result_schema` (the JSON schema a result file is checked against), `verify` (recording a result's
feature rows and recomputing its values from them), `pairwise` (all-pairs tests with Holm's correction, rank
intervals), `laws` (variance laws of a rule's difference fitted on pilots; pair separation), `joint` (the
chance that every rule passes, from their correlation), `power` (the sample-size plan), `regressions`
(degradations of known kind and size), `pilot` (pilot features for the planner).
May import: the core, `sets`, `features`, `metrics`, `refs`, `eval`. Never imports boards, suites or the
CLI: a board asks `ranks` for its groups, never the other way round.
"""
