# gens — set-up is these targets; a fresh clone needs nothing else.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install train test test-all lint format clean benchmarks

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install gens (editable) with dev tools

train: $(STAMP)  ## train the embedded default (grid25, CPU, ~2 min)
	$(BIN)/python train.py $(ARGS)

test: $(STAMP)  ## run the default test suite (no slow tests)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

test-all: $(STAMP)  ## run every test, slow ones included
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m '' $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

benchmarks: $(STAMP)  ## regenerate docs/benchmarks/*.md (long)
	$(BIN)/python -m benchmarks.default
	$(BIN)/python -m benchmarks.speed --breakdown
	$(BIN)/python -m benchmarks.ddp
	$(BIN)/python -m benchmarks.image_gans
	$(BIN)/python -m benchmarks.flows
	$(BIN)/python -m benchmarks.flows_ar_vi
	$(BIN)/python -m benchmarks.metrics
	$(BIN)/python -m benchmarks.modes
	$(BIN)/python -m benchmarks.modes --epochs 8 --seeds 3 --data grid25 \
		--rows GAN ALI/BiGAN "Minibatch Disc." PacGAN4 --runs-dir logs/benchmark_modes_8epochs \
		--out docs/benchmarks/modes_8epochs.md \
		--note "Longer-budget check (not the default benchmark): 8 epochs, 3 seeds, grid25, the four rows that are at or near chance at 1 epoch."
	$(BIN)/python -m benchmarks.packed_discriminator
	$(BIN)/python -m benchmarks.stacked
	bash benchmarks/gpu.sh

clean:  ## remove logs, caches and build files (keeps .venv)
	rm -rf logs outputs multirun .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
