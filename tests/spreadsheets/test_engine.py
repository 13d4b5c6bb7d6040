"""The import services: matching, idempotence, business rules, bulk query counts."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from apps.customers.models import Customer
from apps.customers.resources import customer_import_rows
from apps.items.models import Item
from apps.items.resources import item_import_rows
from apps.orders.models import Order
from apps.orders.resources import order_import_rows
from apps.spreadsheets.formulas import escape_formula, unescape_formula
from apps.spreadsheets.limits import ImportFileError
from apps.spreadsheets.readers import Table
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def table(header: str, *rows: str) -> Table:
    return Table.from_rows(header.split(","), [r.split(",") for r in rows])


def test_customers_update_by_phone_when_uuid_is_blank():
    customer = CustomerFactory(first_name="Old", phone_number="+254711000001")
    report = customer_import_rows(
        table=table("uuid,first_name,last_name,phone_number", ",New,Last,0711000001")
    )
    assert (report.new, report.updated, report.written) == (0, 1, True)
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name) == ("New", "Last")


def test_customers_update_by_uuid_can_change_the_phone():
    customer = CustomerFactory(phone_number="+254711000001")
    report = customer_import_rows(
        table=table(
            "uuid,first_name,last_name,phone_number",
            f"{customer.uuid},A,B,+254711000099",
        )
    )
    assert report.updated == 1
    customer.refresh_from_db()
    assert str(customer.phone_number) == "+254711000099"


def test_customer_phone_of_another_customer_is_refused():
    CustomerFactory(phone_number="+254711000001")
    report = customer_import_rows(
        table=table("uuid,first_name,last_name,phone_number", f"{uuid.uuid4()},A,B,+254711000001")
    )
    assert report.errors[0].row == 2
    assert report.errors[0].message.startswith("phone number +254711000001 belongs to another")
    assert not report.written


def test_duplicate_rows_in_one_file_are_invalid():
    report = customer_import_rows(
        table=table("first_name,last_name,phone_number", "A,B,+254711000001", "C,D,0711000001")
    )
    assert [(e.row, e.message) for e in report.errors] == [
        (3, "phone number +254711000001 is also on row 2")
    ]
    assert Customer.objects.count() == 0


def test_items_update_by_name_and_size_and_reimport_skips():
    item = ItemFactory(name="Shirt", size="M", price=Decimal("10.00"))
    rows = table("name,size,price", "Shirt,m,12.50", "Shirt,L,15")
    first = item_import_rows(table=rows)
    assert (first.new, first.updated, first.unchanged) == (1, 1, 0)
    item.refresh_from_db()
    assert item.price == Decimal("12.50")
    modified = item.date_modified
    again = item_import_rows(table=rows)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    item.refresh_from_db()
    assert item.date_modified == modified
    assert Item.objects.count() == 2


def test_item_negative_price_is_invalid():
    report = item_import_rows(table=table("name,size,price", "Shirt,M,-1"))
    assert [(e.column, e.message) for e in report.errors] == [("price", "price cannot be negative")]


def test_orders_reimport_with_uuids_is_idempotent():
    customer = CustomerFactory()
    item = ItemFactory(name="Shirt", size="M", price=Decimal("100.00"))
    rows = table(
        "uuid,customer_uuid,item_uuid,quantity",
        f"{uuid.uuid4()},{customer.uuid},{item.uuid},2",
        f"{uuid.uuid4()},{customer.uuid},{item.uuid},3",
    )
    assert order_import_rows(table=rows).new == 2
    again = order_import_rows(table=rows)
    assert (again.new, again.updated, again.unchanged, again.written) == (0, 0, 2, True)
    assert Order.objects.count() == 2


def test_order_update_follows_the_price_rules():
    old_item = ItemFactory(price=Decimal("10.00"))
    new_item = ItemFactory(price=Decimal("99.00"))
    kept = OrderFactory(item=old_item, quantity=1)
    moved = OrderFactory(item=old_item, quantity=1)
    Item.objects.filter(pk=old_item.pk).update(price=Decimal("50.00"))
    report = order_import_rows(
        table=table(
            "uuid,customer_uuid,item_uuid,quantity",
            f"{kept.uuid},{kept.customer.uuid},{old_item.uuid},5",
            f"{moved.uuid},{moved.customer.uuid},{new_item.uuid},1",
        )
    )
    assert report.updated == 2
    kept.refresh_from_db()
    moved.refresh_from_db()
    # A new quantity keeps the price the order was made at; a new item brings its price.
    assert (kept.quantity, kept.unit_price) == (5, Decimal("10.00"))
    assert (moved.item_id, moved.unit_price) == (new_item.pk, Decimal("99.00"))


def test_new_orders_copy_the_item_price_and_keep_date_created():
    customer = CustomerFactory()
    ItemFactory(name="Cap", size="S", price=Decimal("7.25"))
    order_import_rows(
        table=table(
            "customer_uuid,item_name,item_size,quantity,date_created",
            f"{customer.uuid},Cap,S,4,2025-01-15T10:30:00+03:00",
        )
    )
    order = Order.objects.get()
    assert order.unit_price == Decimal("7.25")
    assert order.date_created.isoformat() == "2025-01-15T07:30:00+00:00"


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ("x,Cap,S,1", "customer_uuid", "“x” is not a valid uuid"),
        ("{c},Cap,S,abc", "quantity", "quantity must be a whole number"),
        ("{c},Cap,S,0", "quantity", "quantity must be at least 1"),
        ("{c},Cap,S,99999999999", "quantity", "quantity is too large"),
        ("{c},Cap,XL,1", "item_name", "no item Cap in size XL"),
        ("{c},,,1", "item_name", "item is required (uuid, or name and size)"),
        (
            f"{uuid.UUID(int=1)},Cap,S,1",
            "customer_uuid",
            f"no customer with uuid {uuid.UUID(int=1)}",
        ),
    ],
)
def test_invalid_order_rows_write_nothing(cells, column, message):
    customer = CustomerFactory()
    ItemFactory(name="Cap", size="S")
    good = f"{customer.uuid},Cap,S,1"
    report = order_import_rows(
        table=table(
            "customer_uuid,item_name,item_size,quantity", good, cells.format(c=customer.uuid)
        )
    )
    assert [(e.row, e.column, e.message) for e in report.errors] == [(3, column, message)]
    assert (report.new, report.written) == (1, False)
    assert Order.objects.count() == 0


def test_missing_columns_raise_a_file_error():
    with pytest.raises(ImportFileError, match="missing required column: quantity"):
        order_import_rows(table=table("customer_uuid,item_uuid", "a,b"))


def _order_rows(customers, items, n):
    return Table.from_rows(
        ["customer_phone", "item_name", "item_size", "quantity"],
        [
            [str(customers[i % len(customers)].phone_number), items[i % len(items)].name, "M", "1"]
            for i in range(n)
        ],
    )


@pytest.mark.parametrize("n", [1000, 2000])
def test_order_import_query_count_is_bounded_by_batches(django_assert_max_num_queries, n):
    customers = CustomerFactory.create_batch(50)
    items = ItemFactory.create_batch(10)
    rows = _order_rows(customers, items, n)
    # Lookups, savepoints, the ids drawn from the sequence and two COPYs (orders, their
    # history) on PostgreSQL; elsewhere INSERTs (orders, then their history) in batches that
    # SQLite caps at 999 parameters (a few dozen rows each); per batch of 5,000 rows, the numbers
    # drawn and the customers' order figures (their ids, lock, one UPDATE). Never one query per
    # row.
    limit = 12 if connection.vendor == "postgresql" else 14 + n // 30
    with django_assert_max_num_queries(limit):
        report = order_import_rows(table=rows)
    assert (report.new, report.written) == (n, True)
    assert Order.objects.count() == n


def test_each_new_order_gets_one_creation_record_equal_to_the_stored_row():
    """On PostgreSQL the rows and their records go in by two COPYs of the same lines: each
    record must name its order (id) and hold exactly the values stored."""
    user = UserFactory()
    customers = CustomerFactory.create_batch(5)
    items = ItemFactory.create_batch(3)
    before = OrderFactory()  # an id taken before: the drawn ids must not collide
    report = order_import_rows(
        table=_order_rows(customers, items, 40), actor=user, file_name="x.csv"
    )
    assert (report.new, report.written) == (40, True)
    historical = Order.history.model
    tracked = [
        f.attname for f in historical._meta.concrete_fields if not f.name.startswith("history_")
    ]
    imported = Order.objects.exclude(pk=before.pk)
    assert historical.objects.filter(id__in=imported.values("pk")).count() == 40
    for order in imported:
        record = historical.objects.get(id=order.pk)
        assert {n: getattr(record, n) for n in tracked} == {n: getattr(order, n) for n in tracked}
        assert (
            record.history_type,
            record.history_user_id,
            record.history_channel,
            record.history_change_reason,
        ) == ("+", user.pk, "import", "x.csv")
    # The sequence moved past the drawn ids: the next order made elsewhere gets a fresh one.
    highest = max(imported.values_list("pk", flat=True))
    assert OrderFactory().pk > highest


def test_dry_run_writes_nothing(django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(5)
    items = ItemFactory.create_batch(2)
    with django_assert_max_num_queries(3):
        report = order_import_rows(table=_order_rows(customers, items, 500), dry_run=True)
    assert (report.new, report.written) == (500, False)
    assert Order.objects.count() == 0


@override_settings(IMPORT_PREVIEW_ROWS=5)
def test_preview_keeps_only_the_first_rows_but_counts_all():
    customers = CustomerFactory.create_batch(3)
    items = ItemFactory.create_batch(2)
    report = order_import_rows(table=_order_rows(customers, items, 40), dry_run=True)
    assert (report.new, len(report.preview)) == (40, 5)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+254711000001", "'+254711000001"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("plain", "plain"),
        ("'quoted", "''quoted"),
        ("''", "'''"),
    ],
)
def test_formula_escaping_round_trips(raw, escaped):
    assert escape_formula(raw) == escaped
    assert unescape_formula(escape_formula(raw)) == raw


def test_uuid4_texts_are_distinct_version_4_uuids_as_str_gives_them():
    from apps.spreadsheets.copy_writer import uuid4_texts

    texts = uuid4_texts(2000)
    assert len(set(texts)) == 2000
    for text in texts[:200]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    assert uuid4_texts(0) == []
