# Build / run / test tooling.
#
#   make run     venv + translations + migrate + seed, then serve on
#                http://127.0.0.1:8080 with a Celery worker alongside
#   make test    tests on SQLite, then on a throwaway PostgreSQL 15
#
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# The steps of `run` must happen in order (seed needs migrate), even under -j.
.NOTPARALLEL:

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLASK  := $(BIN)/flask --app app
PYTEST := $(BIN)/python -m pytest -q

HOST := 127.0.0.1
PORT := 8080

.PHONY: help venv translations messages migrate seed run test test-sqlite test-postgres browser-deps assets pdf-deps redis-deps bench-billing bench-receipts bench

help:
	@echo "targets: venv translations messages migrate seed run test test-sqlite test-postgres"

# --- virtualenv ---------------------------------------------------------------

venv: $(STAMP)

# Create the venv if missing. Debian's python3 lacks ensurepip unless
# python3-venv is installed: as root, install it and try again.
$(BIN)/pip:
	@[[ -n "$(PYTHON)" ]] || { echo "error: no python3.11 or python3 on PATH" >&2; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON)"
	@if ! $(PYTHON) -m venv $(VENV); then \
	    if [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then \
	        echo "==> '$(PYTHON) -m venv' failed: installing python3-venv"; \
	        rm -rf $(VENV); \
	        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv; \
	        $(PYTHON) -m venv $(VENV); \
	    else \
	        echo "error: '$(PYTHON) -m venv' failed; install the venv module (Debian: python3-venv)" >&2; \
	        exit 1; \
	    fi; \
	fi

# (Re)install the requirements only when requirements.txt is newer than the stamp.
$(STAMP): requirements.txt | $(BIN)/pip
	@echo "==> installing requirements into $(VENV)"
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	@touch $@

# --- app steps ----------------------------------------------------------------

translations: venv
	@shopt -s nullglob; \
	catalogs=(translations/*/LC_MESSAGES/messages.po); \
	if (( $${#catalogs[@]} )); then \
	    echo "==> compiling translations"; \
	    $(BIN)/pybabel compile -f -d translations; \
	else \
	    echo "==> no translations/*/LC_MESSAGES/messages.po: nothing to compile"; \
	fi

# Re-extract the app's and FAB's strings and merge them into every catalogue (then translate new ones).
messages: venv
	$(BIN)/python translations/extract.py translations/messages.pot
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

migrate: venv
	$(FLASK) db upgrade

seed: venv
	$(FLASK) seed apply seeds/platform seeds/services seeds/tenants seeds/demo

# Serve in the foreground; a Celery worker runs in the background for exactly
# as long as the server does (the trap stops it however the server exits).
run: venv translations assets pdf-deps migrate seed
	@$(FLASK) demo-logins
	@echo "==> serving on http://$(HOST):$(PORT) (Ctrl-C to stop)"
	@$(BIN)/celery -A app.celery_worker worker --beat --schedule instance/celerybeat-schedule --loglevel=info --pool=solo & \
	worker=$$!; \
	trap 'kill $$worker 2>/dev/null || true; wait $$worker 2>/dev/null || true' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# --- tests --------------------------------------------------------------------

# Debian's chromium and a Thai font for the browser tests (never a browser downloaded by a test tool).
# Front-end libraries from npm (Leaflet for the map picker), served by the app; pinned in package-lock.json.
assets: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	    if [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then \
	        echo "==> installing Debian's npm"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
	    else \
	        echo "==> npm is missing and you are not root: the map picker is left out (location boxes still work)"; \
	        exit 0; \
	    fi; \
	fi; \
	npm ci --omit=dev --no-audit --no-fund --loglevel=error

# WeasyPrint draws certificates with Debian's pango and a Thai font.
# grep without -q reads all of ldconfig's output (-q closes the pipe early: SIGPIPE under pipefail).
pdf-deps:
	@if ! ldconfig -p 2>/dev/null | grep libpangoft2-1.0 >/dev/null || [[ -z "$$(fc-list :lang=th 2>/dev/null)" ]]; then \
	    if [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then \
	        echo "==> installing Debian's pango and Thai fonts for PDF certificates"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-thai-tlwg; \
	    else \
	        echo "==> pango or a Thai font is missing and you are not root: PDF certificates will fail"; \
	    fi; \
	fi

browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || [[ -z "$$(fc-list :lang=th 2>/dev/null)" ]]; then \
	    if [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then \
	        echo "==> installing Debian's chromium and Thai fonts for the browser tests"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg; \
	    else \
	        echo "==> chromium or a Thai font is missing and you are not root: browser tests will be skipped"; \
	    fi; \
	fi

# redis-server for tests/test_production.py (gunicorn, a Celery worker and beat on Redis, really started).
redis-deps:
	@if ! command -v redis-server >/dev/null 2>&1; then \
	    if [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then \
	        echo "==> installing Debian's redis-server for the production-processes test"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
	    else \
	        echo "==> redis-server is missing and you are not root: the production-processes test will be skipped"; \
	    fi; \
	fi

# Both suites always run; fail if either failed.
test: venv translations assets pdf-deps browser-deps redis-deps
	@rc=0; \
	$(MAKE) --no-print-directory test-sqlite || rc=1; \
	$(MAKE) --no-print-directory test-postgres || rc=1; \
	exit $$rc

test-sqlite: venv translations
	@echo "==> tests on SQLite"
	env -u DATABASE_URL $(PYTEST)

test-postgres: venv translations
	@echo "==> tests on PostgreSQL"
	bash tests/with_postgres.sh $(PYTEST)

# Billing-run benchmark on a throwaway PostgreSQL: N accounts (default 1,000,000), one period billed twice.
#   make bench-billing BENCH_ARGS="--accounts 200000"
BENCH_ARGS ?=
bench-billing: venv
	@echo "==> billing-run benchmark on PostgreSQL"
	bash tests/with_postgres.sh $(BIN)/python tests/benchmarks/bench_billing.py $(BENCH_ARGS)

# Counter-payment benchmark on a throwaway PostgreSQL: 8 cashiers paying at once, one in ten rolled back;
# receipts per second, gaps and duplicates in the receipt book (must be 0 and 0).
#   make bench-receipts BENCH_ARGS="--accounts 20000 --payments 3000 --clients 8"
bench-receipts: venv
	@echo "==> counter-payment benchmark on PostgreSQL"
	bash tests/with_postgres.sh $(BIN)/python tests/benchmarks/bench_receipts.py $(BENCH_ARGS)

# National-scale benchmark (#10) on a throwaway PostgreSQL: 7,850 organisations, 10 million requests (Zipf-like
# sizes), gunicorn measured with wrk against stock FAB and plain Flask+SQLAlchemy; prints a table of figures with
# each target and PASS/FAIL. Needs wrk (installed here with apt-get when root) and several GB of disk at full scale.
#   make bench BENCH_ARGS="--tenants 200 --requests 200000"      (a quick run; flags: top of bench_scale.py)
bench: venv
	@command -v wrk >/dev/null || { [[ $$(id -u) -eq 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } \
	    || { echo "error: wrk is needed (Debian: apt-get install wrk)" >&2; exit 1; }
	@echo "==> national-scale benchmark on PostgreSQL"
	bash tests/with_postgres.sh $(BIN)/python tests/benchmarks/bench_scale.py $(BENCH_ARGS)
