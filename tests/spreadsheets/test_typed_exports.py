"""Typed exports: XLSX dates are date cells in the configured time zone, money has a number
format, integers are integers; every export's file name is dated in the configured time zone."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from apps.spreadsheets.jobs.files import export_file_name
from tests.factories import ItemFactory, OrderFactory

from .conftest import export, export_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    created = dt.datetime(2026, 12, 6, 23, 2, 0, 866981, tzinfo=dt.UTC)  # 02:02 on the 7th, Nairobi
    item = ItemFactory(name="Hoodie", size="XL", price=Decimal("2400.00"))
    return OrderFactory(item=item, quantity=3, date_created=created)


def test_xlsx_dates_are_date_cells_in_the_configured_zone_and_money_is_formatted(
    importer_client, order
):
    sheet = load_workbook(io.BytesIO(export(importer_client, "order", 1))).active
    header = [c.value for c in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    created = row["date_created"]
    assert created.is_date and created.number_format == "yyyy-mm-dd hh:mm:ss"
    assert abs(created.value - dt.datetime(2026, 12, 7, 2, 2, 0, 866981)) < dt.timedelta(
        milliseconds=1
    )
    for money in ("unit_price", "total"):
        assert row[money].data_type == "n" and row[money].number_format == "#,##0.00"
    assert (row["unit_price"].value, row["total"].value) == (2400, 7200)
    assert row["quantity"].value == 3 and isinstance(row["quantity"].value, int)
    assert row["quantity"].number_format == "General"
    assert row["customer_phone"].data_type == "s"  # text stays text: no number, no formula


def test_csv_datetimes_are_iso_text_with_the_zone(importer_client, order):
    content = export(importer_client, "order", 0).decode("utf-8-sig")
    assert "2026-12-07T02:02:00.866981+03:00" in content


def test_file_names_are_dated_in_the_configured_time_zone():
    at = dt.datetime(2026, 12, 6, 23, 2, 1, tzinfo=dt.UTC)
    assert export_file_name("orders", "csv", at=at) == "orders-2026-12-07-020201.csv"
    with override_settings(TIME_ZONE="UTC"):
        assert export_file_name("orders", "csv", at=at) == "orders-2026-12-06-230201.csv"


def _zone_on_another_day() -> str:
    """A time zone whose date differs from UTC's right now (so a name dated in UTC is wrong)."""
    return "Etc/GMT-14" if timezone.now().hour >= 12 else "Etc/GMT+12"


@pytest.mark.parametrize("file_format", [0, 1])
def test_an_export_is_named_after_the_configured_zones_date(importer_client, order, file_format):
    zone = _zone_on_another_day()
    with override_settings(TIME_ZONE=zone):
        response = importer_client.post(
            export_url("order"), {"resource": "0", "format": str(file_format)}
        )
        if response.status_code == 302:
            job_page = importer_client.get(response["Location"])
            name = job_page.context["job"].file_name
        else:
            name = re.search(r'filename="([^"]+)"', response["Content-Disposition"]).group(1)
        local_day = timezone.localdate().isoformat()
    assert local_day != timezone.now().date().isoformat()
    assert name.startswith(f"orders-{local_day}-"), name
