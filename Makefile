# Two commands do all set-up on a fresh machine: `make test` and (with issue C) `make devnet`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-slow bench bench-executor sim devnet clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not bench" -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m "slow" -q

bench: bench-executor

bench-executor: $(STAMP)
	$(BIN)/python -m contracts.bench --block-size 1000 --blocks 10

sim: $(STAMP)
	$(BIN)/python -m tests.sim --seeds 1000 --validators 4 --byzantine 1

devnet:
	@echo "make devnet arrives with issue C (node and devnet); it is not available yet." >&2
	@exit 2

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
