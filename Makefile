# Two commands matter: `make run` and `make test`. Both create the virtual
# environment from pyproject.toml first if it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

# The project is an application, not a package: install what pyproject.toml
# lists (runtime and dev), never the project itself.
define LIST_DEPENDENCIES
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["dev"]))
endef
export LIST_DEPENDENCIES

.PHONY: run test bench lint format clean-cache

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "$$LIST_DEPENDENCIES" > $(VENV)/requirements.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements.txt 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import tasks, prefect, pandas, matplotlib, sklearn, pytest"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m flows.vanishing_gradients $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_training

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-cache:
	rm -rf .prefect/results
