# Every target sets up .venv from the lock files first if it is missing or stale.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-thorough monkey soak lint check bench bundle bundle-test clean help

help:
	@echo "make run          set up .venv if needed, launch the app"
	@echo "make test         set up .venv if needed, lint, type-check and run every test offscreen"
	@echo "make test-thorough  the property tests with thousands of random sequences (before a release)"
	@echo "make monkey       the GUI monkey with 40 seeds of 400 random actions each"
	@echo "make soak         a million steps in the core: speed at start and end, bytes per step"
	@echo "make lint         ruff, mypy (code and tests) and the import-layer contracts"
	@echo "make bench        performance benchmark (ratios against a baseline in the same run)"
	@echo "make bundle       build the PyInstaller bundle into dist/ and pack a .tar.gz"
	@echo "make bundle-test  smoke-test the built bundle offscreen"

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gui-trainer

lint: $(STAMP)
	$(BIN)/ruff check gui_trainer tests packaging benchmarks
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks packaging
	$(BIN)/lint-imports

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

test-thorough: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/core/test_properties.py \
		--hypothesis-profile=thorough --hypothesis-show-statistics

monkey: $(STAMP)
	MONKEY_SEEDS=$$(seq -s, 1 40) MONKEY_ACTIONS=400 QT_QPA_PLATFORM=offscreen \
		$(BIN)/python -m pytest -q tests/qt/test_monkey.py

soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run.py

bundle: $(STAMP)
	$(BIN)/python packaging/build_bundle.py

bundle-test: $(STAMP)
	test -x dist/gui-trainer/gui-trainer || $(MAKE) bundle
	$(BIN)/python packaging/smoke_bundle.py dist/gui-trainer/gui-trainer

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
