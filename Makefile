# Two commands do all set-up on a fresh machine: `make devnet` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: test test-slow bench bench-executor bench-devnet bench-rpc bench-catchup bench-sync soak bench-liveness sim sim-availability devnet clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The browser tests drive Debian's Chromium (Playwright never downloads one). Installed once, when missing;
# without root or apt it only warns, and the browser tests then fail saying how to install it.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq chromium >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } || \
		echo "warning: could not install chromium; the browser tests will fail"; \
	else \
		echo "warning: $(CHROMIUM) is missing and installing it needs root and apt; the browser tests will fail"; \
	fi

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -m "not slow and not bench" -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m "slow" -q

bench: bench-executor bench-rpc bench-devnet bench-catchup bench-sync

bench-executor: $(STAMP)
	$(BIN)/python -m contracts.bench --block-size 1000 --blocks 10 --accounts 100000

sim: $(STAMP)
	$(BIN)/python -m tests.sim --seeds 1000 --validators 4 --byzantine 1 --twins

# Commit rate with f validators crashed, partitioned or flapping, against the all-up run (fails below 90 %).
sim-availability: $(STAMP)
	$(BIN)/python -m tests.sim --availability --seeds 20 --validators 4
	$(BIN)/python -m tests.sim --availability --seeds 5 --validators 7

# A 4-validator network on 127.0.0.1: node i's JSON-RPC on 8080+i, the faucet at :8080/mint; Ctrl-C stops it.
devnet: $(STAMP)
	$(BIN)/stablechain devnet up --validators 4 --base-port 8080

bench-devnet: $(STAMP)
	$(BIN)/stablechain bench --validators 4 --duration 60 --json

bench-rpc: $(STAMP)
	$(BIN)/stablechain bench-rpc --duration 20 --json

bench-catchup: $(STAMP)
	$(BIN)/stablechain bench-catchup --validators 4 --load 30 --json

# A wiped validator rejoins by fast sync (ADR 0018): time to its first wallet-verified read.
bench-sync: $(STAMP)
	$(BIN)/stablechain bench-sync --validators 4 --load 30 --json

# 1,000,000 transfers at a saturating load with pruning on (about 20 minutes here): RSS, disk, throughput drift.
soak: $(STAMP)
	$(BIN)/stablechain soak --transactions 1000000 --retention 100000 --json

# One validator of four killed, then cut off by its link, on test hosts in network namespaces (needs root).
bench-liveness: $(STAMP)
	$(BIN)/python -m tests.netns.liveness --json

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
