# Developer commands: `make run` starts the whole product, `make test` runs the test suite.
#
# Nothing needs configuring: without DATABASE_URL the app uses SQLite under $(VAR_DIR), without
# REDIS_URL Celery uses a broker on the filesystem. See README.md for every variable.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed-requirements
VAR_DIR := $(or $(DJANGO_VAR_DIR),var)
LOGINS_FILE := $(VAR_DIR)/demo-logins.txt
PYTEST_ARGS ?=

export PYTHONUNBUFFERED := 1

.PHONY: help install run test test-sqlite lint audit format bench loadtest messages

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than both requirement files once they are installed, so pip runs only after a change.
$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(STAMP)  ## create .venv (Python 3.11) and install requirements-dev.txt when they changed

messages: install  ## compile translations (locale/*/LC_MESSAGES/*.po), when there are any and gettext is installed
	@if compgen -G "locale/*/LC_MESSAGES/*.po" >/dev/null; then \
	  if command -v msgfmt >/dev/null; then $(MANAGE) compilemessages --ignore '$(VENV)' -v 0; \
	  else echo "gettext (msgfmt) is not installed: translations are not compiled"; fi; \
	fi

run: install messages  ## migrate, load the demo into an empty database, start web + worker + beat (Ctrl-C stops)
	$(MANAGE) migrate --noinput -v 0
	@has_contract=$$($(MANAGE) shell -v 0 -c "from organisations.models import Contract; print(Contract.objects.exists())" | tail -n 1); \
	if [ "$$has_contract" = "False" ]; then \
	  echo "Empty database: loading the demo programme (logins are saved in $(LOGINS_FILE))"; \
	  mkdir -p "$(VAR_DIR)"; \
	  DJANGO_LOG_LEVEL="$${DJANGO_LOG_LEVEL:-WARNING}" $(MANAGE) load_demo | tee "$(LOGINS_FILE)"; \
	fi
	@echo
	@echo "  Open http://127.0.0.1:8000/ (Ctrl-C stops web, worker and beat)"
	@if [ -f "$(LOGINS_FILE)" ]; then echo "  Demo logins: $(LOGINS_FILE) (printed by load_demo when it loaded the demo)"; \
	 else echo "  Demo logins: printed by 'manage.py load_demo' when it loaded this database"; fi
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile.dev --env /dev/null

test: install messages  ## the full test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	$(BIN)/pytest $(PYTEST_ARGS)

test-sqlite: install messages  ## the test suite on the embedded default: SQLite and the filesystem broker
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest $(PYTEST_ARGS)

lint: install  ## ruff (lint + format check), missing migrations, mypy, bandit, pip-audit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/mypy .
	$(BIN)/bandit -c pyproject.toml -r . -q
	@$(MAKE) --no-print-directory audit

# pip-audit fails on any known vulnerability. A package the advisory service cannot be asked about (this
# network reaches PyPI's package pages but not its per-version vulnerability data) is reported loudly as
# NOT AUDITED; PIP_AUDIT_STRICT=1 (set it where the service is reachable) turns that into a failure too.
# SKIP_PIP_AUDIT=1 skips the audit, saying so.
audit: install  ## pip-audit: requirements.txt and requirements-dev.txt against PyPI's vulnerability data
	@if [ "$${SKIP_PIP_AUDIT:-0}" = "1" ]; then \
	  echo "WARNING: pip-audit SKIPPED (SKIP_PIP_AUDIT=1): the dependencies were NOT checked for known vulnerabilities" >&2; \
	else \
	  report="$$(mktemp)"; rc=0; \
	  $(BIN)/pip-audit --progress-spinner off -r requirements.txt -r requirements-dev.txt >"$$report" 2>&1 || rc=$$?; \
	  cat "$$report"; \
	  skipped=$$(grep -c "could not be audited" "$$report" || true); rm -f "$$report"; \
	  if [ "$$rc" -ne 0 ]; then echo "pip-audit FAILED (exit $$rc): see above" >&2; exit "$$rc"; fi; \
	  if [ "$$skipped" -gt 0 ]; then \
	    echo "WARNING: pip-audit could NOT AUDIT $$skipped dependencies: the advisory service did not answer for them" >&2; \
	    if [ "$${PIP_AUDIT_STRICT:-0}" = "1" ]; then echo "PIP_AUDIT_STRICT=1: failing" >&2; exit 1; fi; \
	  fi; \
	fi

format: install  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install  ## run the benchmarks (bench/run.py)
	@if [ -f bench/run.py ]; then $(BIN)/python bench/run.py; else echo "bench/run.py does not exist yet: nothing to run"; fi

loadtest: install  ## 50 consultants on the grid for 60 s: gunicorn + PostgreSQL (BENCH_DATABASE_URL), locust on 127.0.0.1
	$(BIN)/python bench/loadtest.py
