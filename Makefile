# The single entry point. `make test` and `make demo` set everything up on a fresh machine
# with only python3 and make: the .venv, the package with its dev tools, and Graphviz's dot.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help demo test lint typecheck pytest format docs docs-images bench dot clean

help:
	@echo "make demo      train the three tutorial networks, write graphs and plots to out/"
	@echo "make test      lint, type-check, run every test and doctest, build the docs strictly"
	@echo "make docs      build the documentation site into site/"
	@echo "make bench     benchmark against micrograd and PyTorch (own environment)"
	@echo "make format    format the code with ruff"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dot:
	@bash scripts/ensure-dot.sh

demo: $(STAMP) dot
	$(BIN)/python -m nets all --out out/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) dot
	$(BIN)/python -m pytest

test: lint typecheck pytest docs

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs-images: $(STAMP) dot
	$(BIN)/python docs/make_images.py

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) site out .pytest_cache .mypy_cache .ruff_cache
