# Every target first brings .venv up to date with the lock files (packaging/setup_venv.py:
# a no-op when nothing changed). Variables, all optional:
#   PYTHON=python3.13   the interpreter for a new .venv (default: packaging/find-python's pick)
#   TORCH=cuda          PyPI's torch, the CUDA build on Linux (default: cpu, PyTorch's CPU build)
#   TORCH_CPU_INDEX=URL where the CPU build of torch comes from on Linux ('' for pip's own sources)
#   VENV=.venv-3.13     another virtual environment, e.g. one per Python
PYTHON          ?=
TORCH           ?= cpu
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
VENV            ?= .venv
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
else
BIN := $(VENV)/bin
endif
# Who runs the set-up: the named Python, else the venv's own, else the first supported one.
# (The venv's own only if it runs: a venv whose base Python was removed has a dangling link.)
VENV_PYTHON = $(shell for p in $(BIN)/python $(BIN)/python.exe; do \
	"$$p" -c "" >/dev/null 2>&1 && echo "$$p" && break; done)
SETUP_PYTHON = $(or $(PYTHON),$(VENV_PYTHON),$(shell packaging/find-python \
	$(if $(filter cpu,$(TORCH)),--cpu-lock)))

.PHONY: venv run test test-thorough monkey soak lint check bench bundle bundle-test lock \
	wheel-check clean help print-setup-python

help:
	@echo "make run          set up .venv if needed, launch the app"
	@echo "make test         set up .venv if needed, lint, type-check and run every test offscreen"
	@echo "make test-thorough  the property tests with thousands of random sequences (before a release)"
	@echo "make monkey       the GUI monkey with 40 seeds of 400 random actions each"
	@echo "make soak         a million steps in the core: speed at start and end, bytes per step"
	@echo "make lint         ruff, mypy (code and tests) and the import-layer contracts"
	@echo "make bench        performance benchmark (ratios against a baseline in the same run)"
	@echo "make bundle       build the PyInstaller bundle into dist/ and pack an archive"
	@echo "make bundle-test  smoke-test the built bundle offscreen"
	@echo "make lock         regenerate requirements/*.lock (every Python and platform, with hashes)"
	@echo "make venv         only set up .venv (PYTHON=, TORCH=cpu|cuda, VENV= choose how)"
	@echo "make wheel-check  every supported Python and platform finds a wheel of every package"

# What would run the set-up (for tests and for "which Python will I get?").
print-setup-python:
	@echo "$(SETUP_PYTHON)"

venv:
	@test -n "$(SETUP_PYTHON)"
	@$(SETUP_PYTHON) packaging/setup_venv.py --venv "$(VENV)" --torch "$(TORCH)" \
		--cpu-index "$(TORCH_CPU_INDEX)"

run: venv
	$(BIN)/gui-trainer

lint: venv
	$(BIN)/ruff check gui_trainer tests packaging benchmarks
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks packaging
	$(BIN)/lint-imports

test: venv lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

test-thorough: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/core/test_properties.py \
		--hypothesis-profile=thorough --hypothesis-show-statistics

monkey: venv
	MONKEY_SEEDS=$$(seq -s, 1 40) MONKEY_ACTIONS=400 QT_QPA_PLATFORM=offscreen \
		$(BIN)/python -m pytest -q tests/qt/test_monkey.py

soak: venv
	$(BIN)/python benchmarks/soak.py

bench: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run.py

bundle: venv
	$(BIN)/python packaging/build_bundle.py

bundle-test: venv
	$(BIN)/python packaging/smoke_bundle.py --build-if-missing

# The locks: one resolution for every supported Python, OS and CPU (uv's universal mode), with
# hashes. The CPU build of torch is looked up in TORCH_CPU_INDEX and in pip's own find-links
# folders (where a machine keeps wheels of its own); the CUDA lock takes torch from PyPI.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 \
	--custom-compile-command "make lock"
CPU_SOURCES = $(if $(TORCH_CPU_INDEX),--extra-index-url $(TORCH_CPU_INDEX) \
	--index-strategy unsafe-best-match) \
	$(foreach d,$(shell $(BIN)/pip config get global.find-links 2>/dev/null),--find-links $(d))

# The CPU lock is resolved with torch in it, then torch's lines move to a lock of their own:
# on Linux they come from another index, installed in a second step (packaging/setup_venv.py).
lock: venv
	$(UV_COMPILE) pyproject.toml requirements/dev.in -o requirements/cuda.lock
	$(UV_COMPILE) $(CPU_SOURCES) pyproject.toml requirements/dev.in requirements/torch-cpu.in \
		-o requirements/cpu.lock
	awk 'NR <= 2 || /^[^ #]/ { keep = /^torch==/ } NR <= 2 || keep' requirements/cpu.lock \
		> requirements/torch-cpu.lock
	awk '/^[^ #]/ { skip = /^torch==/ } !skip' requirements/cpu.lock > requirements/cpu.lock.new
	mv requirements/cpu.lock.new requirements/cpu.lock

# A learner's machine never builds a package: each supported Python on each platform finds a
# wheel of every dependency (the glibc and macOS versions are the oldest the wheels accept).
WHEEL_PLATFORMS = x86_64-manylinux_2_34 aarch64-manylinux_2_39 x86_64-pc-windows-msvc \
	aarch64-apple-darwin
wheel-check: venv
	@for python in 3.11 3.12 3.13 3.14; do for platform in $(WHEEL_PLATFORMS); do \
		MACOSX_DEPLOYMENT_TARGET=14.0 $(BIN)/uv pip compile --quiet --only-binary :all: \
			--python-version $$python --python-platform $$platform \
			pyproject.toml requirements/dev.in -o /dev/null \
		&& echo "wheel-check: Python $$python on $$platform: a wheel for every package" \
		|| exit 1; done; done

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
