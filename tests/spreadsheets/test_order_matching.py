"""Orders are matched by uuid, then by number, then by external reference: a file that names its
orders in any of these ways imports twice without doubling anything."""

from decimal import Decimal

import pytest

from apps.orders.models import Order, OrderStatus
from apps.orders.resources import order_import_rows
from apps.orders.transitions import order_transition
from apps.spreadsheets.readers import Table
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    customer = CustomerFactory(phone_number="+254711000001")
    item = ItemFactory(name="Hoodie", size="XL", price=Decimal("2500.00"))
    return customer, item


def _table(header: str, *rows: str) -> Table:
    return Table.from_rows(header.split(","), [r.split(",") for r in rows])


def test_rows_with_the_senders_references_import_twice_without_doubling(shop):
    customer, _ = shop
    file = (
        "external_reference,customer_phone,item_name,item_size,quantity",
        f"PO-1,{customer.phone_number},Hoodie,XL,1",
        f"PO-2,{customer.phone_number},Hoodie,XL,2",
    )
    first = order_import_rows(table=_table(*file))
    assert (first.new, first.new_without_key) == (2, 0)
    assert sorted(Order.objects.values_list("external_reference", "quantity")) == [
        ("PO-1", 1),
        ("PO-2", 2),
    ]
    again = order_import_rows(table=_table(*file), dry_run=True)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    changed = order_import_rows(table=_table(file[0], f"PO-2,{customer.phone_number},Hoodie,XL,5"))
    assert (changed.new, changed.updated) == (0, 1)
    assert Order.objects.get(external_reference="PO-2").quantity == 5
    assert Order.objects.count() == 2


def test_rows_name_orders_by_number(shop):
    order = OrderFactory(customer=shop[0], item=shop[1], quantity=1)
    header = "number,customer_phone,item_name,item_size,quantity"
    same = order_import_rows(table=_table(header, f"{order.number},+254711000001,Hoodie,XL,1"))
    assert (same.new, same.unchanged) == (0, 1)
    more = order_import_rows(table=_table(header, f"{order.number},+254711000001,Hoodie,XL,4"))
    assert more.updated == 1
    order.refresh_from_db()
    assert order.quantity == 4


def test_a_number_no_order_has_is_an_error_never_a_new_order(shop):
    report = order_import_rows(
        table=_table(
            "number,customer_phone,item_name,item_size,quantity", "999999,+254711000001,Hoodie,XL,1"
        ),
        dry_run=True,
    )
    assert [(e.column, e.message) for e in report.errors] == [
        ("number", "no order with order number 999999")
    ]


def test_keys_that_name_different_orders_are_an_error(shop):
    first = OrderFactory(customer=shop[0], item=shop[1], external_reference="PO-1")
    second = OrderFactory(customer=shop[0], item=shop[1], external_reference="PO-2")
    report = order_import_rows(
        table=_table(
            "uuid,number,external_reference,customer_phone,item_name,item_size,quantity",
            f"{first.uuid},{second.number},,+254711000001,Hoodie,XL,1",
            f"{first.uuid},,PO-2,+254711000001,Hoodie,XL,1",
        ),
        dry_run=True,
    )
    messages = [e.message for e in report.errors]
    assert (
        messages[0] == f"order number {second.number} belongs to another order (uuid {second.uuid})"
    )
    assert messages[1].startswith(f"uuid {first.uuid} is also on row 2")


def test_one_reference_twice_in_a_file_is_an_error(shop):
    report = order_import_rows(
        table=_table(
            "external_reference,customer_phone,item_name,item_size,quantity",
            "PO-9,+254711000001,Hoodie,XL,1",
            "PO-9,+254711000001,Hoodie,XL,2",
        ),
        dry_run=True,
    )
    assert [(e.row, e.message) for e in report.errors] == [
        (3, "external reference PO-9 is also on row 2")
    ]


def test_a_dispatched_order_keeps_its_line_but_its_reference_may_change(shop):
    order = OrderFactory(customer=shop[0], item=shop[1], quantity=1)
    boss = UserFactory(is_superuser=True)
    order_transition(order=order, to=OrderStatus.CONFIRMED, actor=boss)
    order_transition(order=order, to=OrderStatus.DISPATCHED, actor=boss)
    header = "number,external_reference,customer_phone,item_name,item_size,quantity"
    renamed = order_import_rows(
        table=_table(header, f"{order.number},PO-77,+254711000001,Hoodie,XL,1")
    )
    assert renamed.updated == 1
    order.refresh_from_db()
    assert order.external_reference == "PO-77"
    refused = order_import_rows(
        table=_table(header, f"{order.number},PO-77,+254711000001,Hoodie,XL,3"), dry_run=True
    )
    assert refused.errors[0].message == (
        f"Order {order.number} is dispatched: its customer, item and quantity can no longer change."
    )


def test_new_orders_get_their_numbers_from_the_database(shop):
    before = set(Order.objects.values_list("number", flat=True))
    order_import_rows(
        table=_table(
            "customer_phone,item_name,item_size,quantity",
            *[f"+254711000001,Hoodie,XL,{n}" for n in range(1, 6)],
        )
    )
    numbers = sorted(set(Order.objects.values_list("number", flat=True)) - before)
    assert len(numbers) == 5 and numbers == list(range(numbers[0], numbers[0] + 5))
    created = Order.objects.get(number=numbers[0])
    assert created.history.get().number == numbers[0]
    assert created.external_reference == ""


def test_an_import_keeps_every_customers_order_figures_exact():
    """Hundreds of customers at once (the grouped refresh), one of them left with no order."""
    from apps.customers.models import Customer
    from apps.orders.selectors import order_summary_for_customer

    item = ItemFactory(name="Cap", size="M", price=Decimal("10.00"))
    customers = CustomerFactory.create_batch(250)
    lonely = CustomerFactory()
    moved = OrderFactory(customer=lonely, item=item, quantity=1)
    order_import_rows(
        table=_table(
            "uuid,customer_uuid,item_name,item_size,quantity", f"{moved.uuid},{lonely.uuid},Cap,M,1"
        )
    )
    assert Customer.objects.get(pk=lonely.pk).orders_count == 1
    rows = [f",{c.uuid},Cap,M,{n % 3 + 1}" for n, c in enumerate(customers)]
    rows += [f",{c.uuid},Cap,M,2" for c in customers[:40]]
    rows.append(f"{moved.uuid},{customers[1].uuid},Cap,M,1")  # the order moves away
    report = order_import_rows(
        table=_table("uuid,customer_uuid,item_name,item_size,quantity", *rows)
    )
    assert (report.new, report.updated) == (290, 1)
    for customer in Customer.objects.all():
        summary = order_summary_for_customer(customer=customer)
        assert (customer.orders_count, customer.lifetime_value, customer.last_order_at) == (
            summary.orders,
            summary.lifetime_value,
            summary.last_order_at,
        ), customer.pk
    assert Customer.objects.get(pk=lonely.pk).orders_count == 0
