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

.PHONY: help run test venv migrate seed lint format sso worker bench clean

help:
	@echo "make run    - SQLite, demo data, local superuser admin/admin, http://$(HOST):$(PORT)/admin/"
	@echo "make test   - install test dependencies and run the whole suite"
	@echo "make lint   - ruff check + format check"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

venv: $(VENV)/.synced

migrate: venv
	$(PY) manage.py migrate --no-input -v 0

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	DJANGO_SETTINGS_MODULE=backoffice.settings.local $(PY) manage.py ensure_local_superuser
	DJANGO_SETTINGS_MODULE=backoffice.settings.local $(PY) manage.py runserver $(HOST):$(PORT)

test: venv
	DJANGO_SETTINGS_MODULE=backoffice.settings.test $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) db.sqlite3 staticfiles
