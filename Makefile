# CustOrder back office — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# pytest-xdist processes for `make test`: one per core; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto

.PHONY: help run test venv migrate seed lint format alpine sso idp clean

help:
	@echo "make run    - SQLite, demo data, local superuser admin/admin, http://$(HOST):$(PORT)/admin/"
	@echo "make test   - install test dependencies and run the whole suite"
	@echo "make sso    - demo OIDC provider on :9000 for local SSO (then: make run SSO=1)"
	@echo "make lint   - ruff check, ruff format check, mypy"
	@echo "make alpine - recompile the admin's Alpine.js expressions (after an unfold upgrade)"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

# --compile-bytecode: the packages' bytecode is written once here, so that a process started with
# PYTHONDONTWRITEBYTECODE set (every test worker and subprocess) does not compile Django again.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

venv: $(VENV)/.synced

migrate: venv
	$(PY) manage.py migrate --no-input -v 0

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	DJANGO_SETTINGS_MODULE=backoffice.settings.local $(PY) manage.py ensure_local_superuser
	DJANGO_SETTINGS_MODULE=backoffice.settings.local $(PY) manage.py runserver $(HOST):$(PORT)

# scripts/test-services.sh starts a redis-server and, on PostgreSQL, a streaming replica for the
# run, and stops them after. Tests marked xdist_group(...) share one pytest-xdist worker
# (loadgroup); docs/architecture.md, "Parallel-safe tests".
test: venv idp
	DJANGO_SETTINGS_MODULE=backoffice.settings.test scripts/test-services.sh $(VENV)/bin/pytest \
		-n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The test OpenID Connect provider (tests/idp, npm oidc-provider), reinstalled when its lock changes.
IDP_DIR := tests/idp
IDP_PORT ?= 9000

$(IDP_DIR)/node_modules/.installed: $(IDP_DIR)/package.json $(IDP_DIR)/package-lock.json
	cd $(IDP_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

idp: $(IDP_DIR)/node_modules/.installed

# Demo IdP for local SSO (users alice/alice, bob/bob, carol/carol); then `make run SSO=1`.
sso: idp
	@echo "Demo IdP on http://127.0.0.1:$(IDP_PORT); in another terminal: make run SSO=1"
	cd $(IDP_DIR) && node server.mjs --config demo.json --port $(IDP_PORT)

ifdef SSO
include $(IDP_DIR)/demo.env
export OIDC_ISSUER OIDC_PROVIDER_ID OIDC_PROVIDER_NAME OIDC_CLIENT_ID OIDC_CLIENT_SECRET
export OIDC_STAFF_GROUPS OIDC_SUPERUSER_GROUPS OIDC_GROUP_MAP OIDC_API_AUDIENCE
endif

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

alpine: venv
	$(VENV)/bin/python scripts/alpine_expressions.py

clean:
	rm -rf $(VENV) $(TOOLS) db.sqlite3 staticfiles
