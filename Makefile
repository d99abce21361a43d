# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up on demand.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PEERS := tests/integration/peers
NODE_STAMP := $(PEERS)/node_modules/.installed
# The explorer's scripts, fetched once from the npm registry (hash-checked) so the demo and the
# browser test need no CDN.
EXPLORER_ASSETS := .cache/explorer-assets
EXPLORER_STAMP := $(EXPLORER_ASSETS)/.complete

.PHONY: install run test lint format bench bench-smoke wrk clean system-packages

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(NODE_STAMP): $(PEERS)/package.json $(PEERS)/package-lock.json
	cd $(PEERS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(EXPLORER_STAMP): $(STAMP) packages/server/src/clew/server/_bundles.py
	$(BIN)/clew explorer-assets $(EXPLORER_ASSETS) >/dev/null
	touch $(EXPLORER_STAMP)

# Debian packages the tests run for real: chromium (the browser test), redis-server (the pub/sub
# tests, on a free loopback port) and wrk (the bench smoke run). Installed when missing, as root,
# after one update.
system-packages:
	@missing=""; for package in chromium redis-server wrk; do \
		command -v $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } || \
		{ echo "the tests need the Debian packages$$missing: apt-get install$$missing"; exit 1; }

install: $(STAMP)

run: $(STAMP) $(EXPLORER_STAMP)
	CLEW_EXPLORER_ASSETS=$(EXPLORER_ASSETS) $(BIN)/clew serve clew.server.demo:app --host 127.0.0.1 --port 8000

test: $(STAMP) $(NODE_STAMP) $(EXPLORER_STAMP) system-packages wrk
	$(BIN)/python -m pytest --cov=clew.protocol --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100

# wrk loads the HTTP workloads of `make bench` (and their smoke run in `make test`).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk is required: install the Debian package wrk (apt-get install wrk)"; exit 1; fi; }

bench: $(STAMP) system-packages wrk
	$(BIN)/python benchmarks/run.py --json benchmarks/results.json
	$(BIN)/python benchmarks/chart.py benchmarks/results.json benchmarks/results.png
	$(BIN)/python benchmarks/pubsub/bench_fanout.py

bench-smoke: $(STAMP) wrk
	$(BIN)/python benchmarks/run.py --smoke

lint: $(STAMP)
	$(BIN)/ruff check packages tests benchmarks
	$(BIN)/ruff format --check packages tests benchmarks
	$(BIN)/mypy packages/protocol/src packages/client/src packages/server/src

format: $(STAMP)
	$(BIN)/ruff check --fix packages tests benchmarks
	$(BIN)/ruff format packages tests benchmarks

clean:
	rm -rf $(VENV) $(PEERS)/node_modules .cache build dist .coverage .mypy_cache .ruff_cache
