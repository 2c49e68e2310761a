# Deskboard. `make demo` and `make test` set themselves up from the lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-postgresql lint format bench lock clean browser screenshots

setup: $(STAMP) browser

# The browser tests (tests/browser.py) drive Debian's chromium through Playwright from the
# lock; nothing downloads a browser. Installed here when missing (as root, or with sudo);
# where it cannot be, those tests skip with a message saying so.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=none; fi; \
		if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
			$$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
			{ $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; } || \
			echo "note: could not install chromium; the browser tests will skip"; \
		else echo "note: chromium is not installed and cannot be here; the browser tests will skip"; fi; \
	}

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(BIN)/deskboard demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The suite on SQLite, then again on PostgreSQL (tests/databases.py) when one answers at
# DESKBOARD_TEST_POSTGRES_URL (default 127.0.0.1:5432); otherwise that run is skipped with a
# message saying how to enable it. Any pytest failure, or exit 5 (no tests ran), fails.
test: lint
	$(BIN)/pytest -q
	@if $(BIN)/python -m tests.databases available; then \
		echo "== the same tests on PostgreSQL =="; \
		DESKBOARD_TEST_DATABASE=postgresql $(BIN)/pytest -q; \
	else \
		echo "== NOT RUN: the tests on PostgreSQL (see the message above) =="; \
	fi

# Only the PostgreSQL run; fails when PostgreSQL is not reachable.
test-postgresql: setup
	DESKBOARD_TEST_DATABASE=postgresql $(BIN)/pytest -q

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python -m bench

# Re-pin every dependency (needs network to PyPI); commit requirements.lock afterwards.
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -q -o requirements.lock

clean:
	rm -rf $(VENV) demo.db .pytest_cache .ruff_cache

# The README's screenshots (docs/images): the contest modal and the App Home's admin tab,
# Deskboard's own Block Kit drawn as HTML and photographed by Debian's chromium.
screenshots: setup
	$(BIN)/python -m tools.screenshots docs/images
