"""History in words: the history page and the timeline both say what happened — status moves
with their reasons, notes, field changes from → to — never "Changed" with nothing listed."""

import re

import pytest
from django.urls import reverse

from apps.orders.services import order_note_add, order_update
from apps.orders.transitions import order_transition
from tests.factories import ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_history_page_says_what_each_record_changed(superuser, client):
    order = OrderFactory(quantity=1)
    other = ItemFactory(name="Hoodie", size="L")
    order_update(order=order, data={"quantity": 7, "item": other}, actor=superuser)
    order_note_add(order=order, text="Customer prefers mornings", actor=superuser)
    order_transition(order=order, to="cancelled", actor=superuser, reason="Customer called")
    client.force_login(superuser)
    response = client.get(reverse("admin:orders_order_history", args=[order.pk]))
    assert response.status_code == 200
    text = _text(response.content.decode())
    records = text.split("Audit records", 1)[1]
    assert "Status: placed → cancelled" in records
    assert "Customer called" in records  # the move's reason is the record's change reason
    assert "Quantity: 1 → 7" in records
    assert "Hoodie (L)" in records
    assert "Created" in records
    # every "Changed" record lists what changed
    for row in response.context["page_obj"]:
        if row.history_type == "~":
            assert row.summary, row
    timeline = text.split("Audit records", 1)[0]
    assert "Status placed → cancelled: Customer called" in timeline
    assert "Customer prefers mornings" in timeline
    assert "quantity 1 → 7" in timeline


def test_a_customer_history_page_lists_changes_in_words(superuser, client):
    from apps.customers.services import customer_update

    order = OrderFactory()
    customer = order.customer
    customer_update(customer=customer, data={"first_name": "Achieng"}, actor=superuser)
    client.force_login(superuser)
    response = client.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    assert "→ Achieng" in _text(response.content.decode())
