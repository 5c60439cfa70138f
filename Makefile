# Bookstore API — the two commands are `make run` and `make test`.
#
#   make run       create .venv, install, migrate, seed, serve on http://127.0.0.1:5000
#   make test      the whole pytest suite (SQLite; MariaDB when TEST_DATABASE_URL is set)
#   make lint      ruff, import contracts (import-linter), ESLint on the pages and the Postman scripts
#   make postman   the Postman collection run by newman against a throwaway server
#   make clean     caches; `make distclean` also removes .venv, node_modules and the dev database
#
# Only python3 is needed on the machine (and Node.js/npm for `make postman`).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
FLASK  := $(BIN)/flask --app run
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=

# Stamp files: pip runs again only when a requirements file changed.
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP     := $(VENV)/.dev-installed
NEWMAN        := node_modules/.bin/newman

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install install-dev run migrate seed test lint format postman postman-build clean distclean

help:
	@echo "make run        install, migrate, seed and serve on http://$(HOST):$(PORT)"
	@echo "make test       run the test suite (TEST_DATABASE_URL=mysql://... for MariaDB)"
	@echo "make lint       ruff, import contracts, ESLint (pages and Postman scripts)"
	@echo "make postman    run the Postman collection with newman against a fresh server"
	@echo "make clean      remove caches (distclean: also .venv, node_modules, instance/bookstore.db)"
	@echo "make bench-*    benchmarks on MariaDB: bench-catalogue, bench-orders (with wrk), bench-reports, bench-related; on SQLite: bench-sqlite (bench/README.md)"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	 { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version 2>&1)); set PYTHON=python3.X"; exit 1; }
	$(PYTHON) -m venv $(VENV) || \
	 { rm -rf $(VENV); echo "python3 -m venv failed: on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

$(NEWMAN): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

migrate: $(RUNTIME_STAMP)
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed

# The threaded development server; production is `gunicorn -c gunicorn.conf.py -w 4 --threads 2 -b 0.0.0.0:8000 run:app`
# (docs/operations.md): gunicorn.conf.py holds the request limits and the worker that answers gunicorn's own refusals as problem+json.
run: seed
	@echo "Serving on http://$(HOST):$(PORT)  (docs: http://$(HOST):$(PORT)/docs, Ctrl-C stops)"
	$(FLASK) run --host $(HOST) --port $(PORT) --with-threads --no-reload

# pytest exits 5 when it collected no test (e.g. a -k that matches nothing): say so, do not fail.
test: $(DEV_STAMP)
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
	   echo "test database: $$(sed -E 's#//([^:@/]*):[^@]*@#//\1:***@#' <<<"$$TEST_DATABASE_URL")"; \
	 else echo "test database: SQLite in memory (set TEST_DATABASE_URL for MariaDB/MySQL)"; fi
	@rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	 if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit 5)"; rc=0; fi; exit $$rc

# Python (ruff, and the import contracts of .importlinter), the pages' JavaScript and the Postman
# collection's scripts (ESLint, from package-lock.json).
lint: $(DEV_STAMP) $(NEWMAN)
	@rc=0; $(BIN)/ruff check . || rc=1; $(BIN)/ruff format --check . || rc=1; \
	 $(BIN)/lint-imports --no-cache || rc=1; \
	 node_modules/.bin/eslint app/web/static/js eslint.config.js postman/lint_scripts.mjs || rc=1; \
	 node postman/lint_scripts.mjs || rc=1; exit $$rc

postman-build: $(RUNTIME_STAMP)
	$(PY) postman/build_collection.py

postman: $(RUNTIME_STAMP) $(NEWMAN)
	scripts/postman.sh

clean:
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .ruff_cache .hypothesis test-artifacts

distclean: clean
	rm -rf $(VENV) node_modules instance/bookstore.db instance/bookstore.db-wal instance/bookstore.db-shm

# --- Benchmarks (bench/README.md has the results; not part of `make test`) -----------------------

# Catalogue benchmark (issue 3): MariaDB at 127.0.0.1:3306 (BENCH_MYSQL to change) and wrk (apt-get install -y wrk).
# Loads 10k/100k/1M generated books into bookstore_bench_10k/_100k/_1m when missing, serves the app and a raw
# PyMySQL ceiling with gunicorn, and writes the table into bench/README.md. About 20 minutes with the 1M load;
# BENCH_ARGS="--sizes 10000 --reps 1 --duration 2" for a quick look.
.PHONY: bench-catalogue
BENCH_ARGS ?=
bench-catalogue: $(RUNTIME_STAMP)
	@command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk"; exit 1; }
	$(PY) bench/run_catalogue.py --write-readme $(BENCH_ARGS)

