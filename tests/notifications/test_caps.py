"""SMS cost guard: resends per order per day and SMS per hour across the system."""

import logging

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from apps.notifications.models import SmsMessage
from apps.notifications.services import SmsCapExceededError
from apps.orders.services import order_create
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory
from tests.sms_helpers import sms_resend

pytestmark = pytest.mark.django_db


@pytest.fixture
def resender(db):
    user = UserFactory(is_staff=True, perms=["orders.view_order", "orders.change_order"])
    user.user_permissions.add(Permission.objects.get(codename="resend_sms"))
    return user


def test_per_order_daily_resend_cap(settings, resender, caplog):
    settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY = 2
    order = OrderFactory()
    sms_resend(order=order, actor=resender)
    sms_resend(order=order, actor=resender)
    with (
        caplog.at_level(logging.WARNING, logger="apps.notifications.caps"),
        pytest.raises(SmsCapExceededError) as exc,
    ):
        sms_resend(order=order, actor=resender)
    assert "already had 2 resends in the last 24 hours" in exc.value.message
    assert order.sms_messages.count() == 2
    assert any("per-order daily cap" in r.getMessage() for r in caplog.records)
    # Another order is not affected.
    sms_resend(order=OrderFactory(), actor=resender)


def test_hourly_cap_refuses_resend_and_records_confirmation_as_failed(settings, resender):
    settings.SMS_MAX_PER_HOUR = 2
    first = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    second = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    third = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    statuses = {o.pk: o.sms_messages.get().status for o in (first, second, third)}
    assert list(statuses.values()) == ["queued", "queued", "failed"]
    assert "cap of 2 SMS per hour" in third.sms_messages.get().error
    with pytest.raises(SmsCapExceededError):
        sms_resend(order=first, actor=resender)


def test_admin_resend_over_cap_shows_message(settings, resender, client):
    settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY = 1
    order = OrderFactory()
    sms_resend(order=order, actor=resender)
    client.force_login(resender)
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "resend_sms", "_selected_action": [order.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert "daily resend cap" in response.content.decode()
    assert SmsMessage.objects.filter(order=order).count() == 1


def test_api_resend_and_cap_gives_429(settings, resender):
    settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY = 1
    order = OrderFactory()
    api = APIClient()
    api.force_authenticate(resender)
    first = api.post(f"/v1/orders/{order.uuid}/resend-sms")
    assert first.status_code == 202, first.content
    assert first.json()["status"] == "queued"
    second = api.post(f"/v1/orders/{order.uuid}/resend-sms")
    assert second.status_code == 429
    assert int(second["Retry-After"]) > 0
    assert "daily resend cap" in second.json()["detail"]
    assert order.sms_messages.count() == 1


def test_api_resend_needs_permission():
    order = OrderFactory()
    api = APIClient()
    api.force_authenticate(UserFactory(perms=["orders.view_order", "orders.add_order"]))
    assert api.post(f"/v1/orders/{order.uuid}/resend-sms").status_code == 403
    assert order.sms_messages.count() == 0


def test_sms_sweep_runs_once_and_reports():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sms_sweep", stdout=out)
    assert out.getvalue().strip() == (
        "sms sweep: 0 stuck marked failed, 0 re-enqueued, 0 early delivery reports matched"
    )
