# DMM-CNN replication and teaching suite. `make help` lists every target.
# Two commands do all set-up on a fresh machine: `make run` and `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dmm-setup-stamp
# the lock of tested versions for this Python and platform (dmmlib/suite/lockfile.py); UNLOCKED=1 ignores it
LOCK := $(shell $(PYTHON) dmmlib/suite/lockfile.py path)
UNLOCKED ?=
PRESET ?= auto
DATA_DIR ?=
LFWA_DIR ?=
NPROC ?= 1
# runs of notebooks 05-07 that `make run` trains at once before the notebooks (auto: one per core on a CPU with
# synthetic data, each on cores/JOBS threads; 1: the notebooks train them one after the other). dmmlib/suite/pretrain.py
# `make sweep` reads JOBS as the points run at once, auto meaning 1 there
JOBS ?= auto
# initial weights of the trunk (imagenet | none | /path/to/resnet50-0676ba61.pth): exported as DMM_WEIGHTS, which the
# notebooks and the training CLI read (dmmlib/suite/weights.py); unset, each preset's own choice holds
WEIGHTS ?=
ifneq ($(strip $(WEIGHTS)),)
# a file's path made absolute here, so that notebook kernels started in another folder find it
export DMM_WEIGHTS := $(if $(filter imagenet none scratch random,$(strip $(WEIGHTS))),$(strip $(WEIGHTS)),$(abspath $(strip $(WEIGHTS))))
endif
# pytest-xdist workers for `make unit` (auto: one per core; 0 runs the tests in this process). nbval stays in one
# process, its notebooks in order: two workers, whose notebooks wait on each other's runs and data, took 184 s on a
# fresh 2-core clone where one process took 203 s, a gain within what two clones differ by
TEST_JOBS ?= auto
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# huge pages for torch's large CPU allocations, inherited by notebook kernels and workers (see dmmlib/__init__.py)
export THP_MEM_ALLOC_ENABLE ?= 1

.DEFAULT_GOAL := help
.PHONY: FORCE help setup lock run test lint unit nbval book browser paper student assign bench lab clean

help: ## List every target with one line each
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-9s %s\n", $$1, $$2}'
	@echo "  Variables: PRESET=smoke|teach|paper|auto (default auto), DATA_DIR=..., LFWA_DIR=..., NPROC=N, JOBS=auto|N,"
	@echo "             WEIGHTS=imagenet|none|/path/to/weights.pth (paper preset default: imagenet)"

setup: $(STAMP) ## Create .venv with the locked versions (UNLOCKED=1: newest), dmmlib and the `python3` kernel (idempotent)

$(STAMP): pyproject.toml $(wildcard $(LOCK)) $(if $(UNLOCKED),FORCE)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	@if [ -z "$(UNLOCKED)" ] && [ -f "$(LOCK)" ]; then \
	  echo "setup: installing the tested versions of $(LOCK)"; \
	  $(PY) -m pip install --quiet -r "$(LOCK)" && $(PY) -m pip install --quiet --no-deps -e . \
	  && echo "locked $(LOCK)" > $(STAMP).new; \
	else \
	  if [ -z "$(UNLOCKED)" ]; then echo "setup: no lock for this Python and platform ($(LOCK)); installing the newest versions pyproject.toml admits"; fi; \
	  $(PY) -m pip install --quiet $(if $(UNLOCKED),--upgrade --upgrade-strategy eager) -e ".[dev]" && echo "unlocked" > $(STAMP).new; \
	fi
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (dmmlib)" >/dev/null
	@mv $(STAMP).new $(STAMP)
	@echo "setup: $(VENV) is ready ($$(cat $(STAMP)))"

lock: ## Re-make $(LOCK): a fresh venv takes the newest versions pyproject.toml admits; commit it once tests pass
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --upgrade "pip>=24"
	build/lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	build/lock-venv/bin/python dmmlib/suite/lockfile.py write
	rm -rf build/lock-venv

run: setup ## Run every notebook of the manifest headless with papermill into build/executed/<preset>/
	$(PY) -m dmmlib.suite run --preset $(PRESET) --jobs $(JOBS) $(if $(DATA_DIR),--data-dir $(DATA_DIR)) $(if $(LFWA_DIR),--lfwa-dir $(LFWA_DIR))

test: setup lint unit nbval ## Lint (ruff, mypy), unit tests (paper path included) and nbval of every notebook (smoke)

lint: setup ## ruff over the package, tests, benchmarks and notebooks; mypy over dmmlib ([tool.mypy] in pyproject.toml)
	$(VENV)/bin/ruff check dmmlib tests bench notebooks
	$(VENV)/bin/mypy

