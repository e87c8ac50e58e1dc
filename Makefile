# tlsurvey: `make run` runs the workflow on the bundled example; `make test` runs the test suite.
# Both create .venv and install everything on first use, and do nothing extra when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

# Reports built by `make run` carry this date (the last commit) instead of the build time and
# leave out run times, so that a rerun (after an interrupted run, say) gives identical bytes.
run report: export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: run test test-slurm lint report browser example clean unlock

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned, with pip: the CPU build on disk (pip's find-links); anything else
	# pulls a multi-GB CUDA build. Then the rest with uv, which keeps the installed torch
	# (it satisfies the pin) and installs in parallel: about 35 s instead of pip's 90 s.
	$(BIN)/python -m pip install --quiet uv torch==2.13.0
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -e '.[test]'
	# numba compiles UMAP's kernels into its on-disk cache once here, not in the first run
	$(BIN)/tlsurvey compile-kernels
	@touch $@

run: $(STAMP) unlock
	$(BIN)/snakemake --cores $(CORES) --rerun-incomplete
	@echo "Report: $(CURDIR)/results/report/report.html"

test: $(STAMP) browser
	$(BIN)/pytest

# Single-node Slurm cluster on this machine (installs Debian's slurm-wlm and munge when missing):
# the example through profiles/slurm must equal a local run byte for byte, then a 200-spec
# multiverse on both (.ci/test_slurm.py).
test-slurm: $(STAMP)
	$(BIN)/python -c "import snakemake_executor_plugin_slurm" 2>/dev/null || \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,slurm]'
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

# A run killed by SIGKILL leaves Snakemake's lock behind ("Directory cannot be locked"). Remove it
# when no Snakemake process works in this directory; refuse (exit 1) while one does.
unlock:
	@if [ -n "$$(ls -A .snakemake/locks 2>/dev/null)" ]; then \
	  for proc in /proc/[0-9]*; do \
	    [ "$$(readlink $$proc/cwd 2>/dev/null)" = "$(CURDIR)" ] || continue; \
	    while IFS= read -r -d '' arg; do \
	      case "$$arg" in snakemake|*/snakemake) held=$${proc#/proc/};; esac; \
	    done 2>/dev/null < $$proc/cmdline; \
	    if [ -n "$$held" ]; then \
	      echo "Snakemake is running in $(CURDIR) (pid $$held): not unlocking" >&2; exit 1; \
	    fi; \
	  done; \
	  echo "Removing the stale lock of an interrupted Snakemake run"; \
	  $(BIN)/snakemake --unlock >/dev/null 2>&1; \
	fi

clean:
	rm -rf results logs .snakemake
