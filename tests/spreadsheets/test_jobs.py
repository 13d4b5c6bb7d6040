"""Spreadsheet jobs in the admin: big files go to the worker, progress, confirm once, cancel,
error reports, downloads that expire, jobs of dead workers, who sees what.

These tests commit for real (the worker reads what the request wrote) and run django-tasks-db's
worker in this process; ``test_worker_process.py`` runs a real ``db_worker`` process."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.customers.models import Customer
from apps.spreadsheets.jobs.sweep import jobs_sweep
from apps.spreadsheets.models import JobStatus, SpreadsheetJob
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import ItemFactory, OrderFactory, UserFactory
from tests.notifications.conftest import run_worker

from .conftest import IMPORT_EXPORT_PERMS, csv_file, export_url, import_url, xlsx_file

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ROWS = "".join(f"F{i},L{i},+2547110{i:05d}\n" for i in range(40))
HEADER = "first_name,last_name,phone_number\n"


def _messages(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def _job(response) -> SpreadsheetJob:
    assert response.status_code == 302, response.content[:300]
    assert "/spreadsheets/spreadsheetjob/" in response["Location"]
    return SpreadsheetJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-2]))


def _page(client, job):
    return client.get(reverse("admin:spreadsheets_spreadsheetjob_change", args=[job.pk]))


@pytest.fixture
def importer_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS + IMPORT_EXPORT_PERMS))
    return client


@override_settings(SPREADSHEET_REQUEST_MAX_ROWS=1)
def test_a_big_file_is_checked_and_written_by_the_worker(importer_client):
    response = importer_client.post(
        import_url("customer"),
        {"resource": "0", "format": "0", "import_file": csv_file(HEADER + ROWS, "people.csv")},
    )
    job = _job(response)
    assert (job.status, job.phase) == (JobStatus.QUEUED, "check")
    page = _page(importer_client, job)
    assert page.context["active"] and 'data-progress-url="' in page.content.decode()
    assert "job-progress.js" in page.content.decode()
    progress = importer_client.get(reverse("admin:spreadsheets_job_progress", args=[job.pk]))
    assert progress.json()["status"] == "queued"

    assert run_worker() == 1
    job.refresh_from_db()
    assert (job.status, job.new, job.rows_read) == (JobStatus.AWAITING_CONFIRMATION, 40, 40)
    assert Customer.objects.count() == 0
    page = _page(importer_client, job)
    assert page.context["can_confirm"] and page.context["result"].report.new == 40

    confirmed = importer_client.post(reverse("admin:spreadsheets_job_confirm", args=[job.pk]))
    assert confirmed.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.phase) == (JobStatus.QUEUED, "write")
    assert run_worker() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.message.startswith("Import finished: 40 new")
    assert Customer.objects.count() == 40
    assert not default_storage.exists(job.stored_file)  # the upload is removed once imported
    # Confirming again is refused, and writes nothing more.
    again = importer_client.post(reverse("admin:spreadsheets_job_confirm", args=[job.pk]))
    assert any("cannot be confirmed" in m for m in _messages(again))
    assert Customer.objects.count() == 40


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_invalid_rows_make_an_error_report_in_the_uploaded_format(importer_client, file_format):
    rows = [
        ["first_name", "last_name", "phone_number", "notes"],
        ["Amina", "Wanjiru", "+254711000001", "fine"],
        ["", "Otieno", "+254711000002", "no first name"],
        ["Chebet", "Kiprono", "not-a-phone", "bad phone"],
    ]
    if file_format == "csv":
        upload = csv_file("\n".join(",".join(r) for r in rows) + "\n", "people.csv")
    else:
        upload = xlsx_file(rows, "people.xlsx")
    response = importer_client.post(
        import_url("customer"), {"resource": "0", "format": "0", "import_file": upload}
    )
    job = _job(response)
    job.refresh_from_db()
    assert (job.status, job.invalid, job.new) == (JobStatus.REJECTED, 2, 1)
    page = _page(importer_client, job)
    assert page.context["errors_available"] and not page.context["can_confirm"]
    download = importer_client.get(reverse("admin:spreadsheets_job_errors", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith(f'people-errors.{file_format}"')
    body = b"".join(download.streaming_content)
    if file_format == "csv":
        got = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(body), read_only=True).active
        got = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert got[0] == ["first_name", "last_name", "phone_number", "notes", "error"]
    # Nothing was imported: the whole file comes back, as uploaded, the invalid rows marked.
    assert [r[:4] for r in got[1:]] == rows[1:]
    assert got[1][4] == ""
    assert got[2][4] == "first_name: first name is required"
    assert got[3][4].startswith("phone_number: “not-a-phone” is not a valid phone number")
    assert Customer.objects.count() == 0


@override_settings(SPREADSHEET_REQUEST_MAX_ROWS=1)
def test_cancel_a_queued_and_a_previewed_job(importer_client):
    first = _job(
        importer_client.post(
            import_url("customer"),
            {"resource": "0", "format": "0", "import_file": csv_file(HEADER + ROWS)},
        )
    )
    importer_client.post(reverse("admin:spreadsheets_job_cancel", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == JobStatus.CANCELLED
    assert not default_storage.exists(first.stored_file)
    assert run_worker() == 1  # the task runs and finds nothing to do
    first.refresh_from_db()
    assert first.status == JobStatus.CANCELLED

    second = _job(
        importer_client.post(
            import_url("customer"),
            {"resource": "0", "format": "0", "import_file": csv_file(HEADER + ROWS)},
        )
    )
    run_worker()
    second.refresh_from_db()
    assert second.status == JobStatus.AWAITING_CONFIRMATION
    importer_client.post(reverse("admin:spreadsheets_job_cancel", args=[second.pk]))
    second.refresh_from_db()
    assert second.status == JobStatus.CANCELLED
    refused = importer_client.post(reverse("admin:spreadsheets_job_confirm", args=[second.pk]))
    assert any("cannot be confirmed: it is cancelled" in m for m in _messages(refused))
    assert Customer.objects.count() == 0


def test_jobs_are_their_owners(importer_client, db):
    job = _job(
        importer_client.post(
            import_url("customer"),
            {"resource": "0", "format": "0", "import_file": csv_file(HEADER + ROWS)},
        )
    )
    other = Client()
    other.force_login(UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS + IMPORT_EXPORT_PERMS))
    for name in ("change", "progress", "errors"):
        url_name = (
            "admin:spreadsheets_spreadsheetjob_change"
            if name == "change"
            else f"admin:spreadsheets_job_{name}"
        )
        assert other.get(reverse(url_name, args=[job.pk])).status_code == 404, name
    for name in ("confirm", "cancel"):
        assert (
            other.post(reverse(f"admin:spreadsheets_job_{name}", args=[job.pk])).status_code == 404
        )
    listing = other.get(reverse("admin:spreadsheets_spreadsheetjob_changelist"))
    assert listing.status_code == 200 and "people" not in listing.content.decode()
    boss = Client()
    boss.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert _page(boss, job).status_code == 200
    mine = importer_client.get(reverse("admin:spreadsheets_spreadsheetjob_changelist"))
    assert "data.csv" in mine.content.decode()


@override_settings(EXPORT_SYNC_MAX_ROWS=2)
def test_big_csv_and_every_xlsx_export_are_jobs_with_a_download(importer_client):
    OrderFactory.create_batch(3, item=ItemFactory(price=Decimal("12.50")), quantity=2)
    streamed = Client()
    streamed.force_login(UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS + IMPORT_EXPORT_PERMS))
    job = _job(importer_client.post(export_url("order"), {"resource": "0", "format": "0"}))
    assert job.status == JobStatus.QUEUED
    assert run_worker() == 1
    job.refresh_from_db()
    assert (job.status, job.rows_read, job.rows_total) == (JobStatus.SUCCEEDED, 3, 3)
    download = importer_client.get(reverse("admin:spreadsheets_job_download", args=[job.pk]))
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:4] == ["uuid", "number", "external_reference", "customer_uuid"]
    rows = [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    assert len(rows) == 3 and {row["total"] for row in rows} == {"25.00"}
    assert all(row["customer_phone"].startswith("'+254") for row in rows)

    with override_settings(EXPORT_SYNC_MAX_ROWS=1000):
        xlsx_job = _job(importer_client.post(export_url("order"), {"resource": "0", "format": "1"}))
    xlsx_job.refresh_from_db()  # small: written at once, in the request
    assert xlsx_job.status == JobStatus.SUCCEEDED
    content = b"".join(
        importer_client.get(
            reverse("admin:spreadsheets_job_download", args=[xlsx_job.pk])
        ).streaming_content
    )
    rows = list(
        load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True)
    )
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[0] == "uuid" and len(rows) == 4
    assert first["total"] == 25 and first["customer_phone"].startswith("+254")


def test_expired_files_are_gone_with_a_clear_message(importer_client):
    OrderFactory()
    job = _job(importer_client.post(export_url("order"), {"resource": "0", "format": "1"}))
    job.refresh_from_db()
    assert default_storage.exists(job.stored_file)
    SpreadsheetJob.objects.filter(pk=job.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = importer_client.get(reverse("admin:spreadsheets_job_download", args=[job.pk]))
    assert response.status_code == 302
    assert any("has expired" in m for m in _messages(response))
    assert "1 files deleted" in jobs_sweep()
    job.refresh_from_db()
    assert job.stored_file == ""
    assert not default_storage.exists(f"exports/{job.uuid.hex}/{job.file_name}")


def test_the_sweep_fails_jobs_whose_worker_died_and_expires_forgotten_previews(importer_client):
    running = _job(
        importer_client.post(
            import_url("customer"),
            {"resource": "0", "format": "0", "import_file": csv_file(HEADER + ROWS)},
        )
    )
    running.refresh_from_db()
    assert running.status == JobStatus.AWAITING_CONFIRMATION
    stale = timezone.now() - timedelta(hours=25)
    SpreadsheetJob.objects.filter(pk=running.pk).update(heartbeat_at=stale)
    dead = SpreadsheetJob.objects.create(
        kind="import",
        model="customers.customer",
        status=JobStatus.RUNNING,
        phase="write",
        file_name="big.csv",
        file_format="csv",
        heartbeat_at=timezone.now() - timedelta(minutes=10),
        started_at=timezone.now() - timedelta(minutes=11),
    )
    line = jobs_sweep()
    assert line.startswith("1 jobs of dead workers failed, 1 previews expired")
    dead.refresh_from_db()
    assert dead.status == JobStatus.FAILED
    assert "run stopped while working on this job: nothing was imported" in dead.message
    running.refresh_from_db()
    assert running.status == JobStatus.CANCELLED
    assert not default_storage.exists(running.stored_file)
