"""The probes: /healthz answers while the process serves, /readyz when the database is ready."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from backoffice.health import migration_state

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_migration_state():
    migration_state.reset()
    yield
    migration_state.reset()


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_ok_when_database_answers_and_schema_is_current(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    cache = "shared" if settings.TEST_REDIS_URL else "local"
    assert response.json() == {"status": "ok", "database": "ok", "cache": cache}


@pytest.mark.django_db
def test_readyz_reuses_a_positive_migration_check(client, django_assert_max_num_queries):
    assert client.get("/readyz").status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_503_when_a_migration_is_not_applied(client, caplog):
    leaf_app, leaf_name = sorted(MigrationExecutor(connection).loader.graph.leaf_nodes())[0]
    deleted, _ = MigrationRecorder.Migration.objects.filter(app=leaf_app, name=leaf_name).delete()
    assert deleted == 1

    with caplog.at_level(logging.WARNING, logger="backoffice.health"):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "pending_migrations": 1}
    # Migration names stay out of the public answer but reach the log.
    assert f"{leaf_app}.{leaf_name}" in caplog.text
    assert leaf_name not in response.content.decode()


def test_readyz_503_when_database_is_unreachable():
    """A real process whose database port is closed: readyz says so instead of raising."""
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/readyz');"
        "print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:1/nothing",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "database": "unreachable"}


@pytest.mark.django_db
def test_readyz_503_when_a_configuration_check_fails(client, settings, caplog):
    """A deployed environment whose SMS only go to the log, with no delivery-report secret:
    it would serve requests, so the probe must say it is not ready (and the log says why)."""
    settings.APP_ENVIRONMENT = "production"
    settings.SMS_BACKEND = "console"
    settings.SMS_ALLOW_CONSOLE_BACKEND = False
    with caplog.at_level(logging.ERROR, logger="backoffice.health"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "configuration_errors": 1}
    assert "security.E102" in caplog.text
    assert "SMS_BACKEND=console" not in response.content.decode()

    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_API_KEY = "atsk-0123456789"
    settings.SMS_DELIVERY_REPORT_SECRET = ""
    assert client.get("/readyz").json() == {"status": "unavailable", "configuration_errors": 1}
    settings.SMS_DELIVERY_REPORT_SECRET = "dr-secret-0123456789abcdef"
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_reports_the_sms_settings_checks_too(client, settings):
    settings.SMS_CONFIRMATION_TEMPLATE = "Hi {name}"  # no such field: every SMS would fail
    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_API_KEY = ""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["configuration_errors"] == 2


@pytest.mark.django_db
def test_readyz_accepts_explicit_choices(client, settings):
    settings.APP_ENVIRONMENT = "staging"
    settings.SMS_BACKEND = "console"
    settings.SMS_ALLOW_CONSOLE_BACKEND = True
    assert client.get("/readyz").status_code == 200
