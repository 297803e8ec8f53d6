# Latchkey: `make run` brings the suite up, `make test` runs the tests (see README.md).
# Only standard make and a POSIX shell: a fresh machine needs Python >= 3.11 and nothing else.

# The first Python >= 3.11 on PATH (pyenv shims for missing versions fail the check and are skipped).
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# The pins are in three tiers (requirements/*.lock, each including the one before): `make run`
# installs only the runtime and the embedded servers (run.lock), `make install` / `make test`
# everything (dev.lock). Each stamp is rebuilt when its pins change; otherwise nothing is done.
RUN_PINS := pyproject.toml requirements/runtime.lock requirements/run.lock
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed

.PHONY: install run cli test test-slow test-scale lint bench clean

install: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "latchkey: Python 3.11 or newer is required (none found on PATH)" >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "latchkey: $(PYTHON) -m venv failed; on Debian/Ubuntu install the python3-venv package" >&2; exit 1; }

$(RUN_STAMP): $(BIN)/python $(RUN_PINS)
	$(PIP) -r requirements/run.lock
	$(PIP) --no-deps -e .
	@touch $@

$(STAMP): $(BIN)/python $(RUN_PINS) requirements/dev.lock
	$(PIP) -r requirements/dev.lock
	$(PIP) --no-deps -e .
	@touch $(RUN_STAMP) $@

# Embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set; Ctrl-C stops everything.
run: $(RUN_STAMP)
	$(BIN)/python -m shared.devrun

# The `latchkey` command against a running `make run`, with the environment it wrote:
#   make cli ARGS="keys list --json"
DEVDATA := $(or $(LATCHKEY_DEVDATA),.devdata)
cli:
	@$(MAKE) --no-print-directory -s $(RUN_STAMP) 1>&2  # installing says nothing on stdout: --json stays pure
	@test -f "$(DEVDATA)/env" || { echo "latchkey: $(DEVDATA)/env is missing; start \`make run\` first (in another terminal)" >&2; exit 1; }
	@. "$(abspath $(DEVDATA))/env" && $(BIN)/latchkey $(ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The tests `make test` leaves out (pytest -m slow): over 30 s each, real pip installs into fresh
# venvs (the runtime lock alone, as the image installs it; the bearer verifier alone).
test-slow: install
	$(BIN)/python -m pytest -m slow --timeout=1800 $(PYTEST_ARGS)

# The replicated topology through faults (pytest -m scale, tests/scale): nginx from Debian's
# package, 2 authorize, 3 token and 2 resource replicas, a private PostgreSQL and a private Redis
# primary + replica + 3 sentinels on spare loopback ports; prints `codes redeemed twice: N` per fault.
test-scale: install
	$(BIN)/python -m pytest -m scale -s --timeout=1200 $(PYTEST_ARGS) tests/scale

# ruff (pyflakes, pycodestyle, isort, pyupgrade, bugbear) and mypy --strict, both at zero findings.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .devdata .pytest_cache
