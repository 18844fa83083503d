# Small tooling, visible commands. `make setup` once, then `make test`.
VENV ?= .venv
PY   := $(VENV)/bin/python

.PHONY: setup models test test-fast lint bench serve

setup:            ## venv, dependencies, llama.cpp wheel, models, corpus, index (idempotent)
	bash scripts/setup.sh

models:           ## obtain and verify the models only
	$(PY) -m policy_rag.models

test:             ## all tests, including the integration (real models) and browser ones
	$(VENV)/bin/pytest

test-fast:        ## unit tests only
	$(VENV)/bin/pytest -m "not integration and not browser"

lint:
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy

bench:
	$(PY) eval/bench.py

serve:
	$(VENV)/bin/policy-rag serve
