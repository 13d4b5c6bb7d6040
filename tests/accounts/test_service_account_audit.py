"""Service-account writes record who made them and through which channel (the audit trail)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from apps.accounts.models import ServiceAccount
from apps.accounts.services import (
    service_account_create,
    service_account_delete,
    service_account_update,
)
from apps.core.actors import Channel
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _history(client_id: str) -> list[tuple[str, str | None, str, str]]:
    rows = ServiceAccount.history.filter(client_id=client_id).order_by("history_id")
    return [
        (
            row.history_type,
            row.history_user.username if row.history_user else None,
            row.history_channel,
            row.history_change_reason or "",
        )
        for row in rows
    ]


def test_the_admin_records_the_person_and_the_admin_channel():
    admin = UserFactory(username="ops-lead", is_superuser=True)
    readers = Group.objects.create(name="API readers")
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/serviceaccount/add/",
        {"client_id": "billing", "subject": "", "description": "", "groups": [readers.pk]},
    )  # is_active left unticked: created, then deactivated
    assert response.status_code == 302
    account = ServiceAccount.objects.get(client_id="billing")
    response = client.post(f"/admin/accounts/serviceaccount/{account.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert _history("billing") == [
        ("+", "ops-lead", "admin", "active: yes; groups: API readers"),
        ("~", "ops-lead", "admin", "active: no; groups: API readers"),
        ("-", "ops-lead", "admin", ""),
    ]
    assert not get_user_model().objects.filter(username="svc-billing").exists()


def test_other_channels_and_the_system_actor_are_recorded():
    operator = UserFactory(username="operator")
    account = service_account_create(client_id="warehouse", channel=Channel.COMMAND)
    service_account_update(
        service_account=account, description="Stock", actor=operator, channel=Channel.API
    )
    service_account_delete(service_account=account, channel=Channel.SYSTEM)
    assert _history("warehouse") == [
        ("+", None, "command", "active: yes; groups: none"),
        ("~", "operator", "api", "active: yes; groups: none"),
        ("-", None, "system", ""),
    ]
