"""The import-export resources' public API: what ``export()`` gives, ``import_data()`` takes back.

For each model, ``Resource().export(queryset)`` has the admin export's columns and values, and
feeding it (as a dataset, or written to CSV or XLSX and read back by import-export's own formats)
to ``Resource().import_data(dataset, dry_run=True)`` reports every row unchanged.
"""

import csv
import re
from decimal import Decimal

import pytest
from import_export.formats.base_formats import CSV, XLSX

from apps.customers.models import Customer
from apps.customers.resources import CustomerResource
from apps.items.models import Item
from apps.items.resources import ItemResource
from apps.orders.models import Order
from apps.orders.resources import OrderResource
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

from .conftest import export

pytestmark = pytest.mark.django_db

RESOURCES = {
    "customer": (CustomerResource, Customer),
    "item": (ItemResource, Item),
    "order": (OrderResource, Order),
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def data():
    OrderFactory.create_batch(3, item=ItemFactory(price=Decimal("19.99")), quantity=2)
    ItemFactory(name="=SUM(A1)", size="L", price=Decimal("0.50"))
    CustomerFactory(first_name="@admin", last_name="-minus")


def _through(file_format, dataset):
    """The dataset written to a file and read back with django-import-export's own format."""
    fmt = file_format()
    exported = fmt.export_data(dataset)
    return fmt.create_dataset(exported)


@pytest.mark.parametrize("model", RESOURCES)
@pytest.mark.parametrize("file_format", [None, CSV, XLSX], ids=["dataset", "csv", "xlsx"])
def test_export_imports_back_unchanged(data, model, file_format):
    resource_class, model_class = RESOURCES[model]
    dataset = resource_class().export(model_class.objects.all())
    assert len(dataset) == model_class.objects.count() > 0
    if file_format is not None:
        dataset = _through(file_format, dataset)
    result = resource_class().import_data(dataset, dry_run=True)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == model_class.objects.count()
    assert result.totals["new"] == result.totals["update"] == result.totals["invalid"] == 0


@pytest.mark.parametrize("model", RESOURCES)
def test_resource_export_matches_the_admin_export(data, model, importer_client):
    resource_class, model_class = RESOURCES[model]
    dataset = resource_class().export(model_class.objects.order_by("pk"))
    admin_csv = export(importer_client, model, 0).decode("utf-8-sig").splitlines()
    assert admin_csv[0].split(",") == list(dataset.headers)
    # The same rows and values (the admin export follows the list's ordering).
    as_text = {tuple("" if v is None else str(v) for v in row) for row in dataset}
    assert {tuple(next(csv.reader([line]))) for line in admin_csv[1:]} == as_text
    for column in ("uuid", "customer_uuid", "item_uuid"):
        if column in dataset.headers:
            assert all(UUID.match(str(v)) for v in dataset[column]), column


def test_uuids_have_dashes_in_every_export(data, importer_client):
    text = export(importer_client, "order", 0).decode("utf-8-sig")
    first = text.splitlines()[1].split(",")
    assert UUID.match(first[0]) and UUID.match(first[3]) and UUID.match(first[6])


def test_import_data_reports_changes_and_writes_only_when_asked(data):
    dataset = ItemResource().export(Item.objects.filter(name="=SUM(A1)"))
    dataset[0] = (dataset[0][0], "Renamed", "L", Decimal("0.75"), dataset[0][4])
    preview = ItemResource().import_data(dataset, dry_run=True)
    assert preview.totals["update"] == 1
    assert Item.objects.filter(name="Renamed").count() == 0
    done = ItemResource().import_data(dataset, dry_run=False)
    assert done.totals["update"] == 1
    assert Item.objects.get(name="Renamed").price == Decimal("0.75")


def test_import_data_reports_a_file_error_as_a_base_error(db):
    import tablib

    result = CustomerResource().import_data(tablib.Dataset(headers=["first_name"]), dry_run=True)
    assert result.has_errors()
    assert "missing required columns" in str(result.base_errors[0].error)
