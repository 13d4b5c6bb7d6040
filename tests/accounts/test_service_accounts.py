"""Service accounts: created by staff in the admin, used by machine clients with their tokens."""

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group, Permission
from django.test import Client

from apps.accounts.models import ServiceAccount
from apps.accounts.services import (
    parse_group_map,
    service_account_create,
    service_account_update,
    user_sync_from_claims,
)
from apps.core.errors import DomainError
from tests.factories import UserFactory
from tests.idp_fixtures import MACHINE_CLIENT_ID, MACHINE_CLIENT_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def test_admin_creates_service_account_with_groups(admin_client):
    readers = Group.objects.create(name="API readers")
    response = admin_client.post(
        "/admin/accounts/serviceaccount/add/",
        {
            "client_id": "billing-sync",
            "subject": "",
            "description": "Nightly billing export",
            "groups": [readers.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = ServiceAccount.objects.select_related("user").get()
    assert account.subject == "billing-sync"
    assert account.user.username == "svc-billing-sync"
    assert not account.user.has_usable_password()
    assert not account.user.is_staff
    assert list(account.user.groups.all()) == [readers]


def test_admin_changelist_change_and_delete(admin_client):
    account = service_account_create(client_id="warehouse", description="Stock sync")
    assert admin_client.get("/admin/accounts/serviceaccount/").status_code == 200
    url = f"/admin/accounts/serviceaccount/{account.pk}/change/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"subject": "0f0c-uuid-at-keycloak", "description": "Stock sync v2", "groups": []}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    account.user.refresh_from_db()
    assert account.subject == "0f0c-uuid-at-keycloak"
    assert account.client_id == "warehouse"  # fixed once created
    assert not account.user.is_active  # the box was left unticked
    user_pk = account.user.pk
    response = admin_client.post(
        f"/admin/accounts/serviceaccount/{account.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not ServiceAccount.objects.exists()
    assert not Group.objects.filter(user__pk=user_pk).exists()


def test_admin_refuses_duplicate_client(admin_client):
    service_account_create(client_id="billing-sync")
    response = admin_client.post(
        "/admin/accounts/serviceaccount/add/",
        {"client_id": "billing-sync", "subject": "", "description": "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert ServiceAccount.objects.count() == 1


def test_sso_identities_are_listed_read_only(admin_client):
    user = UserFactory()
    SocialAccount.objects.create(user=user, provider="sso", uid="sub-x", extra_data={})
    assert admin_client.get("/admin/socialaccount/socialaccount/").status_code == 200
    assert admin_client.get("/admin/socialaccount/socialaccount/add/").status_code == 403
    assert admin_client.get("/admin/socialaccount/socialapp/").status_code == 404


def test_service_account_rules():
    service_account_create(client_id="a")
    with pytest.raises(DomainError):
        service_account_create(client_id="a")
    with pytest.raises(DomainError):
        service_account_create(client_id="b", subject="a")
    with pytest.raises(DomainError):
        service_account_create(client_id="  ")


def test_deactivated_service_account_tokens_are_refused(sso_settings):
    idp = sso_settings
    group = Group.objects.create(name="Readers")
    group.permissions.set(Permission.objects.filter(codename="view_order"))
    account = service_account_create(client_id=MACHINE_CLIENT_ID, groups=[group])
    token = idp.client_credentials_token(MACHINE_CLIENT_ID, MACHINE_CLIENT_SECRET)
    client = Client()
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/v1/orders", **headers).status_code == 200
    service_account_update(service_account=account, is_active=False)
    response = client.get("/v1/orders", **headers)
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_parse_group_map():
    assert parse_group_map(" a = Ops , b=Ops,c=Finance team ,") == {
        "a": ["Ops"],
        "b": ["Ops"],
        "c": ["Finance team"],
    }
    assert parse_group_map("") == {}
    with pytest.raises(ValueError, match="not 'idp-group=Django group'"):
        parse_group_map("lonely")


def test_claim_sync_accepts_a_single_string_group(settings):
    settings.OIDC_STAFF_GROUPS = ["staff"]
    settings.OIDC_GROUP_MAP = "staff=Staff"
    user = UserFactory(password="x")
    user_sync_from_claims(user=user, claims={"groups": "staff", "email": "s@example.com"})
    user.refresh_from_db()
    assert user.is_staff and not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["Staff"]


def test_sso_configuration_checks(settings):
    from apps.accounts.checks import sso_settings_check

    settings.OIDC_ISSUER = ""
    assert sso_settings_check() == []
    settings.OIDC_ISSUER = "http://idp.example.com"
    settings.OIDC_CLIENT_ID = ""
    settings.OIDC_CLIENT_SECRET = "s"
    settings.OIDC_GROUP_MAP = "broken"
    settings.OIDC_STAFF_GROUPS = []
    settings.OIDC_SUPERUSER_GROUPS = []
    settings.DEBUG = False
    ids = sorted(problem.id for problem in sso_settings_check())
    assert ids == ["accounts.E001", "accounts.E002", "accounts.W001", "accounts.W002"]
    settings.OIDC_ISSUER = "https://idp.example.com"
    settings.OIDC_CLIENT_ID = "c"
    settings.OIDC_GROUP_MAP = "a=B"
    settings.OIDC_STAFF_GROUPS = ["staff"]
    assert sso_settings_check() == []
