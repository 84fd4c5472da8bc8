# The two commands of livermet: `make run` and `make test`. Both set up everything first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast setup lint typecheck unit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "Installing livermet and its dependencies into $(VENV) (a few minutes the first time)..."
	$(BIN)/pip install --progress-bar on --upgrade pip
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Main job: the embedded registry with the seed case (and a synthetic demo cohort, flagged as
## such), the seed case's assessment as printable reports and a cohort plot in out/, then the
## web application on http://localhost:8000/ (Ctrl-C stops it).
REGISTRY ?= out/registry.sqlite
DEMO_PASSWORD ?= livermet-demo
run: setup
	mkdir -p out
	@test -f $(REGISTRY) || LIVERMET_PASSWORD=$(DEMO_PASSWORD) $(BIN)/livermet registry init \
		--db $(REGISTRY) --site demo --site-name "Demo hospital" \
		--seed examples/seed-case.yaml --synthetic 300
	$(BIN)/livermet assess examples/seed-case.yaml --format html --output out/seed-assessment.html
	$(BIN)/livermet assess examples/seed-case.yaml --format md --output out/seed-assessment.md
	$(BIN)/livermet assess examples/seed-case.yaml --format text
	LIVERMET_PASSWORD=$(DEMO_PASSWORD) $(BIN)/livermet cohort km --db $(REGISTRY) --user admin \
		--synthetic --by approach --levels open,laparoscopic -o out/km-by-approach.png
	@echo ""
	@echo "Reports and plots: out/   Registry: $(REGISTRY)"
	@echo "Web application: http://localhost:8000/  (Ctrl-C stops it)"
	@echo "Sign in as user 'admin' with password '$(DEMO_PASSWORD)'"
	@echo ""
	@$(BIN)/livermet serve --db $(REGISTRY) \
		--sign-in-hint "user 'admin', password '$(DEMO_PASSWORD)'"

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy src/livermet tests

unit: setup
	$(BIN)/pytest

## Every check the project lives by: lint, types, tests.
test: lint typecheck unit

## The quick loop while working: every test but the browser, PostgreSQL and slow ones
## (markers set in tests/conftest.py); `make test` still runs them all.
test-fast: setup
	$(BIN)/pytest -m "not browser and not postgres and not slow"

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
