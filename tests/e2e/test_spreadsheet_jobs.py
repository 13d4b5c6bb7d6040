"""A big import in the browser with a real worker process: upload → progress → the failing rows
downloaded → the fixed file → preview → confirm → progress → done (PostgreSQL: the worker is
another process and must see the same database)."""

import csv
import io

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from apps.customers.models import Customer
from apps.spreadsheets.models import JobStatus, SpreadsheetJob
from tests.spreadsheets.test_worker_process import start_worker

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.e2e,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the worker process needs the shared test database (PostgreSQL)",
    ),
]


@pytest.fixture
def importer(staff_user):
    for codename in ("import_customer", "export_customer"):
        staff_user.user_permissions.add(Permission.objects.get(codename=codename))
    return staff_user


@pytest.fixture
def worker():
    process = start_worker()
    yield process
    process.terminate()
    process.wait(timeout=30)


def _file(path, rows: int, bad_row: int | None = None) -> None:
    lines = ["first_name,last_name,phone_number"]
    for i in range(rows):
        phone = "not-a-phone" if i == bad_row else f"+2547{i:08d}"
        lines.append(f"F{i},L{i},{phone}")
    path.write_text("\n".join(lines) + "\n")


def test_big_import_through_the_worker(
    live_server, watched_page, admin_login, importer, worker, screenshot, tmp_path, settings
):
    settings.SPREADSHEET_REQUEST_MAX_ROWS = 1  # beyond the first row, the worker checks it
    page = watched_page
    page.set_default_timeout(60_000)
    admin_login(page, importer.username)

    bad = tmp_path / "customers.csv"
    _file(bad, 5_000, bad_row=4_000)
    page.goto(f"{live_server.url}/admin/customers/customer/import/")
    page.set_input_files("input[type=file]", str(bad))
    page.click("form:has(input[type=file]) button[type=submit]")
    page.wait_for_url("**/spreadsheets/spreadsheetjob/**")
    assert page.locator("#job-bar").count() == 1
    screenshot(page, "import-job-progress")
    # The page follows the job by itself and reloads when it has finished checking.
    page.locator("#import-summary").wait_for()
    assert "1 invalid" in page.locator("#import-summary").inner_text()
    assert "4002\tphone_number" in page.locator("#import-errors").inner_text()
    assert "Rejected: 1 invalid row" in page.locator("#job-message").inner_text()
    with page.expect_download() as info:
        page.click("a:has-text('Download the file with the errors marked')")
    marked = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
    assert marked[0] == ["first_name", "last_name", "phone_number", "error"]
    assert len(marked) == 5_001  # the whole file: fixed and uploaded, every row goes in
    assert marked[4_001][:3] == ["F4000", "L4000", "not-a-phone"]
    assert marked[4_001][3].startswith("phone_number: ")
    assert [r[3] for r in marked[1:4_001]] == [""] * 4_000
    assert Customer.objects.count() == 0

    good = tmp_path / "customers-fixed.csv"
    _file(good, 5_000)
    page.goto(f"{live_server.url}/admin/customers/customer/import/")
    page.set_input_files("input[type=file]", str(good))
    page.click("form:has(input[type=file]) button[type=submit]")
    page.wait_for_url("**/spreadsheets/spreadsheetjob/**")
    page.locator("button:has-text('Confirm import')").wait_for()
    assert "5000 new" in page.locator("#import-summary").inner_text()
    screenshot(page, "import-job-preview")
    page.click("button:has-text('Confirm import')")
    page.wait_for_url("**/spreadsheets/spreadsheetjob/**")
    page.locator("#job-status", has_text="Succeeded").wait_for()
    assert "Import finished: 5,000 new" in page.locator("#job-message").inner_text()
    job = SpreadsheetJob.objects.latest("pk")
    assert (job.status, job.new) == (JobStatus.SUCCEEDED, 5_000)
    assert Customer.objects.count() == 5_000
    page.goto(f"{live_server.url}/admin/spreadsheets/spreadsheetjob/")
    assert page.locator("#result_list tbody tr").count() == 2
    screenshot(page, "spreadsheet-jobs")
