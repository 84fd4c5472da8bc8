# The two commands of livermet: `make run` and `make test`. Both set up everything first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast setup lint typecheck unit clean vantage6-test flower-env

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
	$(BIN)/ruff check src tests benchmarks federated
	$(BIN)/ruff format --check src tests benchmarks federated

typecheck: setup
	$(BIN)/mypy src/livermet tests

## The Flower adapter (livermet.federated.flower) in its own environment, .venv-flower:
## Flower pins FastAPI, Starlette, Typer, uvicorn, rich and packaging tightly, so it stays out of
## .venv (`pip install 'livermet[federated]'`); pandas 2, as the core requires.
## tests/federated/test_flower.py starts a SuperLink and three SuperNodes with it.
FLOWER_VENV  := .venv-flower
FLOWER_STAMP := $(FLOWER_VENV)/.installed
$(FLOWER_STAMP): pyproject.toml
	rm -rf $(FLOWER_VENV)
	$(PYTHON) -m venv $(FLOWER_VENV)
	$(FLOWER_VENV)/bin/pip install --progress-bar off -e '.[federated]'
	touch $(FLOWER_STAMP)

flower-env: $(FLOWER_STAMP)

unit: setup flower-env
	$(BIN)/pytest

## Every check the project lives by: lint, types, tests.
test: lint typecheck unit

## The quick loop while working: every test but the browser, PostgreSQL and slow ones
## (markers set in tests/conftest.py), on every core, keeping the compiled (and pytest's
## assertion-rewritten) bytecode between runs even where PYTHONDONTWRITEBYTECODE is set;
## `make test` still runs them all.
test-fast: setup
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto -m "not browser and not postgres and not slow"

## The vantage6 algorithm (federated/vantage6) on vantage6's own mock network, in its own
## environment: vantage6's algorithm tools pin SQLAlchemy 1.4, the registry needs 2, so
## livermet goes in without its dependencies (as in the algorithm's Docker image). `.ci/run`
## runs it before `make test`.
V6_VENV  := .venv-vantage6
V6_STAMP := $(V6_VENV)/.installed
$(V6_STAMP): federated/vantage6/pyproject.toml pyproject.toml
	rm -rf $(V6_VENV)
	$(PYTHON) -m venv $(V6_VENV)
	$(V6_VENV)/bin/pip install --progress-bar off -e 'federated/vantage6[test]'
	$(V6_VENV)/bin/pip install --progress-bar off --no-deps -e .
	touch $(V6_STAMP)

vantage6-test: $(V6_STAMP)
	cd federated/vantage6 && ../../$(V6_VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) $(V6_VENV) $(FLOWER_VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
