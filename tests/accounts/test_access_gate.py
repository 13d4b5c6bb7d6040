"""One gate for people on /v1 and in the admin (apps/accounts/access.py): active staff only,
however they signed in; a session whose user lost access ends at its next request."""

import time
from types import SimpleNamespace

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts import middleware
from apps.accounts.checks import sign_in_age_check
from apps.accounts.middleware import SIGNED_IN_AT_KEY
from apps.accounts.services import service_account_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VIEW = ["customers.view_customer"]


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("change", [{"is_staff": False}, {"is_active": False}])
def test_a_session_ends_when_its_user_loses_access(change):
    user = UserFactory(perms=VIEW)
    api, admin = _signed_in(user), _signed_in(user)
    assert api.get("/v1/customers").status_code == 200
    assert admin.get("/admin/").status_code == 200

    type(user).objects.filter(pk=user.pk).update(**change)

    response = api.get("/v1/customers")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert SESSION_KEY not in api.session  # ended, not just refused
    response = admin.get("/admin/", follow=True)
    assert response.redirect_chain[0][0].startswith("/admin/login/")
    assert SESSION_KEY not in admin.session
    if "is_staff" in change:  # (a deactivated user is anonymous at once: nothing to say)
        assert "You were signed out: User has no staff access." in response.content.decode()
    # Given access back, the old session does not come back to life.
    type(user).objects.filter(pk=user.pk).update(is_staff=True, is_active=True)
    assert api.get("/v1/customers").status_code == 401


def test_the_api_refuses_a_signed_in_person_without_staff_whatever_authenticated_them():
    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=False, perms=VIEW))
    response = client.get("/v1/customers")
    assert response.status_code == 403
    assert response.json()["detail"] == "User has no staff access."
    client.force_authenticate(UserFactory(is_active=False, perms=VIEW))
    assert client.get("/v1/customers").json()["detail"] == "User is inactive."


def test_the_schema_and_docs_are_behind_the_same_gate():
    person = _signed_in(UserFactory(is_staff=False))
    assert person.get("/v1/schema").status_code == 401  # the session was ended
    assert _signed_in(UserFactory()).get("/v1/schema").status_code == 200


def test_service_accounts_use_the_api_but_never_a_session():
    group = Group.objects.create(name="Readers")
    group.permissions.add(Permission.objects.get(codename="view_customer"))
    machine = service_account_create(client_id="warehouse", groups=[group]).user
    api = APIClient()
    api.force_authenticate(machine)  # as the bearer backend hands it over
    assert api.get("/v1/customers").status_code == 200
    session = _signed_in(machine)
    assert session.get("/v1/customers").status_code == 401
    assert SESSION_KEY not in session.session


def test_requests_without_a_session_cost_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert Client().get("/v1/customers").status_code == 401


def test_a_sign_in_older_than_its_max_age_ends_in_the_admin_and_on_the_api(settings, monkeypatch):
    settings.SIGN_IN_MAX_AGE_SECONDS = 3600
    clock = {"now": 1_800_000_000.25}  # the middleware's clock, moved by hand
    monkeypatch.setattr(middleware, "time", SimpleNamespace(time=lambda: clock["now"]))
    user = UserFactory(perms=VIEW)
    admin, api = _signed_in(user), _signed_in(user)
    assert admin.session[SIGNED_IN_AT_KEY] == 1_800_000_000  # dated at sign-in
    assert admin.get("/admin/").status_code == 200

    clock["now"] += 3599  # a second short of the age: still signed in
    assert admin.get("/admin/").status_code == 200
    assert api.get("/v1/customers").status_code == 200

    clock["now"] += 1
    response = admin.get("/admin/", follow=True)
    assert response.redirect_chain[0][0].startswith("/admin/login/")
    assert "Your sign-in is over 1 hour old: please sign in again." in (response.content.decode())
    assert SESSION_KEY not in admin.session
    assert api.get("/v1/customers").status_code == 401
    # Signing in again starts a new day.
    admin.force_login(user)
    assert admin.get("/admin/").status_code == 200


def test_a_session_from_before_sign_ins_were_dated_counts_from_now():
    user = UserFactory(perms=VIEW)
    client = _signed_in(user)
    session = client.session
    del session[SIGNED_IN_AT_KEY]
    session.save()
    assert client.get("/admin/").status_code == 200
    assert abs(client.session[SIGNED_IN_AT_KEY] - time.time()) < 60


def test_a_sign_in_age_under_five_minutes_is_refused_at_start_up(settings):
    settings.SIGN_IN_MAX_AGE_SECONDS = 60
    assert [e.id for e in sign_in_age_check()] == ["accounts.E004"]
    settings.SIGN_IN_MAX_AGE_SECONDS = 12 * 3600
    assert sign_in_age_check() == []
