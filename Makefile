# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
RUN := $(UV) run --frozen
# Installed packages as bytecode: with PYTHONDONTWRITEBYTECODE=1 (set on this machine and CI)
# every process compiled Prefect and SQLAlchemy from source again: `ytmaker status` 2.2 s
# instead of 0.8 s, `import prefect.main` 3.3 s instead of 1.2 s, in each worker, server, CLI.
export UV_COMPILE_BYTECODE := 1
PYTEST_ARGS ?=
# pytest-xdist workers (0: one process). A unit of work is one test, or a whole module when it
# has a module-scoped fixture (tests/conftest.py). Measured on 2 cores from clean clones: serial
# ~30 min (CI, quiet machine), 2 workers 25 min (stack tests sharing a server per worker),
# 3 workers 27 min (before that sharing: their servers, workers and FFmpeg ran into each other,
# 50 % more CPU seconds for the same tests). With shared servers (2026-12-07): 3 workers 23:56 and
# 2579 CPU-s, 2 workers 24:48 and 2437: the machine is CPU-bound either way; 2 start fewer servers.
# On 2026-12-08 (quiet, another machine): 3 workers 19:22 and 1999 CPU-s, 2 workers 20:15 and 1795.
TEST_WORKERS ?= 2
FAST_WORKERS ?= 2
XDIST = -n $(1) --dist loadscope --no-loadscope-reorder

.PHONY: help install demo demo-en test test-fast lint format bench clean

help:
	@echo "make demo      make a narrated video from the bundled zh-TW sample (offline)"
	@echo "make demo-en   the same from the English sample"
	@echo "make test      the whole test suite (slow end-to-end tests included), with coverage"
	@echo "make test-fast the unit and in-process tests (no Prefect stack), for the coding loop"
	@echo "make lint      ruff, import contracts, mypy"

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	$(RUN) python -m compileall -q -j 0 ytmaker ytmaker_cli tasks flows
	@touch $@

install: .venv/.installed

demo: install
	$(RUN) ytmaker demo --lang zh-TW --json

demo-en: install
	$(RUN) ytmaker demo --lang en --json

test: install
	$(RUN) ruff check .
	$(RUN) lint-imports
	$(RUN) mypy
	$(RUN) coverage erase
	$(RUN) coverage run -m pytest $(call XDIST,$(TEST_WORKERS)) $(PYTEST_ARGS)
	$(RUN) coverage combine -q
	$(RUN) python -m tests.coverage_report

test-fast: install
	$(RUN) pytest -m "not slow" $(call XDIST,$(FAST_WORKERS)) $(PYTEST_ARGS)

lint: install
	$(RUN) ruff check .
	$(RUN) lint-imports
	$(RUN) ruff format --check .
	$(RUN) mypy

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

clean:
	rm -rf data/projects data/channel data/prefect data/ytmaker.db* data/redis.db*

.PHONY: up down

up: install  ## local Prefect server + work pool + deployments + workers (WORKERS=3 make up); prints the UI address
	@bash deployments/up.sh

down:  ## stop what `make up` started (worker first, then the server)
	@bash deployments/down.sh

bench: install  ## render, word-caption timing, image fan-out and batch benchmarks; each prints a table
	$(RUN) python -m bench.render $(BENCH_ARGS)
	$(RUN) python -m bench.karaoke
	$(RUN) python bench/fanout.py
	$(RUN) python bench/batch.py
	$(RUN) python bench/scale.py
