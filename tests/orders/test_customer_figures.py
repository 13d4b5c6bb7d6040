"""The customers' stored order figures (orders count, lifetime value without cancelled orders,
last order date) are exact after every write path: admin, API, transitions, imports, deletes;
notes leave them alone. Each test states the figures it expects, and checks them against a
recount of the orders (``order_summary_for_customer``)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.customers.models import Customer
from apps.customers.services import customer_note_add
from apps.orders.models import Order
from apps.orders.resources import order_import_rows
from apps.orders.selectors import order_summary_for_customer
from apps.orders.services import order_note_add
from apps.orders.transitions import order_transition
from apps.spreadsheets.readers import Table
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

MOVE_PERMS = ["orders.confirm_order", "orders.cancel_order"]


def figures(customer: Customer) -> tuple[int, Decimal, object]:
    """The stored figures, checked against a recount of the customer's orders."""
    stored = Customer.objects.values_list("orders_count", "lifetime_value", "last_order_at").get(
        pk=customer.pk
    )
    recount = order_summary_for_customer(customer=customer)
    assert stored == (recount.orders, recount.lifetime_value, recount.last_order_at)
    return stored


def last_order(customer: Customer):
    return Order.objects.filter(customer=customer).order_by("-date_created").first().date_created


@pytest.fixture
def item():
    return ItemFactory(price=Decimal("100.00"))


# --- admin ---------------------------------------------------------------------------------


def test_admin_create_update_and_delete(superuser, client, item):
    client.force_login(superuser)
    first, second = CustomerFactory(), CustomerFactory()
    response = client.post(
        reverse("admin:orders_order_add"),
        {"customer": first.pk, "item": item.pk, "quantity": 2},
    )
    assert response.status_code == 302
    created = Order.objects.get()
    assert figures(first) == (1, Decimal("200.00"), created.date_created)

    # The quantity, then the customer (the SMS inline's empty formset posted back).
    order = OrderFactory(customer=first, item=item, quantity=1)
    assert figures(first) == (2, Decimal("300.00"), last_order(first))
    change = reverse("admin:orders_order_change", args=[order.pk])
    data = {
        "customer": first.pk,
        "item": item.pk,
        "quantity": 3,
        "opened_version": 1,
        "sms_messages-TOTAL_FORMS": 0,
        "sms_messages-INITIAL_FORMS": 0,
    }
    assert client.post(change, data).status_code == 302
    assert figures(first) == (2, Decimal("500.00"), last_order(first))
    data |= {"customer": second.pk, "opened_version": 2}
    assert client.post(change, data).status_code == 302
    assert figures(first) == (1, Decimal("200.00"), created.date_created)
    assert figures(second) == (1, Decimal("300.00"), order.date_created)

    delete = reverse("admin:orders_order_delete", args=[order.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not Order.objects.filter(pk=order.pk).exists()
    assert figures(second) == (0, Decimal("0.00"), None)


def test_admin_bulk_cancel_leaves_the_count_and_drops_the_value(superuser, client, item):
    client.force_login(superuser)
    customer = CustomerFactory()
    kept = OrderFactory(customer=customer, item=item, quantity=1)
    cancelled = OrderFactory(customer=customer, item=item, quantity=4)
    assert figures(customer) == (2, Decimal("500.00"), last_order(customer))
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {
            "action": "cancel_orders",
            "_selected_action": [cancelled.pk],
            "post": "yes",
            "reason_code": "duplicate",
        },
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=cancelled.pk).status == "cancelled"
    assert figures(customer) == (2, Decimal("100.00"), last_order(customer))
    assert Order.objects.get(pk=kept.pk).status == "placed"


# --- API -----------------------------------------------------------------------------------


def test_api_create_update_and_delete(api, item):
    first, second = CustomerFactory(), CustomerFactory()
    dear = ItemFactory(price=Decimal("250.00"))
    response = api.post(
        "/v1/orders",
        {"customer": str(first.uuid), "item": str(item.uuid), "quantity": 2},
        format="json",
    )
    assert response.status_code == 201
    order = Order.objects.get()
    assert figures(first) == (1, Decimal("200.00"), order.date_created)

    url = f"/v1/orders/{order.uuid}"
    assert api.patch(url, {"item": str(dear.uuid)}, format="json").status_code == 200
    assert figures(first) == (1, Decimal("500.00"), order.date_created)
    assert api.patch(url, {"customer": str(second.uuid)}, format="json").status_code == 200
    assert figures(first) == (0, Decimal("0.00"), None)
    assert figures(second) == (1, Decimal("500.00"), order.date_created)

    assert api.delete(url).status_code == 204
    assert figures(second) == (0, Decimal("0.00"), None)


def test_api_transitions_cancel_drops_the_value_other_moves_keep_it(item):
    api = APIClient()
    api.force_authenticate(UserFactory(perms=[*ALL_DOMAIN_PERMS, *MOVE_PERMS]))
    customer = CustomerFactory()
    confirmed = OrderFactory(customer=customer, item=item, quantity=1)
    cancelled = OrderFactory(customer=customer, item=item, quantity=2)
    moves = (
        (confirmed, {"to": "confirmed"}),
        (cancelled, {"to": "cancelled", "reason_code": "out_of_stock"}),
    )
    for order, payload in moves:
        url = f"/v1/orders/{order.uuid}/transitions"
        assert api.post(url, payload, format="json").status_code == 200
    assert figures(customer) == (2, Decimal("100.00"), last_order(customer))


# --- services: the workflow, notes -------------------------------------------------------


def test_every_status_and_cancel_keep_the_figures_exact(item):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, item=item, quantity=3)
    for step in ("confirmed", "dispatched", "delivered"):
        order = order_transition(order=order, to=step, actor=None)
        assert figures(customer) == (1, Decimal("300.00"), order.date_created)
    other = OrderFactory(customer=customer, item=item, quantity=1)
    order_transition(order=other, to="cancelled", actor=None, reason_code="customer_request")
    assert figures(customer) == (2, Decimal("300.00"), last_order(customer))


