"""Every write path records who did it and through which channel, in the write's transaction."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.core.audit import MissingAuditStamp
from apps.customers.models import Customer
from apps.items.models import Item
from apps.notifications.models import SmsMessage
from apps.orders.models import Order, OrderEvent
from apps.orders.services import order_note_add, order_sms_resend
from apps.orders.transitions import order_transition
from apps.spreadsheets.engine import Table
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

EVERYTHING = [
    *ALL_DOMAIN_PERMS,
    "orders.confirm_order",
    "orders.cancel_order",
    "orders.note_order",
    "notifications.resend_sms",
]


def _history(model, pk):
    return [
        (r.history_type, r.history_user_id, r.history_channel)
        for r in model.history.filter(id=pk).order_by("history_date", "history_id")
    ]


@pytest.fixture
def person():
    return UserFactory(is_staff=True, perms=EVERYTHING)


def test_admin_writes_record_the_person_and_admin(person):
    client = Client()
    client.force_login(person)
    customer, item = CustomerFactory(), ItemFactory(price=Decimal("10"))
    assert (
        client.post(
            reverse("admin:orders_order_add"),
            {"customer": customer.pk, "item": item.pk, "quantity": 2},
        ).status_code
        == 302
    )
    order = Order.objects.get()
    client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {"customer": customer.pk, "item": item.pk, "quantity": 3, "opened_version": 1},
    )
    client.post(
        reverse("admin:orders_order_confirm_detail", args=[order.pk]), {"_form_submitted": "1"}
    )
    client.post(reverse("admin:orders_order_add_note", args=[order.pk]), {"text": "call first"})
    client.post(
        reverse("admin:items_item_change", args=[item.pk]),
        {
            "name": "Renamed",
            "size": item.size,
            "price": "11.00",
            "opened_version": 1,
        },
    )
    assert _history(Order, order.pk) == [
        ("+", person.pk, "admin"),
        ("~", person.pk, "admin"),
        ("~", person.pk, "admin"),
    ]
    assert set(OrderEvent.objects.values_list("kind", "actor_id", "channel")) == {
        ("created", person.pk, "admin"),
        ("status", person.pk, "admin"),
        ("note", person.pk, "admin"),
    }
    assert _history(Item, item.pk)[-1] == ("~", person.pk, "admin")


def test_api_writes_record_the_token_user_and_api(person):
    client = APIClient()
    client.force_authenticate(person)
    customer = client.post(
        "/v1/customers",
        {"first_name": "Api", "last_name": "Person", "phone_number": "+254712000011"},
        format="json",
    ).json()
    item = ItemFactory()
    order = client.post(
        "/v1/orders",
        {"customer": customer["id"], "item": str(item.uuid), "quantity": 1},
        format="json",
    ).json()
    client.patch(f"/v1/orders/{order['id']}", {"quantity": 4}, format="json")
    client.post(f"/v1/orders/{order['id']}/transitions", {"to": "confirmed"}, format="json")
    stored = Order.objects.get(uuid=order["id"])
    assert _history(Order, stored.pk) == [("+", person.pk, "api")] + [("~", person.pk, "api")] * 2
    assert _history(Customer, Customer.objects.get(uuid=customer["id"]).pk) == [
        ("+", person.pk, "api")
    ]
    assert set(OrderEvent.objects.values_list("kind", "actor_id", "channel")) == {
        ("created", person.pk, "api"),
        ("status", person.pk, "api"),
    }
    response = client.delete(f"/v1/customers/{customer['id']}")
    assert response.status_code == 409  # it has an order: nothing written, nothing recorded
    assert len(_history(Customer, Customer.objects.get(uuid=customer["id"]).pk)) == 1


def test_services_without_an_actor_record_the_named_system_actor():
    order = OrderFactory()
    order_transition(order=order, to="confirmed", actor=None, channel="worker")
    order_note_add(order=order, text="from the worker", actor=None, channel="worker")
    assert _history(Order, order.pk)[-1] == ("~", None, "worker")
    event = OrderEvent.objects.get(kind="note")
    assert (event.actor, event.channel) == (None, "worker")
    from apps.orders.timeline import order_timeline

    labels = {e.kind: e.actor for e in order_timeline(order=order).entries}
    assert labels["note"] == "system (worker)"
    assert labels["status"] == "system (worker)"


def test_a_command_records_the_command_channel():
    call_command("seed_demo", verbosity=0)
    channels = set(Order.history.values_list("history_channel", flat=True))
    assert channels == {"command"}
    assert set(OrderEvent.objects.values_list("channel", flat=True)) == {"command"}
    assert set(Customer.history.values_list("history_user_id", flat=True)) == {None}


def test_an_import_records_the_importer_and_import():
    from apps.orders.resources import order_import_rows

    importer = UserFactory()
    customer = CustomerFactory()
    ItemFactory(name="Cap", size="S")
    report = order_import_rows(
        table=Table.from_rows(
            ["customer_uuid", "item_name", "item_size", "quantity"],
            [[str(customer.uuid), "Cap", "S", "2"]],
        ),
        actor=importer,
        file_name="june.csv",
    )
    assert report.written
    order = Order.objects.get()
    [record] = order.history.all()
    assert (record.history_user_id, record.history_channel, record.history_change_reason) == (
        importer.pk,
        "import",
        "june.csv",
    )


def test_a_resend_records_who_asked_and_how(person):
    order = OrderFactory()
    message = order_sms_resend(order=order, actor=person, channel="api")
    assert (message.requested_by, message.channel) == (person, "api")
    assert SmsMessage.objects.get().channel == "api"


def test_a_write_that_does_not_say_who_is_refused():
    item = ItemFactory()
    item.name = "sneaky"
    with pytest.raises(MissingAuditStamp):
        item.save()
    assert Item.objects.get(pk=item.pk).name != "sneaky"
