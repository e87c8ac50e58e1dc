# tlsurvey: `make run` runs the workflow on the bundled example; `make test` runs the test suite.
# Both create .venv and install everything on first use, and do nothing extra when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: run test test-slurm lint report browser example clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU build on disk; anything else pulls a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	@echo "Report: $(CURDIR)/results/report/report.html"

test: $(STAMP) browser
	$(BIN)/pytest

# Single-node Slurm cluster on this machine (installs Debian's slurm-wlm and munge when missing):
# the example through profiles/slurm must equal a local run byte for byte, then a 200-spec
# multiverse on both (.ci/test_slurm.py).
test-slurm: $(STAMP)
	$(BIN)/python -c "import snakemake_executor_plugin_slurm" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet -e '.[test,slurm]'
	$(BIN)/python .ci/test_slurm.py --specs 200

lint: $(STAMP)
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/snakemake --lint

report: run
	$(BIN)/snakemake --cores 1 --report results/report.zip

# Headless Chromium (Debian's package) for the browser test of report.html and audit.html.
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Regenerate the bundled example survey (see data/raw/example/README.md).
example: $(STAMP)
	$(BIN)/tlsurvey simulate --participants 15 --seed 1 --wave wave1 --out data/raw/example
	$(BIN)/tlsurvey simulate --participants 40 --seed 2 --wave wave2 --returning 3 --returning-seed 1 --out data/raw/example

clean:
	rm -rf results logs .snakemake
