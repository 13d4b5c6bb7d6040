"""Import a CSV with a bad row, fix it, confirm; export the filtered order list."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from apps.orders.models import Order
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def spreadsheet_user(staff_user):
    for codename in ("import_order", "export_order"):
        staff_user.user_permissions.add(Permission.objects.get(codename=codename))
    return staff_user


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "uuid",
            "customer_uuid",
            "customer_phone",
            "item_uuid",
            "item_name",
            "item_size",
            "quantity",
            "date_created",
        ]
    )
    writer.writerows(rows)
    return out.getvalue().encode()


def test_import_with_bad_row_then_fixed_file(
    live_server, watched_page, admin_login, spreadsheet_user, screenshot, tmp_path
):
    CustomerFactory(phone_number="+254711000001")
    CustomerFactory(phone_number="+254711000002")
    ItemFactory(name="Hoodie", size="XL", price=Decimal("2500.00"))
    bad = tmp_path / "orders.csv"
    bad.write_bytes(
        _csv(
            [
                ["", "", "+254711000001", "", "Hoodie", "XL", "2", ""],
                ["", "", "+254799999999", "", "Hoodie", "XL", "1", ""],
            ]
        )
    )
    page = watched_page
    admin_login(page, spreadsheet_user.username)
    page.goto(f"{live_server.url}/admin/orders/order/")
    page.click("a:has-text('Import')")
    page.set_input_files("input[type=file]", str(bad))
    page.click("form:has(input[type=file]) button[type=submit]")
    summary = page.locator("#import-summary")
    summary.wait_for()
    assert "1 invalid" in summary.inner_text()
    assert page.locator("text=no customer with phone +254799999999").count() >= 1
    screenshot(page, "import-preview")
    assert Order.objects.count() == 0

    good = tmp_path / "orders-fixed.csv"
    good.write_bytes(
        _csv(
            [
                ["", "", "+254711000001", "", "Hoodie", "XL", "2", ""],
                ["", "", "+254711000002", "", "Hoodie", "XL", "1", ""],
            ]
        )
    )
    page.goto(f"{live_server.url}/admin/orders/order/import/")
    page.set_input_files("input[type=file]", str(good))
    page.click("form:has(input[type=file]) button[type=submit]")
    page.locator("#import-summary").wait_for()
    assert "2 new" in page.locator("#import-summary").inner_text()
    page.click("button:has-text('Confirm import')")
    page.wait_for_url(f"{live_server.url}/admin/orders/order/**")
    assert Order.objects.count() == 2
    assert page.locator("#result_list tbody tr", has_text="Hoodie (XL)").count() == 2


def test_export_filtered_orders(live_server, watched_page, admin_login, spreadsheet_user):
    small = ItemFactory(name="Tee", size="S", price=Decimal("10.00"))
    large = ItemFactory(name="Coat", size="XL", price=Decimal("99.50"))
    OrderFactory(item=small, quantity=1)
    wanted = OrderFactory(item=large, quantity=2)
    page = watched_page
    admin_login(page, spreadsheet_user.username)
    page.goto(f"{live_server.url}/admin/orders/order/?item__size__exact=XL")
    page.click("a:has-text('Export')")
    page.select_option("select[name=format]", label="csv")
    with page.expect_download() as info:
        page.click("form:has(select[name=format]) button[type=submit]")
    content = info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["uuid"] for r in rows] == [str(wanted.uuid)]
    assert Decimal(rows[0]["total"]) == Decimal("199.00")
