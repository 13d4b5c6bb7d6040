"""SMS per order status: which moves notify, with which template, through the confirmation's
outbox (exactly once, the real africastalking SDK against the local fake provider), under the
same hourly cap; and the start-up checks of the settings."""

import logging
from decimal import Decimal

import pytest
from django.core import checks
from django.db import transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from apps.notifications.models import SmsMessage, SmsStatus
from apps.orders.checks import order_sms_settings_check
from apps.orders.services import order_create
from apps.orders.transitions import order_transition
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory
from tests.notifications.conftest import run_worker
from tests.sms_helpers import sms_status_queue, sms_status_text


def _order(**kwargs):
    customer = CustomerFactory(first_name="Amina", phone_number="+254712345678")
    item = ItemFactory(name="Tee", size="M", price=Decimal("450.00"))
    return order_create(customer=customer, item=item, quantity=2, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_each_notifying_move_is_sent_once_through_the_sdk(at_settings, fake_at):
    order = _order()
    order_transition(order=order, to="confirmed", actor=None)  # does not notify by default
    order_transition(order=order, to="dispatched", actor=None)
    assert list(SmsMessage.objects.order_by("id").values_list("kind", "status")) == [
        ("confirmation", "queued"),
        ("dispatched", "queued"),
    ]
    # Two moves committed, two tasks; every task enqueued twice would still send once.
    assert DBTaskResult.objects.count() == 2
    for message in SmsMessage.objects.all():
        from apps.notifications.tasks import enqueue_send

        enqueue_send([message.pk])
    run_worker()
    sent = [r["form"]["message"] for r in fake_at.received()]
    assert sent == [
        f"Hi Amina, your order {order.number} is confirmed: 2 x Tee (M), total KES 900.00. "
        "Thank you!",
        f"Hi Amina, your order {order.number} (2 x Tee (M)) is on its way.",
    ]
    assert all(r["form"]["to"] == "+254712345678" for r in fake_at.received())
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {SmsStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_a_refused_notice_is_recorded_with_the_provider_reason(at_settings, fake_at):
    from tests.notifications.fake_provider import Reply

    order = _order(send_confirmation=False)
    order_transition(order=order, to="cancelled", actor=None, reason="no stock")
    fake_at.add(Reply(recipient_code=406))
    run_worker()
    message = SmsMessage.objects.get()
    assert (message.kind, message.status, message.provider_status_code) == (
        "cancelled",
        SmsStatus.FAILED,
        "406",
    )
    assert "UserInBlacklist" in message.error
    # The move stands; the order page's timeline and SMS history show the failure and its kind.
    assert message.order.status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_a_move_that_rolls_back_queues_nothing(at_settings, fake_at):
    order = _order(send_confirmation=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        order_transition(order=order, to="cancelled", actor=None, reason="x")
        raise RuntimeError("the caller fails after the move")
    assert not SmsMessage.objects.exists()
    assert not DBTaskResult.objects.exists()
    run_worker()
    assert fake_at.received() == []


@pytest.mark.django_db
def test_notify_statuses_and_templates_come_from_settings(settings):
    settings.SMS_NOTIFY_STATUSES = ["confirmed", "delivered"]
    settings.SMS_STATUS_TEMPLATES = {
        **settings.SMS_STATUS_TEMPLATES,
        "delivered": "{first_name}: {reference} delivered, {total} ({currency}) {item_name}/{size}",
    }
    order = _order()  # placed no longer notifies
    assert not SmsMessage.objects.exists()
    order_transition(order=order, to="confirmed", actor=None)
    order_transition(order=order, to="dispatched", actor=None)
    order_transition(order=order, to="delivered", actor=None)
    rows = list(SmsMessage.objects.order_by("id").values_list("kind", "text", "requested_by"))
    assert rows == [
        (
            "confirmed",
            f"Hi Amina, we are preparing your order {order.number}: 2 x Tee (M).",
            None,
        ),
        ("delivered", f"Amina: {order.number} delivered, KES 900.00 (KES) Tee/M", None),
    ]


@pytest.mark.django_db
def test_status_notices_share_the_hourly_cap(settings, caplog):
    settings.SMS_MAX_PER_HOUR = 1
    order = _order()  # the confirmation uses the hour's one message
    with caplog.at_level(logging.WARNING, logger="apps.notifications.caps"):
        order_transition(order=order, to="cancelled", actor=None, reason="x")
    notice = SmsMessage.objects.get(kind="cancelled")
    assert notice.status == SmsStatus.FAILED
    assert notice.error == "Not sent: the system-wide cap of 1 SMS per hour was reached."
    assert order.__class__.objects.get(pk=order.pk).status == "cancelled"
    assert any("hourly cap" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_sms_status_queue_for_placed_is_the_confirmation():
    order = _order(send_confirmation=False)
    message = sms_status_queue(order=order, status="placed")
    assert message is not None and message.kind == "confirmation"
    assert sms_status_text(order=order, status="placed") == message.text
    assert sms_status_queue(order=order, status="confirmed") is None  # not notifying


@pytest.mark.django_db
def test_order_admin_sms_history_shows_the_kind(client):
    user = UserFactory(is_staff=True, perms=["orders.view_order", "notifications.view_smsmessage"])
    order = OrderFactory()
    order_transition(order=order, to="cancelled", actor=None, reason="x")
    client.force_login(user)
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "SMS history" in html and "order cancelled" in html
    listing = client.get(
        reverse("admin:notifications_smsmessage_changelist") + "?kind__exact=cancelled"
    )
    assert [m.kind for m in listing.context["cl"].result_list] == ["cancelled"]


def _errors(settings_overrides, settings) -> list[str]:
    for name, value in settings_overrides.items():
        setattr(settings, name, value)
    return [e.id for e in order_sms_settings_check() if e.level >= checks.ERROR]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"SMS_NOTIFY_STATUSES": ["placed", "shipped"]}, ["orders.E005"]),
        ({"SMS_STATUS_TEMPLATES": {"dispatched": "", "cancelled": "x"}}, ["orders.E006"]),
        (
            {"SMS_STATUS_TEMPLATES": {"dispatched": "Hi {name}", "cancelled": "x"}},
            ["orders.E007"],
        ),
        (
            {
                "SMS_NOTIFY_STATUSES": ["placed"],
                "SMS_STATUS_TEMPLATES": {"dispatched": "", "cancelled": "{0}"},
            },
            ["orders.E007"],
        ),
    ],
)
def test_settings_checks(settings, overrides, expected):
    assert _errors(overrides, settings) == expected
