# rotation-bot: `make run` and `make test` each set up .venv from pyproject.toml first.
# make test = ruff, mypy strict, import-linter (the floors in pyproject.toml), pytest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config.toml

.PHONY: run test lint typecheck layers pytest bench soak setup clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing rotation-bot and its dependencies into $(VENV) (log: $(VENV)/install.log)…"
	@$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]' > $(VENV)/install.log 2>&1 \
		|| { tail -n 30 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/rotation-bot --config $(CONFIG) run

lint: $(STAMP)
	$(BIN)/ruff check bot rules tests benchmarks soak
	$(BIN)/ruff format --check bot rules tests benchmarks soak

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck layers pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The real bot under a seeded random mix of faults over simulated trading days (README: "How we test
# reliability"). SOAK_SEED=N replays a run; SOAK_DAYS=N (default 60) sets its length.
soak: $(STAMP)
	$(BIN)/python -m soak

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
