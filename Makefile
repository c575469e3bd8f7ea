# newsflow: the Makefile targets are the interface.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= data
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif

.PHONY: install demo test lint format bench eval reliability browser postgres clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python "$$(command -v $(PYTHON))"
	@touch $@

install: $(VENV)/.installed ## Install newsflow and its pinned dependencies into .venv/

demo: install ## Ingest the bundled sample articles into ./data and show what landed
	$(BIN)/newsflow ingest samples --data-dir $(DATA_DIR)
	$(BIN)/newsflow status --data-dir $(DATA_DIR)
	@echo
	@echo 'Example query: newsflow query "SELECT source, title, dateline, language, word_count FROM articles ORDER BY title"'
	$(BIN)/newsflow query "SELECT source, title, dateline, language, word_count FROM articles ORDER BY title" --data-dir $(DATA_DIR)

lint: install ## ruff and mypy
	$(BIN)/ruff check newsflow flows tasks warehouse tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format newsflow flows tasks warehouse tests bench
	$(BIN)/ruff check --fix newsflow flows tasks warehouse tests bench

test: install lint browser postgres ## The whole test suite (lint first)
	$(BIN)/pytest -q

bench: install ## Ingest benchmarks: articles/s, peak RSS, no-op re-run
	$(BIN)/python -m bench.ingest

eval: install ## Enrichment accuracy on the shared corpus
	$(BIN)/python -m bench.eval_entities
	$(BIN)/python -m bench.eval_enrichment

reliability: install ## Fault injection, concurrency and hostile-input sets, with their figures
	$(BIN)/python -m bench.reliability

browser: ## Debian's Chromium for the report's browser test (skipped when it cannot be installed)
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
		echo "chromium not installed: the report's browser test will be skipped (it fails under CI)"; }

postgres: ## Debian's PostgreSQL server for the PostgreSQL + S3 test (skipped when it cannot be installed)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || \
		echo "PostgreSQL not installed: the PostgreSQL + S3 test will be skipped (it fails under CI)"; }

clean:
	rm -rf $(DATA_DIR) .tools .pytest_cache .mypy_cache .ruff_cache
