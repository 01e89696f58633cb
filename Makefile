# The two commands of the README: `make demo` and `make test`.
# Each installs what is missing: OS packages (as root, via apt) and the .venv.

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint format os-deps venv clean

demo: os-deps venv
	$(BIN)/signalcheck gameday --profile full

test: os-deps venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

os-deps:
	@bash scripts/install-os-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

clean:
	-$(BIN)/signalcheck down
	rm -rf $(VENV) .signalcheck runs .pytest_cache .ruff_cache .mypy_cache
