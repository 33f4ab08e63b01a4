# Two commands matter: `make run` and `make test`. Both create the virtual
# environment from pyproject.toml first if it is missing or out of date.
# `make server`, `make deploy`, `make worker` and `make trigger` run the
# deployments of prefect.yaml on a local Prefect server (README: "Scheduled
# runs and the UI").

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

# Where the Prefect server listens, and the API that deploy and worker talk to.
HOST ?= 127.0.0.1
PORT ?= 4200
API_URL ?= http://$(HOST):$(PORT)/api
POOL := vanishing-gradients
# Prefect commands run from this folder, so they read [tool.prefect] in
# pyproject.toml (analytics off); DO_NOT_TRACK also keeps the clients quiet.
PREFECT := DO_NOT_TRACK=1 $(BIN)/prefect

# The project is an application, not a package: install what pyproject.toml
# lists (runtime and dev), never the project itself.
define LIST_DEPENDENCIES
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["dev"]))
endef
export LIST_DEPENDENCIES

.PHONY: run test bench lint format clean-cache server deploy worker trigger

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "$$LIST_DEPENDENCIES" > $(VENV)/requirements.txt
	$(BIN)/python -m pip install --quiet -r $(VENV)/requirements.txt 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import tasks, prefect, pandas, matplotlib, sklearn, pytest, playwright"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m flows.vanishing_gradients $(ARGS)

# The browser test (tests/e2e) drives Debian's Chromium: installed when missing
# and make runs as root, otherwise named; the rest of the suite runs either way.
test: $(STAMP)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null \
		&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "Chromium is missing; the browser test will fail: sudo apt-get install chromium"
	$(BIN)/python -m pytest $(ARGS)

# The port goes in through the settings, not --port: the UI asks the API at the
# URL the settings give, which --port does not change. --no-prompt: no offer to
# edit the Prefect profile, so `make run` keeps its temporary server.
server: $(STAMP)
	PREFECT_SERVER_API_HOST=$(HOST) PREFECT_SERVER_API_PORT=$(PORT) \
		$(PREFECT) --no-prompt server start

# PWD is the folder the deployments' pull step records (see prefect.yaml).
deploy: $(STAMP)
	PREFECT_API_URL=$(API_URL) $(PREFECT) work-pool inspect $(POOL) >/dev/null 2>&1 \
		|| PREFECT_API_URL=$(API_URL) $(PREFECT) work-pool create $(POOL) --type process
	PWD=$(CURDIR) PREFECT_API_URL=$(API_URL) $(PREFECT) --no-prompt deploy --all

worker: $(STAMP)
	PREFECT_API_URL=$(API_URL) $(PREFECT) worker start --pool $(POOL)

# A flow run of a deployment now, instead of at its schedule, for the worker.
DEPLOYMENT ?= smoke
trigger: $(STAMP)
	PREFECT_API_URL=$(API_URL) $(PREFECT) deployment run 'vanishing-gradients/$(DEPLOYMENT)'

# Only the figures: the training tasks' progress lines would bury them.
bench: $(STAMP)
	PREFECT_LOGGING_LEVEL=WARNING $(BIN)/python -m benchmarks.bench_training

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-cache:
	rm -rf .prefect/results
