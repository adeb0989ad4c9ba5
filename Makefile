# rotation-bot: `make run` and `make test` each set up .venv from requirements.lock first: the exact version of every
# package, with its hashes, installed by uv (itself pinned with its hash in tools.lock). pyproject.toml keeps the
# ranges a user's `pip install .` resolves within.
# make test = ruff, mypy strict, import-linter (the floors in pyproject.toml), pytest.
# make lock refreshes requirements.lock to the newest versions the ranges allow; make test-latest runs the suite
# on those newest versions in .venv-latest without touching the lock (drift found on purpose).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
CONFIG ?= config.toml
UV_VERSION := 0.13.8
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
LATEST := .venv-latest
# The build backend's own requirements, read from pyproject.toml so they are written once.
BUILD_REQUIRES = $(PYTHON) -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')"

.PHONY: run test test-latest lint typecheck layers pytest bench soak setup lock clean

$(UV): tools.lock
	@rm -rf $(TOOLS) && $(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/python -m pip install --disable-pip-version-check -q --require-hashes --no-deps -r tools.lock \
		> $(TOOLS)/install.log 2>&1 || { tail -n 30 $(TOOLS)/install.log; exit 1; }
	@touch $(UV)

# sync removes what the lock does not name, so no package of an older lock lingers; `pip check` then fails if
# pyproject.toml asks for a package the lock lacks (run `make lock`). Bytecode is compiled at install, as pip does:
# where PYTHONDONTWRITEBYTECODE is set, an uncompiled pandas takes 3 s to import in every process instead of 0.4.
$(STAMP): pyproject.toml $(LOCK) $(UV)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the locked versions of $(LOCK) into $(VENV) (log: $(VENV)/install.log)…"
	@{ $(UV) pip sync --python $(BIN)/python --require-hashes --strict --compile-bytecode $(LOCK) \
		&& $(UV) pip install --python $(BIN)/python --no-deps --no-build-isolation -e . \
		&& $(UV) pip check --python $(BIN)/python; } > $(VENV)/install.log 2>&1 \
		|| { tail -n 30 $(VENV)/install.log; echo "(if pyproject.toml changed: make lock)"; exit 1; }
	@touch $(STAMP)

setup: $(STAMP)
	@echo "rotation-bot is $(BIN)/rotation-bot: '. $(BIN)/activate' puts it on PATH in this shell (README)."

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

# Resolves for every platform and Python the project allows (uv's universal resolution), with hashes; the build
# backend is locked too, since the editable install builds without isolation. tools.lock pins uv itself.
lock: $(UV)
	$(BUILD_REQUIRES) | $(UV) pip compile pyproject.toml - --extra dev --universal --python-version 3.11 \
		--generate-hashes --upgrade --quiet --custom-compile-command "make lock" -o $(LOCK)
	echo "uv==$(UV_VERSION)" | $(UV) pip compile - --universal --python-version 3.11 --generate-hashes --quiet \
		--custom-compile-command "make lock" -o tools.lock

# The suite against the newest versions pyproject.toml's ranges allow, in a venv of its own (not part of make test).
test-latest: $(UV)
	@rm -rf $(LATEST) && $(PYTHON) -m venv $(LATEST)
	@echo "Installing the newest versions the ranges allow into $(LATEST) (log: $(LATEST)/install.log)…"
	@$(UV) pip install --python $(LATEST)/bin/python --upgrade --compile-bytecode -e '.[dev]' > $(LATEST)/install.log 2>&1 \
		|| { tail -n 30 $(LATEST)/install.log; exit 1; }
	@grep -oE '^[A-Za-z0-9._-]+==[^ ;]+' $(LOCK) | tr 'A-Z_' 'a-z-' | sort > $(LATEST)/locked.txt
	@echo "Installed here, not as in $(LOCK):"; $(UV) pip freeze -q --python $(LATEST)/bin/python --exclude-editable \
		| grep -vE '^(pip|setuptools|wheel)==' | tr 'A-Z_' 'a-z-' \
		| sort | comm -13 $(LATEST)/locked.txt - | sed 's/^/  /'
	@touch $(LATEST)/.installed
	$(MAKE) --no-print-directory lint typecheck layers pytest VENV=$(LATEST)

clean:
	rm -rf $(VENV) $(LATEST) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache
