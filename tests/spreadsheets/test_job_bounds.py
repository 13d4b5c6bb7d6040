"""Work and reports are bounded whatever the upload: a request reads at most its bound and hands
the rest to the worker; a job keeps and shows a bounded report; a run that lost its job (the
sweep declared it dead, or it was cancelled) never commits."""

import io
import json
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.customers.models import Customer
from apps.spreadsheets.jobs.imports import import_run
from apps.spreadsheets.jobs.states import job_cancel, job_claim
from apps.spreadsheets.jobs.sweep import jobs_sweep
from apps.spreadsheets.models import JobStatus, SpreadsheetJob
from tests.notifications.conftest import run_worker

from . import hostile
from .conftest import confirm, csv_file, import_url, upload

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

HEADER = "first_name,last_name,phone_number\n"


def _people(n: int) -> str:
    return HEADER + "".join(f"F{i},L{i},+2547110{i:05d}\n" for i in range(n))


def _post(client, f, **extra):
    return client.post(import_url("customer"), {"import_file": f, **extra})


@override_settings(SPREADSHEET_REQUEST_MAX_ROWS=10)
def test_a_request_reads_up_to_its_bound_and_hands_the_rest_to_the_worker(importer_client):
    response = _post(importer_client, csv_file(_people(50)))
    assert response.status_code == 302
    job = SpreadsheetJob.objects.get()
    assert (job.status, job.phase, job.run_token) == (JobStatus.QUEUED, "check", None)
    assert DBTaskResult.objects.count() == 1
    assert run_worker() == 1
    job.refresh_from_db()
    assert (job.status, job.new) == (JobStatus.AWAITING_CONFIRMATION, 50)
    # The write: its check counted more rows than a request may write, so the worker writes it.
    page = importer_client.get(response["Location"])
    confirm(importer_client, "customer", page)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and Customer.objects.count() == 0
    run_worker()
    assert Customer.objects.count() == 50


def _tiny_workbook_of_many_rows(rows: int) -> bytes:
    """A megabyte or so of compressed XLSX holding a great many rows (decided on work, not on
    the upload's size)."""

    def chunks():
        head, tail = hostile._sheet(hostile.HEADER_ROW + "@@ROWS@@").encode().split(b"@@ROWS@@")
        yield head
        block = []
        for n in range(2, rows + 2):
            block.append(
                b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>A</t></is></c>'
                b'<c r="B%d" t="inlineStr"><is><t>B</t></is></c>'
                b'<c r="C%d"><v>254700000000</v></c></row>' % (n, n, n, n)
            )
            if len(block) == 10_000:
                yield b"".join(block)
                block = []
        yield b"".join(block) + tail

    return hostile._streamed_part("xl/worksheets/sheet1.xml", chunks)


def test_a_small_workbook_of_many_rows_leaves_the_request_at_once(importer_client):
    data = _tiny_workbook_of_many_rows(300_000)
    assert len(data) < 4 * 1024 * 1024
    f = io.BytesIO(data)
    f.name = "many.xlsx"
    start = time.perf_counter()
    response = _post(importer_client, f)
    assert time.perf_counter() - start < 5
    assert response.status_code == 302
    job = SpreadsheetJob.objects.get()
    assert (job.status, job.phase) == (JobStatus.QUEUED, "check")


@override_settings(SPREADSHEET_REQUEST_MAX_BYTES=512 * 1024 * 1024)
def test_a_jobs_report_and_page_stay_small_whatever_the_upload(importer_client):
    huge = "H" * 32_767
    header = ",".join(["first_name", "last_name", "phone_number"] + [f"x{i}" for i in range(5)])
    line = ",".join([huge] * 8)
    response = _post(importer_client, csv_file(header + "\n" + (line + "\n") * 150, "huge.csv"))
    job = SpreadsheetJob.objects.get()
    assert (job.status, job.invalid) == (JobStatus.REJECTED, 150)
    stored = json.dumps(job.report)
    assert len(stored) < 200_000, len(stored)
    assert len(job.report["errors"]) <= 100
    assert all(len(message) <= 300 for _, _, message in job.report["errors"])
    quoted = "“" + "H" * 39 + "…” is not a valid phone number"
    assert any(message == quoted for _, _, message in job.report["errors"])
    page = importer_client.get(response["Location"])
    assert len(page.content) < 1_000_000, len(page.content)
    assert (
        importer_client.get(reverse("admin:spreadsheets_job_progress", args=[job.pk])).json()[
            "counts"
        ]["invalid"]
        == 150
    )


def _confirmed_and_claimed(client) -> SpreadsheetJob:
    preview = upload(client, "customer", csv_file(_people(3)))
    job = preview.context["job"]
    SpreadsheetJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, phase="write")
    job.refresh_from_db()
    assert job_claim(job)
    return job


def test_a_run_the_sweep_declared_dead_never_commits(importer_client):
    job = _confirmed_and_claimed(importer_client)
    SpreadsheetJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert jobs_sweep().startswith("1 jobs of dead workers failed")
    import_run(job, bound=None)  # the run goes on, unaware: its write must not commit
    assert Customer.objects.count() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message.startswith("Failed: the run stopped while working on this job")


def test_a_run_cancelled_before_its_commit_writes_nothing(importer_client):
    job = _confirmed_and_claimed(importer_client)
    job_cancel(job=SpreadsheetJob.objects.get(pk=job.pk), actor=None)
    import_run(job, bound=None)
    assert Customer.objects.count() == 0
    job.refresh_from_db()
    assert (job.status, job.message) == (JobStatus.CANCELLED, "Cancelled: nothing was imported.")


@override_settings(SPREADSHEET_REQUEST_MAX_ROWS=10)
def test_a_check_cancelled_after_its_last_progress_report_ends_cancelled(
    importer_client, monkeypatch
):
    _post(importer_client, csv_file(_people(50)))
    job = SpreadsheetJob.objects.get()
    assert job_claim(job)

    def cancelled_meanwhile(job, report):
        job_cancel(job=SpreadsheetJob.objects.get(pk=job.pk), actor=None)
        return None

    monkeypatch.setattr("apps.spreadsheets.jobs.imports._repeat_of", cancelled_meanwhile)
    import_run(job, bound=None)
    job.refresh_from_db()
    assert (job.status, job.message) == (JobStatus.CANCELLED, "Cancelled: nothing was imported.")
    assert job.run_token is None and Customer.objects.count() == 0