def test_notes_change_neither_the_figures_nor_the_customer_s_version(item):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, item=item, quantity=1)
    before = figures(customer)
    version = Customer.objects.get(pk=customer.pk).version
    order_note_add(order=order, text="called back", actor=UserFactory())
    customer_note_add(customer=customer, text="prefers SMS", actor=UserFactory())
    assert figures(customer) == before == (1, Decimal("100.00"), order.date_created)
    assert Customer.objects.get(pk=customer.pk).version == version


# --- spreadsheet import ----------------------------------------------------------------------

HEADER = "uuid,customer_uuid,item_uuid,quantity,date_created"


def table(*rows: str) -> Table:
    return Table.from_rows(HEADER.split(","), [r.split(",") for r in rows])


def test_import_of_new_rows(item):
    customer = CustomerFactory()
    day = timezone.now() - timedelta(days=3)
    report = order_import_rows(
        table=table(
            f",{customer.uuid},{item.uuid},2,{day.isoformat()}",
            f",{customer.uuid},{item.uuid},1,",
        )
    )
    assert (report.new, report.invalid) == (2, 0)
    assert figures(customer) == (2, Decimal("300.00"), last_order(customer))


def test_import_of_updated_rows_moving_orders_between_customers(item):
    """Rows that change an order's customer or quantity: both customers' figures follow."""
    first, second = CustomerFactory(), CustomerFactory()
    moved = OrderFactory(customer=first, item=item, quantity=1)
    grown = OrderFactory(customer=first, item=item, quantity=1)
    assert figures(first) == (2, Decimal("200.00"), last_order(first))
    report = order_import_rows(
        table=table(
            f"{moved.uuid},{second.uuid},{item.uuid},1,",
            f"{grown.uuid},{first.uuid},{item.uuid},5,",
        )
    )
    assert (report.updated, report.invalid) == (2, 0)
    assert figures(first) == (1, Decimal("500.00"), grown.date_created)
    assert figures(second) == (1, Decimal("100.00"), moved.date_created)


def test_import_mixing_new_and_updated_rows(item):
    first, second = CustomerFactory(), CustomerFactory()
    moved = OrderFactory(customer=first, item=item, quantity=2)
    report = order_import_rows(
        table=table(
            f"{moved.uuid},{second.uuid},{item.uuid},2,",
            f",{first.uuid},{item.uuid},3,",
        )
    )
    assert (report.new, report.updated, report.invalid) == (1, 1, 0)
    assert figures(first) == (1, Decimal("300.00"), last_order(first))
    assert figures(second) == (1, Decimal("200.00"), moved.date_created)
