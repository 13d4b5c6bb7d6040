from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.items.services import item_update
from apps.orders.models import Order
from apps.orders.selectors import order_get, order_list
from apps.orders.services import order_create, order_delete, order_update
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_order_create_snapshots_unit_price():
    item = ItemFactory(price=Decimal("250.00"))
    order = order_create(customer=CustomerFactory(), item=item, quantity=3)
    item_update(item=item, data={"price": Decimal("999.99")})
    row = order_get(uuid=order.uuid)
    assert row.unit_price == Decimal("250.00")
    assert row.total == Decimal("750.00")


def test_order_list_annotates_total_in_sql(django_assert_num_queries):
    OrderFactory(quantity=2, item=ItemFactory(price=Decimal("19.99")))
    OrderFactory(quantity=5, item=ItemFactory(price=Decimal("3.10")))
    with django_assert_num_queries(1):
        rows = list(order_list().order_by("total"))
        totals = [(r.total, r.customer.last_name, r.item.name) for r in rows]
    assert [t[0] for t in totals] == [Decimal("15.50"), Decimal("39.98")]
    assert list(order_list(filters={"total__gte": 20}).values_list("total", flat=True)) == [
        Decimal("39.98")
    ]


@pytest.mark.parametrize("quantity", [0, -1, "abc", 1.5, None])
def test_order_create_rejects_bad_quantity(quantity):
    with pytest.raises(ValidationError) as exc:
        order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=quantity)
    assert "quantity" in exc.value.message_dict
    assert not Order.objects.exists()


def test_database_rejects_zero_quantity_without_services():
    order = OrderFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(quantity=0)


def test_order_update_quantity_keeps_price_item_change_resnapshots():
    order = OrderFactory(item=ItemFactory(price=Decimal("10")), quantity=1)
    order.item.price = Decimal("20")
    item_update(item=order.item, data={"price": Decimal("20")})
    order_update(order=order, data={"quantity": 4})
    assert order_get(uuid=order.uuid).total == Decimal("40.00")
    other = ItemFactory(price=Decimal("7.50"))
    order_update(order=order, data={"item": other})
    row = order_get(uuid=order.uuid)
    assert (row.item_id, row.unit_price, row.total) == (other.pk, Decimal("7.50"), Decimal("30.00"))


def test_order_update_rejects_zero_quantity_and_keeps_row():
    order = OrderFactory(quantity=2)
    with pytest.raises(ValidationError):
        order_update(order=order, data={"quantity": 0})
    order.refresh_from_db()
    assert order.quantity == 2


def test_order_delete():
    order = OrderFactory()
    order_delete(order=order)
    assert not Order.objects.exists()


def test_order_numbers_are_allocated_in_creation_order_and_never_reused():
    first, second = OrderFactory(), OrderFactory()
    assert second.number == first.number + 1
    assert str(second) == f"Order {second.number}"
    order_delete(order=second)
    third = order_create(customer=first.customer, item=first.item, quantity=1)
    assert third.number == second.number + 1  # the deleted order's number stays its own
    assert Order.objects.get(pk=third.pk).number == third.number