# bench-orders: order placement (POST /orders) on MariaDB, the app under gunicorn and under Granian
# and the HTTP floor (bench/floor_app.py), each beside the same raw PyMySQL ceiling run, with an
# oversell audit after every cell and a naive read-then-write negative control.
# Needs MariaDB on 127.0.0.1:3306 (root, MYSQL_PWD for a password) and wrk (installed with
# apt-get when missing). Creates, migrates and drops the database bookstore_bench_orders; about
# 6 minutes on an idle machine, more when it waits for other load and reruns disturbed cells.
# Prints the table and writes it into the "Orders" section of bench/README.md.
#   make bench-orders BENCH_ORDERS_ARGS="--duration 5 --clients 8"   (see --help)
BENCH_ORDERS_ARGS ?=

.PHONY: bench-orders
bench-orders: $(DEV_STAMP)
	$(PY) bench/bench_orders.py $(BENCH_ORDERS_ARGS)

# bench-reports: the admin reports over 200k orders (~1M order lines) on MariaDB at 127.0.0.1:3306
# (BENCH_MYSQL to change): drops and builds bookstore_bench_reports (about 3 minutes), times each report
# as JSON and PNG (median of 5) and writes the table into the "Reports" section of bench/README.md.
#   make bench-reports BENCH_REPORTS_ARGS=--reuse     time again on the database already built
#   make bench-reports BENCH_REPORTS_ARGS=--explain   also print the query plans
BENCH_REPORTS_ARGS ?=

.PHONY: bench-reports
bench-reports: $(RUNTIME_STAMP)
	$(PY) bench/bench_reports.py --write-readme $(BENCH_REPORTS_ARGS)

# bench-sqlite: tail latency on the embedded default (issue 16): a fresh SQLite file in a temporary
# directory (demo catalogue + 5,000 generated books), gunicorn 4 x 2 without Redis, 8 reader clients
# (first page, page jumps, searches) beside a paced order stream, 2 runs of 30 s; prints p50/p90/p99/max
# per endpoint and the requests over 250 ms. About 2 minutes. Results: bench/README.md "SQLite tail latency".
#   make bench-sqlite BENCH_SQLITE_ARGS="--workers 2 --threads 4 --reps 1"   (see --help)
BENCH_SQLITE_ARGS ?=

.PHONY: bench-sqlite
bench-sqlite: $(RUNTIME_STAMP)
	$(PY) bench/bench_sqlite.py $(BENCH_SQLITE_ARGS)

# bench-related: "customers also bought" over 200k orders (~1M order lines) on MariaDB at 127.0.0.1:3306:
# builds bookstore_bench_related (about 4 minutes), times flask related (full, idle, incremental) and
# GET /books/{id}/related, and writes the "Related books" section of bench/README.md.
#   make bench-related BENCH_RELATED_ARGS=--reuse
.PHONY: bench-related
bench-related: $(RUNTIME_STAMP)
	$(PY) bench/bench_related.py --write-readme $(BENCH_RELATED_ARGS)

# --- Galera cluster (issue 13; scripts/cluster.py, README "Running at scale") ----------------------

# cluster-up: 3 MariaDB Galera nodes (run as the mysql user, so root is needed), one gunicorn per node
# and HAProxy on http://127.0.0.1:14000 (CLUSTER_BASE_PORT to change); installs galera-4, rsync and
# haproxy with apt-get when missing. cluster-down stops it all and removes /tmp/bookstore-cluster-<port>.
.PHONY: cluster-up cluster-down test-cluster bench-cluster
cluster-up: $(RUNTIME_STAMP)
	$(PY) scripts/cluster.py up

cluster-down: $(RUNTIME_STAMP)
	$(PY) scripts/cluster.py down

# The six cluster tests (tests/test_cluster.py) on a private cluster at ports 15000-15103: ~3 minutes.
test-cluster: $(DEV_STAMP)
	CLUSTER_TESTS=1 $(PY) -m pytest tests/test_cluster.py -m cluster -v $(PYTEST_ARGS)

# bench-cluster: orders/s and p50/p99 through HAProxy on 1 node vs 3 nodes, hot and spread books,
# certification conflicts and retries, catalogue reads per node; writes bench/README.md "Cluster".
BENCH_CLUSTER_ARGS ?=
bench-cluster: $(RUNTIME_STAMP)
	$(PY) bench/bench_cluster.py $(BENCH_CLUSTER_ARGS)
