"""Evaluation: samples + reference + protocol -> EvalResult with intervals.

Holds: `options` (EvalOptions, the run settings evaluate() and Evaluator share), `plan` (what was asked:
metric names, statistics-file references), `inputs` (the inputs metrics need for one feature space, from
any kind of set), `run` (`evaluate()`: validate, decode once, compute), `stream` (`Evaluator`, the
streaming form for training loops), `result` (EvalResult and its JSON), `per_class` (FD and
precision/recall within each predicted class).
May import: the core, `sets`, `features`, `metrics`, `refs.stats`. Never imports comparison, boards,
suites or the CLI.
"""
