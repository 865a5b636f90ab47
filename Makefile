# The single entry point. `make test` and `make demo` set everything up on a fresh machine
# with only python3 and make: the .venv, the package with its dev tools, Graphviz's dot, and
# (for the explorer's browser tests) headless Chromium with its ChromeDriver.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help demo test lint typecheck pytest format docs docs-images bench dot chromium clean

help:
	@echo "make demo      train the tutorial networks and the moons demo; graphs, pages and plots to out/"
	@echo "make test      lint, type-check, run every test and doctest, build the docs strictly"
	@echo "make docs      build the documentation site into site/ (open site/index.html)"
	@echo "make bench     benchmark against micrograd and PyTorch (own environment)"
	@echo "make format    format the code with ruff"

# The install's own output (pip's and the build backend's notices) goes to $(VENV)/install.log
# and is shown only if the install fails. The package was once installed as `autodiff`: an older
# .venv loses that name here.
$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) with the package and its development tools;" \
		"the first time this takes a few minutes..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@{ $(BIN)/python -m pip install --upgrade pip \
		&& { $(BIN)/python -m pip uninstall --yes autodiff || true; } \
		&& $(BIN)/python -m pip install -e '.[dev]'; } > $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; echo "Set-up failed: the log above is $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)
	@echo "Set-up done."

dot:
	@bash scripts/ensure-dot.sh

chromium:
	@bash scripts/ensure-chromium.sh

demo: $(STAMP) dot
	$(BIN)/python -m nets all --out out/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The tests run on every CPU (pytest-xdist): on two, a warm `make test` takes under two minutes.
pytest: $(STAMP) dot chromium
	$(BIN)/python -m pytest -n auto

# The docs are built strictly by the test run itself (tests/test_site.py), which then checks
# the pages work from disk; `make docs` builds them into site/ to read.
test: lint typecheck pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs-images: $(STAMP) dot
	$(BIN)/python docs/make_images.py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The bench has its own environment: its baselines are never dependencies of the package or
# of `make test`. PyTorch and JAX are optional: if one cannot be installed the bench runs without it.
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp

$(BENCH_STAMP): pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . micrograd==0.1.0
	$(BENCH_VENV)/bin/python -m pip install --quiet torch==2.13.0 \
		|| echo "bench: PyTorch 2.13.0 could not be installed; the bench runs without it"
	$(BENCH_VENV)/bin/python -m pip install --quiet jax jaxlib \
		|| echo "bench: JAX could not be installed; the bench runs without it"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) site out .pytest_cache .mypy_cache .ruff_cache
