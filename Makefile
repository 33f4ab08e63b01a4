# Two commands matter: `make run` and `make test`. Both create the virtual
# environment from pyproject.toml first if it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test lint format clean-cache

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -m pip install --quiet ".[dev]" 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import tasks, prefect, pandas, matplotlib, sklearn, pytest"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m flows.vanishing_gradients $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-cache:
	rm -rf .prefect/results
