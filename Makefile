# The dev loop. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export PYTHONPATH := $(CURDIR)/functions:$(CURDIR)

.DEFAULT_GOAL := help
.PHONY: help install test test-fast migrate lint format serve-ingest serve-metrics serve-stream-drain serve-view-refresh

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: Python 3.11 or newer is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing). Install it, or run: make PYTHON=python3.12 ..." >&2; exit 1; }
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(PY)
	@echo "==> installing requirements.txt into $(VENV)"
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	@echo "==> installing requirements-dev.txt into $(VENV)"
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

install: $(STAMP) ## Create .venv and install the runtime requirements

test: $(DEV_STAMP) ## Run the whole suite (ANALYTICS_TEST_* services, else embedded ones)
	@$(PY) -m pytest

test-fast: $(DEV_STAMP) ## Only the pure unit tests (no servers)
	@$(PY) -m pytest tests/unit -q

migrate: $(STAMP) ## Apply sql/ migrations to ANALYTICS_DATABASE_URL, then backfill the rollups from stored events
	@$(PY) -m engine.migrate

.PHONY: verify-aggregates
verify-aggregates: $(STAMP) ## Recompute the rollups from raw events and print differences; FIX=1 rewrites them
	@$(PY) -m engine.aggregates verify $(if $(FIX),--fix)

lint: $(DEV_STAMP) ## ruff check and format check
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP) ## Format the code with ruff
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

# A function started alone listens on this machine only, as make run's do, unless HOST says otherwise.
SERVE_HOST = $(or $(HOST),127.0.0.1)

serve-ingest: $(STAMP) ## Serve the ingest function alone on 127.0.0.1:8081 (HOST=, PORT= to change)
	@$(VENV)/bin/functions-framework --source functions/main.py --target ingest --asgi --host $(SERVE_HOST) --port $(or $(PORT),8081)

serve-metrics: $(STAMP) ## Serve the metrics function alone on 127.0.0.1:8082 (HOST=, PORT= to change)
	@$(VENV)/bin/functions-framework --source functions/main.py --target metrics --host $(SERVE_HOST) --port $(or $(PORT),8082)

serve-stream-drain: $(STAMP) ## Serve the stream-drain function alone on 127.0.0.1:8083 (HOST=, PORT= to change)
	@$(VENV)/bin/functions-framework --source functions/main.py --target stream_drain --host $(SERVE_HOST) --port $(or $(PORT),8083)

serve-view-refresh: $(STAMP) ## Serve the view-refresh function alone on 127.0.0.1:8084 (HOST=, PORT= to change)
	@$(VENV)/bin/functions-framework --source functions/main.py --target view_refresh --host $(SERVE_HOST) --port $(or $(PORT),8084)

.PHONY: run reset replay-dead-letters
run: $(STAMP) ## Run the whole stack on http://127.0.0.1:8080 (embedded PostgreSQL and Redis unless configured)
	@exec $(PY) -m local

reset: $(STAMP) ## Delete .local/ (embedded data, keys, logs) after asking
	@$(PY) -m local reset

replay-dead-letters: $(STAMP) ## Put dead letters back on the stream (ANALYTICS_DATABASE_URL, ANALYTICS_REDIS_URL)
	@$(PY) -m engine.replay

.PHONY: key rotate-key keys
key: $(STAMP) ## Create a project and print its keys: make key NAME=shop (ANALYTICS_DATABASE_URL, else the running make run)
	@test -n "$(NAME)" || { echo "usage: make key NAME=project-name" >&2; exit 2; }
	@$(PY) -m local keys create "$(NAME)"

rotate-key: $(STAMP) ## Replace a key (KIND=admin makes the erasure key): make rotate-key PROJECT=2 KIND=write [GRACE_HOURS=24]
	@test -n "$(PROJECT)" -a -n "$(KIND)" || { echo "usage: make rotate-key PROJECT=id KIND=write|read|admin [GRACE_HOURS=24]" >&2; exit 2; }
	@$(PY) -m local keys rotate "$(PROJECT)" "$(KIND)" --grace-hours "$(or $(GRACE_HOURS),24)"

.PHONY: erase-person
erase-person: $(STAMP) ## Erase a person and their linked ids: make erase-person USER=user_123 PROJECT=1 (CHECK=1: only look; REPLAY=1: after a restore)
	@# USER must come from the command line: the environment's USER is the login name, not a person to erase.
	@test -n "$(PROJECT)" -a \( "$(origin USER)" = "command line" -o -n "$(REPLAY)" \) || { echo "usage: make erase-person USER=user-id PROJECT=id [CHECK=1] | make erase-person REPLAY=1 PROJECT=id" >&2; exit 2; }
	@$(PY) -m engine.erasecli "$(PROJECT)" $(if $(REPLAY),--replay,"$(USER)" $(if $(CHECK),--check))

keys: $(STAMP) ## List projects and their keys (first characters only), and whether each is active or expired
	@$(PY) -m local keys list

.PHONY: css
css: ## Rebuild static/dist (Tailwind CSS, minified tracker) and static/vendor/uplot with the pinned npm tools (needs Node; outputs are committed)
	@static/build.sh

# The production-shaped stack under docker compose (infra/; README, "Production").
DOCKER ?= docker
COMPOSE_ENV ?= infra/.env
COMPOSE = $(DOCKER) compose -f infra/docker-compose.yml --env-file $(COMPOSE_ENV)
COMPOSE_WAIT_SECONDS ?= 300
.PHONY: up down docker-check
docker-check:
	@command -v $(DOCKER) >/dev/null 2>&1 || { echo "error: docker is not installed (or not on PATH). make up needs Docker Engine 20.10+ with the Compose v2 plugin (README, Production; without Docker, make run runs the same stack)" >&2; exit 1; }
	@$(DOCKER) compose version >/dev/null 2>&1 || { echo "error: 'docker compose' is missing: install the Compose v2 plugin (Docker's docker-compose-plugin package; README, Production)" >&2; exit 1; }
	@$(DOCKER) info >/dev/null 2>&1 || { echo "error: cannot reach the Docker engine: is dockerd running, and may $$USER use it?" >&2; exit 1; }
	@test -f $(COMPOSE_ENV) || { echo "error: $(COMPOSE_ENV) is missing. Create it with fresh random secrets: python3 infra/new_env.py (or copy infra/.env.example and fill it in)" >&2; exit 1; }

up: docker-check ## Build and start the stack under docker compose, wait until every service is healthy, print the URLs
	@DOCKER="$(DOCKER)" COMPOSE_ENV="$(COMPOSE_ENV)" COMPOSE_WAIT_SECONDS="$(COMPOSE_WAIT_SECONDS)" infra/up.sh

down: docker-check ## Stop the docker compose stack (PostgreSQL, Redis and Grafana data stay in their volumes)
	@$(COMPOSE) down

# The benchmark (local/bench; README, "Performance"). BENCH_ARGS=--quick for the 2-minute version.
.PHONY: bench
bench: $(STAMP) ## Every figure of the README's Performance table beside its floor, measured in one run (under 15 min; BENCH_ARGS=--quick: under 2)
	@$(PY) -m local.bench $(BENCH_ARGS)

.PHONY: bench-validate
bench-validate: $(STAMP) ## Validation per event in one run: the loader compiled from the schemas, the former quick_load, Schema.load (under a minute)
	@$(PY) -m local.bench.validate
