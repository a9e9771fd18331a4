# orderdesk-mcp: `make run` serves MCP over streamable HTTP; `make test` is what CI runs.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Two install stamps: `make run` needs the runtime dependencies only; `make test` adds the test
# tools. Installing the test set marks the runtime set done too, so `make run` after `make test`
# reinstalls nothing (pip never removes or downgrades what is there).
RUN_STAMP  = $(VENV)/.installed-run
TEST_STAMP = $(VENV)/.installed-test
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run serve-stdio simulator test test-live lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP) $(RUN_STAMP)

install: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(BIN)/orderdesk-mcp serve --transport http --host $(HOST) --port $(PORT)

serve-stdio: $(RUN_STAMP)
	$(BIN)/orderdesk-mcp serve

simulator: $(RUN_STAMP)
	$(BIN)/orderdesk-mcp simulator --port 8765

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

pytest: $(TEST_STAMP)
	$(BIN)/pytest --cov --cov-branch --cov-report=term --cov-fail-under=90

test: lint typecheck pytest

# The live cases against a real OrderDesk store (README, "Checking your store"); without
# ORDERDESK_TEST_ENABLED=true, ORDERDESK_TEST_STORE_ID and ORDERDESK_TEST_API_KEY it says so and exits 0.
test-live: $(TEST_STAMP)
	@$(BIN)/python -m tests.live

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov bench/results.json
