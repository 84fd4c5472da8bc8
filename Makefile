# The two commands of livermet: `make run` and `make test`. Both set up everything first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint typecheck unit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Main job: assess the seed case and write the reports to out/.
run: setup
	mkdir -p out
	$(BIN)/livermet assess examples/seed-case.yaml --format html --output out/seed-assessment.html
	$(BIN)/livermet assess examples/seed-case.yaml --format md --output out/seed-assessment.md
	$(BIN)/livermet assess examples/seed-case.yaml --format text
	@echo "Printable report: out/seed-assessment.html"

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy src/livermet

unit: setup
	$(BIN)/pytest

## Every check the project lives by: lint, types, tests.
test: lint typecheck unit

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
