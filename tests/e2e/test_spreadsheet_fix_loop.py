"""The page's advice is true, in Chromium: download the error file, fix it with openpyxl, upload
it — the totals are exact and nothing is imported twice, under either row policy. The import
page offers no format choice (the file says what it is) and labels a refusal for invalid rows
"rejected", a fault "failed"; exports are typed and dated in the configured time zone."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from apps.orders.models import Order
from apps.spreadsheets.models import JobStatus, SpreadsheetJob
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

HEADER = ["customer_phone", "item_name", "item_size", "quantity", "note"]
GOOD = ["+254711000001", "Hoodie", "XL", 1, "fine"]
BAD_PHONE = ["+254799999999", "Hoodie", "XL", 2, "typo in the phone"]
BAD_QTY = ["+254711000002", "Hoodie", "XL", 0, "no quantity"]
EIGHT = [GOOD, BAD_PHONE, GOOD, BAD_QTY, BAD_PHONE, GOOD, BAD_QTY, BAD_PHONE]


@pytest.fixture
def operator(staff_user):
    for codename in ("import_order", "export_order"):
        staff_user.user_permissions.add(Permission.objects.get(codename=codename))
    CustomerFactory(phone_number="+254711000001")
    CustomerFactory(phone_number="+254711000002")
    ItemFactory(name="Hoodie", size="XL", price=Decimal("2500.00"))
    return staff_user


def _workbook(path, rows) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)


def _upload(page, live_server, path, *, skip: bool = False, screenshot=None) -> None:
    page.goto(f"{live_server.url}/admin/orders/order/import/")
    assert page.locator("select[name=format], input[name=format]").count() == 0
    page.set_input_files("input[type=file]", str(path))
    if skip:
        page.check("input[name=policy][value=skip]")
    if screenshot is not None:
        screenshot(page, "import-page")
    page.click("form:has(input[type=file]) button[type=submit]")
    page.locator("#import-summary").wait_for()


def _fix_with_openpyxl(downloaded, fixed_path, *, keep_valid: bool) -> int:
    """Fix the marked rows as a person would in a spreadsheet program; how many were fixed."""
    book = load_workbook(
        downloaded if isinstance(downloaded, io.BytesIO) else io.BytesIO(downloaded.read_bytes())
    )
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header == [*HEADER, "error"]
    error_at = header.index("error")
    fixed = 0
    for row in sheet.iter_rows(min_row=2):
        if not row[error_at].value:
            assert keep_valid, "only skipped rows are in this file"
            continue
        if row[0].value == "+254799999999":
            row[0].value = "+254711000002"
        if row[3].value == 0:
            row[3].value = 3
        fixed += 1
    book.save(fixed_path)
    return fixed


def test_fix_loop_when_only_a_file_of_valid_rows_may_go_in(
    live_server, watched_page, admin_login, operator, screenshot, tmp_path
):
    page = watched_page
    admin_login(page, operator.username)
    upload = tmp_path / "orders.xlsx"
    _workbook(upload, EIGHT)
    _upload(page, live_server, upload)
    assert page.locator("#job-status").inner_text().lower() == "rejected"
    assert (
        "Rejected: 5 invalid rows: nothing was imported."
        in page.locator("#job-message").inner_text()
    )
    screenshot(page, "import-rejected")
    with page.expect_download() as info:
        page.click("a:has-text('Download the file with the errors marked')")
    fixed_path = tmp_path / "orders-fixed.xlsx"
    assert _fix_with_openpyxl(info.value.path(), fixed_path, keep_valid=True) == 5
    _upload(page, live_server, fixed_path)
    assert "8 rows: 8 new" in page.locator("#import-summary").inner_text()
    page.click("button:has-text('Confirm import')")
    page.wait_for_url(f"{live_server.url}/admin/orders/order/**")
    assert Order.objects.count() == 8
    assert sorted(Order.objects.values_list("quantity", flat=True)) == [1, 1, 1, 2, 2, 2, 3, 3]
    # The same file again: its rows name no order, so the page says it was imported before and
    # asks before creating them twice.
    _upload(page, live_server, fixed_path)
    warning = page.locator("#import-repeat").inner_text()
    assert "This file is identical to orders-fixed.xlsx" in warning
    assert "would create 8 new orders" in warning
    screenshot(page, "import-repeat")
    page.click("button:has-text('Confirm import')")
    page.locator("text=This file was imported before").wait_for()
    assert Order.objects.count() == 8


def test_fix_loop_when_invalid_rows_are_skipped(
    live_server, watched_page, admin_login, operator, screenshot, tmp_path
):
    page = watched_page
    admin_login(page, operator.username)
    upload = tmp_path / "orders.xlsx"
    _workbook(upload, EIGHT)
    _upload(page, live_server, upload, skip=True, screenshot=screenshot)
    policies = page.locator("#import-policies").inner_text()
    assert "the 3 valid rows" in policies and "3, 5, 6, 8, 9" in policies
    screenshot(page, "import-skip-preview")
    with page.expect_download() as info:
        page.click("a:has-text('Download the skipped rows with their errors')")
    skipped = info.value.path().read_bytes()
    page.click("button:has-text('Confirm import')")
    page.locator("#job-status", has_text="Succeeded").wait_for()
    assert "5 invalid rows skipped" in page.locator("#job-message").inner_text()
    assert Order.objects.count() == 3
    fixed_path = tmp_path / "orders-skipped-fixed.xlsx"
    assert _fix_with_openpyxl(io.BytesIO(skipped), fixed_path, keep_valid=False) == 5
    _upload(page, live_server, fixed_path)
    assert "5 rows: 5 new" in page.locator("#import-summary").inner_text()
    page.click("button:has-text('Confirm import')")
    page.wait_for_url(f"{live_server.url}/admin/orders/order/**")
    assert Order.objects.count() == 8
    assert sorted(Order.objects.values_list("quantity", flat=True)) == [1, 1, 1, 2, 2, 2, 3, 3]


def test_rejected_for_invalid_rows_and_failed_for_a_fault(
    live_server, watched_page, admin_login, operator, tmp_path
):
    page = watched_page
    admin_login(page, operator.username)
    upload = tmp_path / "orders.xlsx"
    _workbook(upload, [BAD_PHONE])
    _upload(page, live_server, upload)
    assert page.locator("#job-status").inner_text().lower() == "rejected"
    # A fault: the job's upload is gone when the confirmed write starts.
    good = tmp_path / "good.xlsx"
    _workbook(good, [GOOD])
    _upload(page, live_server, good)
    job = SpreadsheetJob.objects.latest("pk")
    from django.core.files.storage import default_storage

    default_storage.delete(job.stored_file)
    page.click("button:has-text('Confirm import')")
    page.locator("#job-status", has_text="Failed").wait_for()
    assert page.locator("#job-message").inner_text().startswith("Failed: nothing was imported.")
    page.goto(f"{live_server.url}/admin/spreadsheets/spreadsheetjob/")
    statuses = [s.lower() for s in page.locator("#result_list tbody tr").all_inner_texts()]
    assert any("rejected" in s for s in statuses) and any("failed" in s for s in statuses)
    assert Order.objects.count() == 0
    assert {j.status for j in SpreadsheetJob.objects.all()} == {
        JobStatus.REJECTED,
        JobStatus.FAILED,
    }


def test_xlsx_export_is_typed_and_named_for_the_configured_zone(
    live_server, watched_page, admin_login, operator, settings
):
    settings.TIME_ZONE = "Etc/GMT-14" if timezone.now().hour >= 12 else "Etc/GMT+12"
    order = OrderFactory(quantity=3, item=ItemFactory(name="Coat", size="L", price=Decimal("2400")))
    page = watched_page
    admin_login(page, operator.username)
    page.goto(f"{live_server.url}/admin/orders/order/")
    page.click("a:has-text('Export')")
    page.select_option("select[name=format]", label="xlsx")
    page.click("form:has(select[name=format]) button[type=submit]")
    page.locator("#job-status", has_text="Succeeded").wait_for()
    with page.expect_download() as info:
        page.click("a:has-text('Download orders-')")
    local_day = timezone.localdate().isoformat()
    assert local_day != timezone.now().date().isoformat()
    assert info.value.suggested_filename.startswith(f"orders-{local_day}-")
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
    header = [c.value for c in sheet[1]]
    line = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert line["uuid"].value == str(order.uuid)
    assert line["date_created"].is_date
    assert line["date_created"].value.date() == timezone.localtime(order.date_created).date()
    assert line["total"].number_format == "#,##0.00" and line["total"].value == 7200
    assert line["quantity"].value == 3
