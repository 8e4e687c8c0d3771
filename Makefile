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

serve-ingest: $(STAMP) ## Serve the ingest function alone on :8081
	@$(VENV)/bin/functions-framework --source functions/main.py --target ingest --port 8081

serve-metrics: $(STAMP) ## Serve the metrics function alone on :8082
	@$(VENV)/bin/functions-framework --source functions/main.py --target metrics --port 8082

serve-stream-drain: $(STAMP) ## Serve the stream-drain function alone on :8083
	@$(VENV)/bin/functions-framework --source functions/main.py --target stream_drain --port 8083

serve-view-refresh: $(STAMP) ## Serve the view-refresh function alone on :8084
	@$(VENV)/bin/functions-framework --source functions/main.py --target view_refresh --port 8084

.PHONY: run reset replay-dead-letters
run: $(STAMP) ## Run the whole stack on http://127.0.0.1:8080 (embedded PostgreSQL and Redis unless configured)
	@exec $(PY) -m local

reset: $(STAMP) ## Delete .local/ (embedded data, keys, logs) after asking
	@$(PY) -m local reset

replay-dead-letters: $(STAMP) ## Put dead letters back on the stream (ANALYTICS_DATABASE_URL, ANALYTICS_REDIS_URL)
	@$(PY) -m engine.replay

.PHONY: key rotate-key keys
key: $(STAMP) ## Create a project and print its keys: make key NAME=shop
	@test -n "$(NAME)" || { echo "usage: make key NAME=project-name" >&2; exit 2; }
	@$(PY) -m engine.keycli create "$(NAME)"

rotate-key: $(STAMP) ## Replace a key: make rotate-key PROJECT=2 KIND=write [GRACE_HOURS=24]
	@test -n "$(PROJECT)" -a -n "$(KIND)" || { echo "usage: make rotate-key PROJECT=id KIND=write|read [GRACE_HOURS=24]" >&2; exit 2; }
	@$(PY) -m engine.keycli rotate "$(PROJECT)" "$(KIND)" --grace-hours "$(or $(GRACE_HOURS),24)"

keys: $(STAMP) ## List projects and their keys (first characters only)
	@$(PY) -m engine.keycli list

.PHONY: css
css: ## Rebuild static/dist (Tailwind CSS, minified tracker) and static/vendor/uplot with the pinned npm tools (needs Node; outputs are committed)
	@static/build.sh

# The production-shaped stack under docker compose (infra/; README, "Production").
COMPOSE_ENV ?= infra/.env
COMPOSE = docker compose -f infra/docker-compose.yml --env-file $(COMPOSE_ENV)
COMPOSE_WAIT_SECONDS ?= 300
.PHONY: up down docker-check
docker-check:
	@command -v docker >/dev/null 2>&1 || { echo "error: docker is not installed (or not on PATH). make up needs Docker Engine with the compose plugin: https://docs.docker.com/engine/install/ (without Docker, make run runs the same stack)" >&2; exit 1; }
	@docker compose version >/dev/null 2>&1 || { echo "error: 'docker compose' is missing: install the Docker Compose v2 plugin (docker-compose-plugin)" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "error: cannot reach the Docker engine: is it running, and may $$USER use it?" >&2; exit 1; }
	@test -f $(COMPOSE_ENV) || { echo "error: $(COMPOSE_ENV) is missing. Create it with fresh random secrets: python3 infra/new_env.py (or copy infra/.env.example and fill it in)" >&2; exit 1; }

up: docker-check ## Build and start the stack under docker compose, wait until every service is healthy, print the URLs
	@$(COMPOSE) up --detach --build --wait --wait-timeout $(COMPOSE_WAIT_SECONDS) || { echo "error: the stack did not become healthy; see: docker compose -f infra/docker-compose.yml ps, and ... logs SERVICE" >&2; exit 1; }
	@set -a; . "$(abspath $(COMPOSE_ENV))"; set +a; host=$${BIND_ADDRESS:-127.0.0.1}; \
	echo; echo "Analytics engine is up under docker compose (every service healthy)"; echo; \
	echo "  dashboard   http://$$host:$${GATEWAY_PORT:-8080}/"; \
	echo "  API         POST http://$$host:$${GATEWAY_PORT:-8080}/event, /events   GET /metrics   (keys: ANALYTICS_WRITE_KEY, ANALYTICS_READ_KEY in $(COMPOSE_ENV))"; \
	echo "  Grafana     http://$$host:$${GRAFANA_PORT:-3000}/   (user $${GRAFANA_ADMIN_USER:-admin}, password GRAFANA_ADMIN_PASSWORD in $(COMPOSE_ENV))"; \
	echo "  logs        docker compose -f infra/docker-compose.yml logs -f [SERVICE]"; \
	echo "  stop        make down (the data stays in the volumes)"

down: docker-check ## Stop the docker compose stack (PostgreSQL, Redis and Grafana data stay in their volumes)
	@$(COMPOSE) down

# The benchmark (local/bench; README, "Performance"). BENCH_ARGS=--quick for the 2-minute version.
.PHONY: bench
bench: $(STAMP) ## Every figure of the README's Performance table beside its floor, measured in one run (under 15 min; BENCH_ARGS=--quick: under 2)
	@$(PY) -m local.bench $(BENCH_ARGS)
