# Latchkey: `make run` brings the suite up, `make test` runs the tests (see README.md).
# Only standard make and a POSIX shell: a fresh machine needs Python >= 3.11 and nothing else.

# The first Python >= 3.11 on PATH (pyenv shims for missing versions fail the check and are skipped).
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt when the pins change; otherwise a repeat `make install` does nothing.
STAMP := $(VENV)/.installed

.PHONY: install run cli test test-slow lint bench clean

install: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "latchkey: Python 3.11 or newer is required (none found on PATH)" >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "latchkey: $(PYTHON) -m venv failed; on Debian/Ubuntu install the python3-venv package" >&2; exit 1; }

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# Embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set; Ctrl-C stops everything.
run: install
	$(BIN)/python -m shared.devrun

# The `latchkey` command against a running `make run`, with the environment it wrote:
#   make cli ARGS="keys list --json"
DEVDATA := $(or $(LATCHKEY_DEVDATA),.devdata)
cli: install
	@test -f "$(DEVDATA)/env" || { echo "latchkey: $(DEVDATA)/env is missing; start \`make run\` first (in another terminal)" >&2; exit 1; }
	@. "$(abspath $(DEVDATA))/env" && $(BIN)/latchkey $(ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The tests `make test` leaves out (pytest -m slow): over 30 s, may download from PyPI.
test-slow: install
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# ruff (pyflakes, pycodestyle, isort, pyupgrade, bugbear) and mypy --strict, both at zero findings.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .devdata .pytest_cache
