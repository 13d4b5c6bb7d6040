"""Order numbers, external references, and a resend that sends the message of the status."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from apps.notifications.models import SmsMessage
from apps.orders.models import Order, OrderEvent
from apps.orders.services import order_create, order_delete
from apps.orders.transitions import order_transition
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/v1/orders"
PATHS = {
    "placed": [],
    "confirmed": ["confirmed"],
    "dispatched": ["confirmed", "dispatched"],
    "delivered": ["confirmed", "dispatched", "delivered"],
    "cancelled": ["cancelled"],
}
#: What a resend sends in each status (the kind of message), with the default templates.
RESEND_KIND = {
    "placed": "confirmation",
    "confirmed": "confirmation",
    "dispatched": "dispatched",
    "delivered": "delivered",
    "cancelled": "cancelled",
}


def _order_in(status: str) -> Order:
    order = order_create(
        customer=CustomerFactory(), item=ItemFactory(), quantity=1, send_confirmation=False
    )
    for step in PATHS[status]:
        order = order_transition(order=order, to=step, actor=None, reason="test")
    SmsMessage.objects.all().delete()
    return order


@pytest.fixture
def resender():
    return UserFactory(perms=[*ALL_DOMAIN_PERMS, "notifications.resend_sms"])


def test_numbers_are_allocated_on_every_path_in_order(api):
    customer, item = CustomerFactory(), ItemFactory()
    by_service = order_create(customer=customer, item=item, quantity=1)
    by_api = api.post(
        URL, {"customer": str(customer.uuid), "item": str(item.uuid), "quantity": 2}, format="json"
    ).json()
    by_factory = OrderFactory()
    assert by_api["number"] == by_service.number + 1
    assert by_factory.number == by_api["number"] + 1
    stored = dict(Order.objects.values_list("uuid", "number"))
    assert stored[by_service.uuid] == by_service.number
    listed = api.get(f"{URL}?number={by_api['number']}").json()["results"]
    assert [row["id"] for row in listed] == [by_api["id"]]
    assert api.get(f"{URL}?number=abc").status_code == 400


def test_a_deleted_orders_number_is_never_given_again():
    first = OrderFactory()
    numbers = {first.number}
    order_delete(order=first)
    for _ in range(3):
        numbers.add(OrderFactory().number)
    assert len(numbers) == 4 and min(numbers) == first.number


def test_external_reference_is_unique_and_a_retried_create_is_refused(api):
    customer, item = CustomerFactory(), ItemFactory()
    body = {
        "customer": str(customer.uuid),
        "item": str(item.uuid),
        "quantity": 1,
        "external_reference": "  SHOP-1  ",
    }
    first = api.post(URL, body, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["external_reference"] == "SHOP-1"
    again = api.post(URL, body, format="json")
    assert again.status_code == 409
    refused = again.json()
    assert (refused["code"], refused["order_number"]) == (
        "duplicate_external_reference",
        first.json()["number"],
    )
    assert "SHOP-1" in refused["detail"]
    assert Order.objects.count() == 1
    found = api.get(f"{URL}?external_reference=SHOP-1").json()["results"]
    assert [row["number"] for row in found] == [first.json()["number"]]
    # Several orders without one are fine (blank is "none", not a value).
    for _ in range(2):
        blank = {**body, "external_reference": ""}
        assert api.post(URL, blank, format="json").status_code == 201


def test_external_reference_may_be_set_later_but_not_taken_from_another_order(api):
    one, two = OrderFactory(), OrderFactory()
    response = api.patch(f"{URL}/{one.uuid}", {"external_reference": "ERP-7"}, format="json")
    assert response.status_code == 200, response.content
    clash = api.patch(f"{URL}/{two.uuid}", {"external_reference": "ERP-7"}, format="json")
    assert clash.status_code == 409
    assert clash.json()["code"] == "duplicate_external_reference"
    two.refresh_from_db()
    assert (two.external_reference, two.version) == ("", 1)
    # A dispatched order's reference may still change; its quantity may not.
    order_transition(order=one, to="confirmed", actor=None)
    order_transition(order=one, to="dispatched", actor=None)
    one.refresh_from_db()
    ok = api.patch(f"{URL}/{one.uuid}", {"external_reference": "ERP-8"}, format="json")
    assert ok.status_code == 200, ok.content
    locked = api.patch(f"{URL}/{one.uuid}", {"quantity": 9}, format="json")
    assert (locked.status_code, locked.json()["code"]) == (409, "order_locked")


@pytest.mark.parametrize("status", list(PATHS))
def test_api_resend_sends_the_message_of_the_status(
    status, resender, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    order = _order_in(status)
    client = APIClient()
    client.force_authenticate(resender)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"{URL}/{order.uuid}/resend-sms")
    assert response.status_code == 202, response.content
    message = SmsMessage.objects.get()
    assert response.json()["kind"] == message.kind == RESEND_KIND[status]
    assert (message.requested_by, message.channel) == (resender, "api")
    assert str(order.number) in message.text
    if status == "cancelled":
        assert "cancelled" in message.text and "confirmed" not in message.text


def test_api_resend_with_no_message_for_the_status_is_409(settings, resender):
    from rest_framework.test import APIClient

    settings.SMS_STATUS_TEMPLATES = {**settings.SMS_STATUS_TEMPLATES, "delivered": ""}
    order = _order_in("delivered")
    client = APIClient()
    client.force_authenticate(resender)
    response = client.post(f"{URL}/{order.uuid}/resend-sms")
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_resend"
    assert not SmsMessage.objects.exists()


@pytest.mark.parametrize("status", list(PATHS))
def test_admin_offers_only_the_moves_and_resend_the_status_allows(status, resender):
    order = _order_in(status)
    client = Client()
    client.force_login(UserFactory(is_staff=True, perms=resender_perms()))
    html = client.get(reverse("admin:orders_order_changelist")).content.decode()
    offered = {
        verb
        for verb in ("confirm", "dispatch", "deliver", "cancel", "resend-sms")
        if f"/admin/orders/order/{order.pk}/{verb}-row/" in html
    }
    expected = {
        "placed": {"confirm", "cancel", "resend-sms"},
        "confirmed": {"dispatch", "cancel", "resend-sms"},
        "dispatched": {"deliver", "resend-sms"},
        "delivered": {"resend-sms"},
        "cancelled": {"resend-sms"},
    }[status]
    assert offered == expected
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    for verb in ("confirm", "dispatch", "deliver", "cancel"):
        link = f"/admin/orders/order/{order.pk}/{verb}/"
        assert (link in page) == (verb in expected)


def resender_perms() -> list[str]:
    return [
        *ALL_DOMAIN_PERMS,
        "notifications.resend_sms",
        "orders.confirm_order",
        "orders.dispatch_order",
        "orders.deliver_order",
        "orders.cancel_order",
    ]


def test_admin_resend_of_a_cancelled_order_sends_the_cancellation(
    django_capture_on_commit_callbacks,
):
    order = _order_in("cancelled")
    client = Client()
    user = UserFactory(is_staff=True, perms=resender_perms())
    client.force_login(user)
    url = reverse("admin:orders_order_resend_sms_detail", args=[order.pk])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, {"_form_submitted": "True"})
    assert response.status_code == 302
    message = SmsMessage.objects.get()
    assert (message.kind, message.requested_by, message.channel) == ("cancelled", user, "admin")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Queued 1 SMS (order cancelled) for Order {order.number} to {message.phone}."
    ]
    assert OrderEvent.objects.filter(order=order, kind="status").count() == 1
