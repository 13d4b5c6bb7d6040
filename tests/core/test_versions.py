"""Versions: every service write bumps them in one UPDATE, conditionally on the base version."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from apps.core.errors import StaleVersionError
from apps.customers.services import customer_delete, customer_update
from apps.items.models import Item
from apps.items.resources import item_import_rows
from apps.items.services import item_delete, item_update
from apps.orders.models import Order
from apps.orders.services import order_create, order_delete, order_update
from apps.spreadsheets.engine import PreviewOutdatedError
from apps.spreadsheets.readers import Table
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_creation_starts_at_version_one_and_each_update_adds_one():
    order = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    assert order.version == 1
    order_update(order=order, data={"quantity": 2})
    assert order.version == 2
    order_update(order=order, data={"quantity": 3})
    order.refresh_from_db()
    assert (order.version, order.quantity) == (3, 3)
    assert list(order.history.order_by("history_id").values_list("version", "quantity")) == [
        (1, 1),
        (2, 2),
        (3, 3),
    ]


def test_an_update_that_changes_nothing_writes_nothing(django_assert_num_queries):
    item = ItemFactory(name="Tee", price=Decimal("10.00"))
    with django_assert_num_queries(2):  # savepoint in, savepoint out: no UPDATE
        item_update(item=item, data={"name": "Tee", "price": "10.00"})
    item.refresh_from_db()
    assert item.version == 1


def test_the_update_is_one_conditional_statement():
    customer = CustomerFactory()
    with CaptureQueriesContext(connection) as ctx:
        customer_update(customer=customer, data={"first_name": "Zawadi"}, expected_version=1)
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"version" = ' in updates[0] and "WHERE" in updates[0]
    assert updates[0].count('"version"') == 2  # SET version = 2 … WHERE … version = 1
    assert customer.version == 2


@pytest.mark.parametrize(
    ("make", "update"),
    [
        (
            CustomerFactory,
            lambda o, v: customer_update(customer=o, data={"first_name": "X"}, expected_version=v),
        ),
        (ItemFactory, lambda o, v: item_update(item=o, data={"price": "1.00"}, expected_version=v)),
        (
            OrderFactory,
            lambda o, v: order_update(order=o, data={"quantity": 9}, expected_version=v),
        ),
    ],
    ids=["customer", "item", "order"],
)
def test_a_stale_base_version_is_refused_and_writes_nothing(make, update):
    obj = make()
    stale = type(obj).objects.get(pk=obj.pk)
    update(type(obj).objects.get(pk=obj.pk), 1)  # someone else's write: version 2
    with pytest.raises(StaleVersionError) as refused:
        update(stale, 1)
    assert refused.value.code == "precondition_failed"
    assert (refused.value.expected_version, refused.value.current_version) == (1, 2)
    assert "was changed by someone else (version 1 → 2)" in refused.value.message
    obj.refresh_from_db()
    assert obj.version == 2
    assert obj.history.count() == 2


def test_an_empty_change_on_a_stale_base_is_refused_too():
    order = OrderFactory(quantity=1)
    Order.objects.filter(pk=order.pk).update(version=5)
    order.refresh_from_db()
    with pytest.raises(StaleVersionError):
        order_update(order=order, data={"quantity": 1}, expected_version=4)
    order_update(order=order, data={"quantity": 1}, expected_version=5)  # current: fine


@pytest.mark.parametrize(
    ("make", "delete"),
    [
        (CustomerFactory, lambda o, v: customer_delete(customer=o, expected_version=v)),
        (ItemFactory, lambda o, v: item_delete(item=o, expected_version=v)),
        (OrderFactory, lambda o, v: order_delete(order=o, expected_version=v)),
    ],
    ids=["customer", "item", "order"],
)
def test_deletes_are_conditional_on_the_base_version(make, delete):
    obj = make()
    type(obj).objects.filter(pk=obj.pk).update(version=2)
    with pytest.raises(StaleVersionError):
        delete(obj, 1)
    assert type(obj).objects.filter(pk=obj.pk).exists()
    delete(obj, 2)
    assert not type(obj).objects.filter(pk=obj.pk).exists()


def test_a_gone_row_is_reported_as_deleted():
    order = OrderFactory()
    Order.objects.filter(pk=order.pk)._raw_delete(Order.objects.db)
    with pytest.raises(StaleVersionError) as refused:
        order_update(order=order, data={"quantity": 4}, expected_version=1)
    assert refused.value.current_version is None
    assert "was deleted by someone else" in refused.value.message
    with pytest.raises(Order.DoesNotExist):
        order_update(order=order, data={"quantity": 5})


def test_the_history_records_who_and_the_path_as_for_a_save():
    user = UserFactory()
    item = ItemFactory()
    received = []

    def receiver(sender, instance, created, update_fields, **kwargs):
        received.append((sender, instance.pk, created, update_fields))

    post_save.connect(receiver, sender=Item)
    try:
        item_update(
            item=item, data={"name": "Renamed"}, actor=user, channel="admin", expected_version=1
        )
    finally:
        post_save.disconnect(receiver, sender=Item)
    assert received == [(Item, item.pk, False, frozenset({"name", "date_modified"}))]
    record = item.history.latest("history_id")
    assert (record.history_type, record.name, record.version, record.history_user_id) == (
        "~",
        "Renamed",
        2,
        user.pk,
    )
    assert record.history_channel == "admin"


def test_a_spreadsheet_import_that_updates_a_row_bumps_its_version_and_records_it():
    item = ItemFactory(name="Tee", size="M", price=Decimal("10.00"))
    other = ItemFactory(name="Cap", size="S", price=Decimal("5.00"))
    table = Table.from_rows(
        ["uuid", "name", "size", "price"],
        [[str(item.uuid), "Tee", "M", "12.00"], [str(other.uuid), "Cap", "S", "5.00"]],
    )
    report = item_import_rows(table=table)
    assert (report.written, report.updated, report.unchanged) == (True, 1, 1)
    item.refresh_from_db()
    other.refresh_from_db()
    assert (item.price, item.version) == (Decimal("12.00"), 2)
    assert other.version == 1  # unchanged rows are not written
    assert item.history.latest("history_id").version == 2


def test_an_edit_between_preview_and_confirm_outdates_the_preview_even_on_other_fields():
    item = ItemFactory(name="Tee", size="M", price=Decimal("10.00"))
    table = Table.from_rows(["uuid", "name", "size", "price"], [[str(item.uuid), "Tee", "M", "12"]])
    preview = item_import_rows(table=table, dry_run=True)
    assert (preview.written, preview.updated) == (False, 1)
    # Someone renames the item meanwhile: a field the file does not change, but the row the
    # preview showed is not the row the import would write any more.
    item_update(item=item, data={"name": "Tee shirt"})
    with pytest.raises(PreviewOutdatedError):
        item_import_rows(
            table=Table.from_rows(
                ["uuid", "name", "size", "price"], [[str(item.uuid), "Tee", "M", "12"]]
            ),
            expected_digests=preview.digests,
        )
    item.refresh_from_db()
    assert (item.name, item.price, item.version) == ("Tee shirt", Decimal("10.00"), 2)


@pytest.mark.parametrize("model_factory", [ItemFactory, CustomerFactory, OrderFactory])
def test_the_writer_refuses_rows_changed_after_the_engine_read_them(model_factory):
    """Between the engine's read of a batch and its UPDATE another writer may commit: the
    conditional update (PostgreSQL) or the re-check in the transaction (SQLite) refuses it."""
    from django.utils import timezone

    from apps.spreadsheets.engine import writer_for
    from apps.spreadsheets.writers import ConcurrentChangeError, History

    row = model_factory()
    model = type(row)
    read_version = row.version
    fresh = model_factory()  # changed by nobody: its update alone would succeed
    model.objects.filter(pk=row.pk).update(version=read_version + 1)  # someone else's write
    field = {"Item": "name", "Customer": "first_name", "Order": "quantity"}[model.__name__]
    value = 7 if field == "quantity" else "Imported"
    writer = writer_for(
        model, history=History(None, channel="import", file_name="race.csv"), now=timezone.now()
    )
    with pytest.raises(ConcurrentChangeError) as caught, transaction.atomic():
        writer.update(
            [(fresh.pk, {field: value}, fresh.version), (row.pk, {field: value}, read_version)]
        )
    assert caught.value.count == 1
    row.refresh_from_db()
    fresh.refresh_from_db()
    assert getattr(row, field) != value and row.version == read_version + 1
    assert getattr(fresh, field) != value and fresh.version == 1  # the whole batch rolled back
    # The same update based on the current version goes through and bumps it.
    with transaction.atomic():
        writer.update([(row.pk, {field: value}, read_version + 1)])
    row.refresh_from_db()
    assert (getattr(row, field), row.version) == (value, read_version + 2)
    assert row.history.latest("history_id").version == read_version + 2


def test_an_import_that_loses_the_race_in_its_batch_writes_nothing_and_asks_for_a_new_preview(
    monkeypatch,
):
    """The engine's own path: the row is read, then another writer commits before the UPDATE."""
    from apps.items.resources import ItemSheet

    item = ItemFactory(name="Tee", size="M", price=Decimal("10.00"))
    new_row = ["", "Cap", "S", "5.00"]
    rules = ItemSheet.row_rules

    def meanwhile(self, row, *, options):  # runs after the batch's read, before its write
        Item.objects.filter(pk=item.pk).update(price=Decimal("11.00"), version=5)
        rules(self, row, options=options)

    monkeypatch.setattr(ItemSheet, "row_rules", meanwhile)
    table = Table.from_rows(
        ["uuid", "name", "size", "price"], [[str(item.uuid), "Tee", "M", "12.00"], new_row]
    )
    with pytest.raises(PreviewOutdatedError, match="changed by someone else while it was"):
        item_import_rows(table=table)
    item.refresh_from_db()
    assert (item.price, item.version) == (Decimal("10.00"), 1)  # rolled back with the import
    assert not Item.objects.filter(name="Cap").exists()
