"""Break-glass password sign-in locks after repeated failures (django-axes)."""

import logging

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def _attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        LOGIN + "?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def breakglass(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_lockout_after_failures_even_with_right_password(breakglass, caplog):
    client = Client()
    with caplog.at_level(logging.WARNING, logger="axes"):
        for _ in range(2):
            assert _attempt(client, "root", "wrong").status_code == 200
        locked = _attempt(client, "root", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts (3)" in " ".join(locked.content.decode().split())
    # Rendered by django-axes, outside the admin site: the Alpine evaluator and icon still load.
    assert "/static/admin_toolkit/js/alpine-csp.js" in locked.content.decode()
    assert "/static/backoffice/favicon.svg" in locked.content.decode()
    assert any("Locking out" in r.getMessage() and "root" in r.getMessage() for r in caplog.records)
    # The right password does not get through while locked.
    response = _attempt(client, "root", "pw-test-12345")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_per_ip_covers_other_usernames(breakglass):
    other = UserFactory(username="other", is_staff=True, is_superuser=True)
    client = Client()
    for name in ("x1", "x2", "x3"):
        _attempt(client, name, "wrong", ip="10.9.9.9")
    assert _attempt(client, other.username, "pw-test-12345", ip="10.9.9.9").status_code == 429
    # Another address is unaffected.
    assert _attempt(Client(), other.username, "pw-test-12345", ip="10.1.1.1").status_code == 302


def test_superuser_resets_lockout_from_admin(breakglass):
    for _ in range(3):
        _attempt(Client(), "root", "wrong")
    assert AccessAttempt.objects.filter(username="root").exists()
    admin = UserFactory(is_staff=True, is_superuser=True)
    staff = Client()
    staff.force_login(admin)
    listing = staff.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "root" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="root")
    response = staff.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert _attempt(Client(), "root", "pw-test-12345").status_code == 302


def test_reset_command(breakglass):
    for _ in range(3):
        _attempt(Client(), "root", "wrong")
    call_command("axes_reset_username", "root")
    assert _attempt(Client(), "root", "pw-test-12345").status_code == 302
