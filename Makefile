# orderdesk-mcp: `make run` serves MCP over streamable HTTP; `make test` is what CI runs.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run serve-stdio simulator test test-live lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/orderdesk-mcp serve --transport http --host $(HOST) --port $(PORT)

serve-stdio: $(STAMP)
	$(BIN)/orderdesk-mcp serve

simulator: $(STAMP)
	$(BIN)/orderdesk-mcp simulator --port 8765

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest --cov --cov-branch --cov-report=term --cov-fail-under=90

test: lint typecheck pytest

# The live cases against a real OrderDesk store (README, "Checking your store"); without
# ORDERDESK_TEST_ENABLED=true, ORDERDESK_TEST_STORE_ID and ORDERDESK_TEST_API_KEY it says so and exits 0.
test-live: $(STAMP)
	@$(BIN)/python -m tests.live

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov bench/results.json
