# imgopt developer commands. Everything a fresh clone needs is set up by these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What serving needs (make run), and what testing adds (make test, bench, stress).
INSTALLED := $(VENV)/.installed
DEV_INSTALLED := $(VENV)/.installed-dev
CORPUS ?=

.PHONY: run test lint pytest setup setup-dev docs bench bench-smoke avif-table stress clean

## run: set up what serving needs, then serve on $$HOST:$$PORT (from .env: 127.0.0.1:3000) and print the link
run: setup
	IMGOPT_LOCAL_RUN=1 $(BIN)/gunicorn -c gunicorn.conf.py

## test: set up with the test tools, then lint, check formatting, run every test and a benchmark smoke run
test: setup-dev lint pytest bench-smoke

setup: $(INSTALLED) .env

setup-dev: $(DEV_INSTALLED) .env

lint: $(DEV_INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint --failure-threshold style Dockerfile

pytest: $(DEV_INSTALLED)
	$(BIN)/python -m pytest

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "imgopt needs Python 3.11 or newer; run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(BIN)/python setup.cfg setup.py
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# .env is created once, from .env.example, with a fresh token; an existing .env is never touched.
.env:
	@token=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))'); \
	sed "s/^API_TOKEN=.*/API_TOKEN=$$token/" .env.example > .env; \
	echo "Created .env with a new API_TOKEN (callers send it as Authorization: Bearer ...):"; \
	echo "  API_TOKEN=$$token"

## bench: service vs raw Pillow bound, rendition sets, framing, quality=auto (CORPUS=../shared/corpus/photos for real photos)
bench: $(DEV_INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.bench $(CORPUS) --json bench/results/bench-$$(date +%Y%m%d-%H%M%S).json

bench-smoke: $(DEV_INSTALLED)
	$(BIN)/python -m bench.bench --smoke

## avif-table: AVIF codec x speed x quality -> ms, bytes, SSIMULACRA2 (needs CORPUS; installs numpy/scipy)
avif-table: $(DEV_INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.avif_table $(or $(CORPUS),../shared/corpus/photos) --json bench/results/avif.json

## stress: floods, probes under load, worst cases, a 2,000-request soak, a worker's memory over its life (minutes)
stress: $(DEV_INSTALLED)
	$(BIN)/python -m bench.stress

## docs: regenerate docs/configuration.md from imgopt/config.py, and the operations' table and x-operations
## of docs/api.md and docs/openapi.yaml from imgopt/imaging/operations/
docs: $(INSTALLED)
	$(BIN)/python -c 'import sys; from imgopt.config import configuration_reference as doc; sys.stdout.write(doc())' \
		> docs/configuration.md
	$(BIN)/python -m imgopt.imaging.operations.reference docs/api.md docs/openapi.yaml

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
