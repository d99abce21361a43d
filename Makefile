# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up on demand.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PEERS := tests/integration/peers
NODE_STAMP := $(PEERS)/node_modules/.installed

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(NODE_STAMP): $(PEERS)/package.json $(PEERS)/package-lock.json
	cd $(PEERS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/clew serve clew.server.demo:app --host 127.0.0.1 --port 8000

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest --cov=clew.protocol --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100

bench: $(STAMP)
	$(BIN)/python benchmarks/http/bench_hello.py
	$(BIN)/python benchmarks/subscriptions/bench_stream.py

lint: $(STAMP)
	$(BIN)/ruff check packages tests benchmarks
	$(BIN)/ruff format --check packages tests benchmarks
	$(BIN)/mypy packages/protocol/src packages/client/src packages/server/src

format: $(STAMP)
	$(BIN)/ruff check --fix packages tests benchmarks
	$(BIN)/ruff format packages tests benchmarks

clean:
	rm -rf $(VENV) $(PEERS)/node_modules build dist .coverage .mypy_cache .ruff_cache
