"""Access follows the person: staff and group changes at the IdP reach the API, not only the admin.

People need ``is_staff`` (and to be active) for the API as for the admin. A token that carries
the groups claim (JWTs with ``OIDC_GROUPS_CLAIM``, userinfo answers for opaque tokens) syncs the
person's flags and mapped groups first, writing only what changed. Service accounts are their
own kind: never staff, their groups set in the admin.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.bearer import BearerTokenBackend
from apps.accounts.identity_provider import IdentityProvider, identity_providers
from apps.accounts.services import service_account_create, user_sync_from_claims
from tests.accounts.bearer_helpers import WRITE_PERMS, bearer, group_with, provision_sso_user
from tests.idp_fixtures import MACHINE_CLIENT_ID, MACHINE_CLIENT_SECRET, configure_sso

pytestmark = pytest.mark.django_db


def names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_person_without_staff_access_is_refused(sso_settings):
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)], is_staff=False)
    response = Client().get("/v1/customers", **bearer(idp.sign(sub="sub-bob")))
    assert response.status_code == 401
    assert response.json()["detail"] == "User has no staff access."
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert "no staff access" in response["WWW-Authenticate"]


def test_groups_claim_without_staff_group_refuses_and_updates_the_person(sso_settings):
    idp = sso_settings
    user = provision_sso_user(
        "sub-bob", groups=[group_with("Operations", WRITE_PERMS), group_with("Staff", [])]
    )
    client = Client()
    token = idp.sign(sub="sub-bob", groups=["co-staff", "co-operations"])
    assert client.get("/v1/customers", **bearer(token)).status_code == 200

    # Removed from the staff group at the IdP: the next token says so.
    token = idp.sign(sub="sub-bob", groups=["co-operations"])
    response = client.get("/v1/customers", **bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "User has no staff access."
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser
    assert names(user) == {"Operations"}
    # Tokens issued before the change (no groups claim) are refused too: the flag is stored.
    assert client.get("/v1/customers", **bearer(idp.sign(sub="sub-bob"))).status_code == 401


def test_token_older_than_the_last_change_cannot_undo_it(sso_settings):
    """A JWT issued before someone left the staff group still says they are in it."""
    idp = sso_settings
    user = provision_sso_user(
        "sub-bob", groups=[group_with("Operations", WRITE_PERMS), group_with("Staff", [])]
    )
    now = int(time.time())
    old = idp.sign(sub="sub-bob", groups=["co-staff", "co-operations"], iat=now - 120)
    new = idp.sign(sub="sub-bob", groups=["co-operations"], iat=now - 10)
    client = Client()
    assert client.get("/v1/customers", **bearer(old)).status_code == 200
    assert client.get("/v1/customers", **bearer(new)).status_code == 401
    response = client.get("/v1/customers", **bearer(old))
    assert response.status_code == 401
    assert response.json()["detail"] == "User has no staff access."
    user.refresh_from_db()
    assert not user.is_staff
    assert names(user) == {"Operations"}
    # A sign-in is news too: what the IdP says then outranks any token issued before it.
    user_sync_from_claims(
        user=user, claims={"groups": ["co-staff", "co-operations"]}, as_of=timezone.now()
    )
    assert client.get("/v1/customers", **bearer(new)).status_code == 200
    user.refresh_from_db()
    assert user.is_staff


def test_claims_without_issue_time_are_not_synced(sso_settings):
    idp = sso_settings
    user = provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    token = idp.sign(sub="sub-bob", groups=["co-operations"], iat=None)
    assert Client().get("/v1/customers", **bearer(token)).status_code == 200
    user.refresh_from_db()
    assert user.is_staff


def test_groups_claim_gives_access_back_and_syncs_groups(sso_settings):
    idp = sso_settings
    group_with("Operations", WRITE_PERMS)
    user = provision_sso_user("sub-bob", is_staff=False)
    client = Client()
    assert client.get("/v1/customers", **bearer(idp.sign(sub="sub-bob"))).status_code == 401
    token = idp.sign(sub="sub-bob", groups=["co-staff", "co-operations"])
    assert client.get("/v1/customers", **bearer(token)).status_code == 200
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    assert names(user) == {"Operations", "Staff"}


def test_unchanged_claims_write_nothing(sso_settings):
    idp = sso_settings
    provision_sso_user(
        "sub-bob", groups=[group_with("Operations", WRITE_PERMS), group_with("Staff", [])]
    )
    client = Client()
    token = idp.sign(sub="sub-bob", groups=["co-staff", "co-operations"], email="bob@example.com")
    assert client.get("/v1/customers", **bearer(token)).status_code == 200  # first sync
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/v1/customers", **bearer(token)).status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]
    assert writes == []


def test_inactive_person_stays_refused_whatever_the_groups(sso_settings):
    idp = sso_settings
    user = provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    user.is_active = False
    user.save()
    token = idp.sign(sub="sub-bob", groups=["co-staff", "co-admins"])
    response = Client().get("/v1/customers", **bearer(token))
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]
    user.refresh_from_db()
    assert not user.is_active and not user.is_superuser


def test_opaque_token_group_change_reaches_the_api_with_the_userinfo_cache(settings, start_idp):
    """Userinfo answers are cached OIDC_USERINFO_CACHE_SECONDS: that is how long a change takes."""
    idp = start_idp()  # its own directory: this test changes dave's groups
    settings.OIDC_USERINFO_CACHE_SECONDS = 1
    configure_sso(settings, idp.issuer)
    group_with("Operations", WRITE_PERMS)
    user = provision_sso_user("sub-dave")
    token = idp.pkce_token(login="dave", password="dave-pw", resource=False)["access_token"]
    client = Client()
    assert client.get("/v1/customers", **bearer(token)).status_code == 200

    idp.set_user_groups("sub-dave", ["co-operations"])
    assert client.get("/v1/customers", **bearer(token)).status_code == 200  # cached answer
    time.sleep(1.1)
    response = client.get("/v1/customers", **bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "User has no staff access."
    user.refresh_from_db()
    assert not user.is_staff
    assert names(user) == {"Operations"}


def test_service_account_without_staff_keeps_working(sso_settings):
    idp = sso_settings
    account = service_account_create(
        client_id=MACHINE_CLIENT_ID, groups=[group_with("Readers", ["view_customer"])]
    )
    assert not account.user.is_staff
    client = Client()
    token = idp.client_credentials_token(MACHINE_CLIENT_ID, MACHINE_CLIENT_SECRET)
    assert client.get("/v1/customers", **bearer(token)).status_code == 200
    # A groups claim does not turn a machine into staff, nor take its groups away.
    token = idp.sign(sub=MACHINE_CLIENT_ID, groups=["co-admins", "co-staff"])
    assert client.get("/v1/customers", **bearer(token)).status_code == 200
    account.user.refresh_from_db()
    assert not account.user.is_staff and not account.user.is_superuser
    assert names(account.user) == {"Readers"}


def test_identity_provider_is_rebuilt_when_oidc_settings_change(sso_settings, settings):
    first = identity_providers().current()
    assert isinstance(first, IdentityProvider)
    assert identity_providers().current() is first
    settings.OIDC_HTTP_TIMEOUT = 1.5
    second = identity_providers().current()
    assert isinstance(second, IdentityProvider)
    assert second is not first
    assert second.client.timeout[1] == 1.5
    settings.OIDC_ISSUER = ""
    assert identity_providers().current() is None


def test_authentication_queries(sso_settings, django_assert_num_queries):
    """One indexed lookup per person or machine, none more once a token's claims are applied."""
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", [])])
    service_account_create(client_id="billing-sync")
    backend = BearerTokenBackend()
    synced = idp.sign(sub="sub-bob", groups=["co-staff", "co-operations"])
    backend.get_or_create_user(synced, None, None)  # keys cached, claims applied once
    with django_assert_num_queries(1):
        backend.get_or_create_user(idp.sign(sub="sub-bob"), None, None)
    with django_assert_num_queries(2):  # not a person: then the service accounts
        backend.get_or_create_user(idp.sign(sub="billing-sync"), None, None)
    with django_assert_num_queries(1):
        backend.get_or_create_user(synced, None, None)
    # A newer token with the same claims: nothing to compare either.
    later = idp.sign(sub="sub-bob", groups=["co-staff", "co-operations"], iat=int(time.time()) + 5)
    with django_assert_num_queries(1):
        backend.get_or_create_user(later, None, None)
