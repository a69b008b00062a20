# Two commands from a fresh clone: `make run` and `make test`.
# Each creates .venv if needed and installs only what is missing (stamp files track pyproject.toml).
# `make run` writes its board under runs/ (gitignored) and says whether it reproduces the committed one;
# `make boards` is the deliberate command that rewrites the committed boards in leaderboards/.
# Both run in reproducible mode: the CPU kernel pins of genbench/reproducible.py (oneDNN, MKL, ATen and
# OpenBLAS at AVX2, fixed thread counts) are exported before Python starts (the CLI would otherwise
# re-execute itself to apply them).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

PINNED = env $$($(BIN)/python -m genbench.reproducible)

.PHONY: run boards test bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@ $(VENV)/.installed-run

# Each starts its boards afresh (a board keeps every protocol version it has seen; these show the current one).
run: $(VENV)/.installed-run
	rm -f runs/boards/digits.csv runs/boards/digits.jsonl runs/boards/digits.md runs/boards/digits.ranks.json
	$(PINNED) $(BIN)/genbench run --suite digits --preset quick --board-dir runs/boards --compare leaderboards

boards: $(VENV)/.installed-run
	rm -f leaderboards/digits.csv leaderboards/digits.jsonl leaderboards/digits.md leaderboards/digits.ranks.json
	rm -f leaderboards/digits-tiny.csv leaderboards/digits-tiny.jsonl leaderboards/digits-tiny.md \
	    leaderboards/digits-tiny.ranks.json
	$(PINNED) $(BIN)/genbench run --suite digits --preset quick --board-dir leaderboards
	$(PINNED) $(BIN)/genbench run --suite digits --preset tiny --board-dir leaderboards --no-report

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/python -m tests.benchmarks.run_all

clean-venv:
	rm -rf $(VENV)