unit: setup browser ## The unit tests (pytest tests/), a module per worker (TEST_JOBS=auto: one worker per core)
	$(PY) -m pytest tests -n $(TEST_JOBS) --dist loadfile --durations=15

nbval: setup ## nbval of every notebook with the smoke preset
	DMM_PRESET=smoke $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider notebooks

book: setup ## Build the Jupyter Book from build/executed/<preset>/ into build/book/html (runs the notebooks first if missing)
	$(PY) -m dmmlib.suite book --preset $(PRESET) $(if $(DATA_DIR),--data-dir $(DATA_DIR)) $(if $(LFWA_DIR),--lfwa-dir $(LFWA_DIR))

browser: ## Install Debian's chromium for the book's browser test when /usr/bin/chromium is absent (needs root)
	@test -x /usr/bin/chromium || { \
	  echo "browser: installing Debian's chromium (apt-get)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
	  || echo "browser: could not install chromium; the book's browser test will be skipped"; }

paper: setup ## Run the suite with the paper preset on real CelebA/LFWA (DATA_DIR=..., LFWA_DIR=..., NPROC=N, WEIGHTS=...)
	@test -n "$(DATA_DIR)" || { echo "make paper: set DATA_DIR=/path/to/celeba (and LFWA_DIR=/path/to/lfwa)"; exit 2; }
	@if [ "$(NPROC)" -gt 1 ]; then \
	  echo "make paper: training the Table 1 and Table 2 runs on $(NPROC) GPUs (torchrun, DDP)"; \
	  $(VENV)/bin/torchrun --standalone --nproc_per_node=$(NPROC) -m dmmlib.suite.train_cli --preset paper \
	    --data-dir $(DATA_DIR) $(if $(LFWA_DIR),--lfwa-dir $(LFWA_DIR)) --all || exit $$?; \
	fi
	$(MAKE) run PRESET=paper DATA_DIR=$(DATA_DIR) LFWA_DIR=$(LFWA_DIR)

lab: setup ## Start JupyterLab for students on notebooks/ with this venv's kernel (PRESET=smoke|teach sets DMM_PRESET)
	@$(PY) -m dmmlib.suite.lab_browser --write-overrides
	DMM_ROOT="$(CURDIR)" $(if $(filter-out auto,$(PRESET)),DMM_PRESET=$(PRESET)) $(VENV)/bin/jupyter lab \
	  --ServerApp.root_dir="$(CURDIR)/notebooks" --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

student: setup ## Write student copies of the notebooks (solutions replaced by stubs) into build/student/
	$(PY) -m dmmlib.suite.exercises --out build/student

assign: setup ## nbgrader course in build/course/: source/ (solutions, hidden tests) and release/ (for students)
	$(PY) -m dmmlib.suite.course --out build/course

bench: setup ## Run the benchmarks in bench/ and write build/bench/summary.json
	$(PY) -m bench

gpu-check: setup ## On a CUDA machine: images/s Baseline vs DMM-CNN, one Algorithm 1 update, peak memory (exit 3: no GPU)
	$(PY) -m bench.gpu_check

.PHONY: sweep
sweep: setup ## Papermill batch sweep, then collect: make sweep SPEC=sweeps/table1-seeds.yml JOBS=2 [SHARD=1/4]
	@test -n "$(SPEC)" || { echo "make sweep: set SPEC=sweeps/<name>.yml (the specs are in sweeps/)"; exit 2; }
	$(PY) -m dmmlib.suite sweep $(SPEC) --jobs $(if $(filter auto,$(JOBS)),1,$(or $(JOBS),1)) $(if $(SHARD),--shard $(SHARD))

.PHONY: evidence
.PHONY: premises shared-schedule
premises: setup ## The pre-registered premise experiments (80 small runs, about an hour on 2 cores) -> evidence/premises-teach/
	$(PY) -m dmmlib.suite.premises run --jobs 2
	$(PY) -m dmmlib.suite.premises record

shared-schedule: setup ## Retrain the stored teach runs the plateau rule cut, under one shared schedule -> evidence/evidence-teach-shared-schedule/
	$(PY) -m dmmlib.suite.shared_schedule run --jobs 2
	$(PY) -m dmmlib.suite.shared_schedule record

evidence: setup ## Keep a finished sweep's per-seed summary in evidence/<NAME>/: make evidence NAME=evidence-teach
	@test -n "$(NAME)" || { echo "make evidence: set NAME=<sweep name> (a folder of build/sweeps/)"; exit 2; }
	$(PY) -m dmmlib.suite evidence $(NAME)

clean: ## Remove build/, runs/ and caches (keeps .venv; `rm -rf .venv` to redo setup)
	rm -rf build runs .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
