"""Order spreadsheets and the workflow: status exported; an import starts new orders as placed
only, never moves an existing one, and leaves a dispatched order's lines alone."""

from decimal import Decimal

import pytest

from apps.orders.models import Order, OrderEvent
from apps.orders.resources import OrderResource, OrderSheet, order_import_rows
from apps.orders.timeline import order_timeline
from apps.spreadsheets.readers import Table
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "uuid,customer_uuid,item_name,item_size,quantity,status"


def table(header: str, *rows: str) -> Table:
    return Table.from_rows(header.split(","), [r.split(",") for r in rows])


def _errors(report):
    return [(e.row, e.column, e.message) for e in report.errors]


def test_export_has_the_status_column():
    OrderFactory(status="dispatched")
    dataset = OrderResource().export(Order.objects.all())
    header = list(dataset.headers)
    assert header[header.index("total") + 1] == "status"
    assert dataset.dict[0]["status"] == "dispatched"


@pytest.mark.parametrize("status", ["placed", "confirmed", "dispatched", "delivered", "cancelled"])
def test_exported_orders_import_back_unchanged_whatever_their_status(status):
    OrderFactory(status=status)
    result = OrderResource().import_data(OrderResource().export(Order.objects.all()), dry_run=True)
    assert not result.has_validation_errors()
    assert result.totals["skip"] == 1


@pytest.mark.parametrize("cell", ["", "placed", " PLACED "])
def test_new_orders_may_say_placed_or_nothing(cell):
    customer = CustomerFactory()
    ItemFactory(name="Cap", size="S", price=Decimal("5"))
    user = UserFactory()
    report = order_import_rows(
        table=table(HEADER, f",{customer.uuid},Cap,S,2,{cell}"),
        actor=user,
        file_name="june.csv",
    )
    assert _errors(report) == [] and report.written
    order = Order.objects.get()
    assert (order.status, order.status_changed_at) == ("placed", None)
    # No event row per imported order (the import stays a bulk write): the audit history
    # record written with it is its creation on the timeline, with the file and the importer.
    assert not OrderEvent.objects.exists()
    [created] = order_timeline(order=order).entries
    assert (created.kind, created.actor, created.channel) == ("created", user.username, "import")
    assert created.summary == "Order created through a spreadsheet import (june.csv)"


@pytest.mark.parametrize("cell", ["confirmed", "delivered", "cancelled", "lost"])
def test_new_orders_in_another_status_are_row_errors(cell):
    customer = CustomerFactory()
    ItemFactory(name="Cap", size="S")
    report = order_import_rows(
        table=table(HEADER, f",{customer.uuid},Cap,S,1,placed", f",{customer.uuid},Cap,S,1,{cell}")
    )
    assert not report.written and Order.objects.count() == 0
    [(row, column, message)] = _errors(report)
    assert (row, column) == (3, "status")
    if cell == "lost":
        assert message == (
            "unknown status “lost”: use one of placed, confirmed, dispatched, delivered, cancelled"
        )
    else:
        assert message == (
            f"a new order starts as placed, not {cell}: later statuses are reached through the "
            "order's actions"
        )


def test_an_import_never_moves_an_existing_order():
    order = OrderFactory(status="confirmed", item=ItemFactory(name="Cap", size="S"))
    report = order_import_rows(
        table=table(HEADER, f"{order.uuid},{order.customer.uuid},Cap,S,1,delivered")
    )
    assert _errors(report) == [
        (
            2,
            "status",
            "an import does not change an order's status (this order is confirmed, the file "
            "says delivered): use the order's actions",
        )
    ]
    assert Order.objects.get(pk=order.pk).status == "confirmed"


@pytest.mark.parametrize("status", ["dispatched", "delivered", "cancelled"])
def test_locked_orders_keep_their_lines(status):
    cap = ItemFactory(name="Cap", size="S")
    order = OrderFactory(status=status, item=cap, quantity=1)
    other = CustomerFactory()
    for cells in (
        f"{order.uuid},{order.customer.uuid},Cap,S,5,{status}",  # quantity
        f"{order.uuid},{other.uuid},Cap,S,1,",  # customer, no status cell
    ):
        report = order_import_rows(table=table(HEADER, cells))
        [(row, column, message)] = _errors(report)
        assert (row, column) == (2, "")
        assert message.startswith(f"Order {order.number} is {status}:")
    stored = Order.objects.get(pk=order.pk)
    assert (stored.quantity, stored.customer_id) == (1, order.customer_id)
    # Unchanged rows of locked orders are fine (an exported file imports back).
    report = order_import_rows(table=table(HEADER, f"{order.uuid},{order.customer.uuid},Cap,S,1,"))
    assert _errors(report) == [] and report.unchanged == 1


def test_open_orders_still_change_by_import():
    cap = ItemFactory(name="Cap", size="S", price=Decimal("4"))
    order = OrderFactory(status="confirmed", item=cap, quantity=1)
    report = order_import_rows(
        table=table(HEADER, f"{order.uuid},{order.customer.uuid},Cap,S,3,confirmed")
    )
    assert _errors(report) == [] and report.updated == 1
    stored = Order.objects.get(pk=order.pk)
    assert (stored.quantity, stored.status) == (3, "confirmed")


def test_status_is_in_the_preview_and_the_sheet_reads_it_as_state():
    assert "status" in OrderSheet.read_for_rules
    assert "status" not in OrderSheet.updatable
    customer = CustomerFactory()
    ItemFactory(name="Cap", size="S")
    report = order_import_rows(table=table(HEADER, f",{customer.uuid},Cap,S,1,"), dry_run=True)
    assert "status" in report.columns
