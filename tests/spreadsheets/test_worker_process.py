"""Spreadsheet jobs run by a real ``manage.py db_worker`` process against PostgreSQL: the whole
import, a cancel while rows are being read, and a worker killed while it writes (nothing is
written, and the job ends failed instead of running forever)."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from apps.customers.models import Customer
from apps.spreadsheets.jobs.sweep import jobs_sweep
from apps.spreadsheets.models import JobStatus, SpreadsheetJob
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import UserFactory

from .conftest import IMPORT_EXPORT_PERMS, csv_file, import_url

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="needs a database shared with a worker process (PostgreSQL)",
    ),
]


def _rows(n: int) -> str:
    return "first_name,last_name,phone_number\n" + "".join(
        f"F{i},L{i},+2547{i:08d}\n" for i in range(n)
    )


def start_worker() -> subprocess.Popen:
    db = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
        "DJANGO_SECRET_KEY": "test-only-not-a-secret",
        "DATABASE_URL": "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**db),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "MEDIA_ROOT": settings.STORAGES["default"]["OPTIONS"]["location"],
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [
            *(sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"),
            *("--interval", "0.2", "-v", "0"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(job: SpreadsheetJob, test, timeout: float = 120) -> SpreadsheetJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if test(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job never got there: {job.status} {job.phase} {job.rows_read}")


@pytest.fixture
def worker():
    process = start_worker()
    yield process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS + IMPORT_EXPORT_PERMS))
    return client


def _upload(client, text: str) -> SpreadsheetJob:
    response = client.post(
        import_url("customer"),
        {"resource": "0", "format": "0", "import_file": csv_file(text, "people.csv")},
    )
    assert response.status_code == 302
    return SpreadsheetJob.objects.latest("pk")


@override_settings(SPREADSHEET_REQUEST_MAX_ROWS=1)
def test_the_worker_checks_then_writes_a_confirmed_import(client, worker):
    job = _upload(client, _rows(2_000))
    job = wait_for(job, lambda j: j.status == JobStatus.AWAITING_CONFIRMATION)
    assert (job.new, job.invalid, job.rows_read) == (2_000, 0, 2_000)
    assert job.heartbeat_at is not None and job.started_at is not None
    assert Customer.objects.count() == 0
    client.post(reverse("admin:spreadsheets_job_confirm", args=[job.pk]))
    job = wait_for(job, lambda j: j.status == JobStatus.SUCCEEDED)
    assert Customer.objects.count() == 2_000
    assert job.message.startswith("Import finished: 2,000 new")


@override_settings(SPREADSHEET_REQUEST_MAX_ROWS=1)
def test_cancel_while_the_worker_reads(client, worker):
    job = _upload(client, _rows(120_000))
    job = wait_for(job, lambda j: j.status == JobStatus.RUNNING and j.rows_read > 0, timeout=180)
    client.post(reverse("admin:spreadsheets_job_cancel", args=[job.pk]))
    job = wait_for(job, lambda j: j.finished, timeout=60)
    # Seen at the run's next progress report, or at the end of its check if that came first.
    assert (job.status, job.message) == (JobStatus.CANCELLED, "Cancelled: nothing was imported.")
    assert Customer.objects.count() == 0


@override_settings(SPREADSHEET_REQUEST_MAX_ROWS=1)
def test_a_worker_killed_while_writing_leaves_nothing_and_a_failed_job(client, worker):
    job = _upload(client, _rows(120_000))
    job = wait_for(job, lambda j: j.status == JobStatus.AWAITING_CONFIRMATION, timeout=240)
    client.post(reverse("admin:spreadsheets_job_confirm", args=[job.pk]))
    # The write reports its progress through a second connection while its transaction is open.
    job = wait_for(
        job,
        lambda j: j.status == JobStatus.RUNNING and j.phase == "write" and j.rows_read > 0,
        timeout=240,
    )
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=20)
    time.sleep(1)
    assert Customer.objects.count() == 0  # the write transaction died with the worker
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    later = timezone.now() + timedelta(seconds=settings.SPREADSHEET_HEARTBEAT_TIMEOUT_SECONDS + 5)
    assert jobs_sweep(now=later).startswith("1 jobs of dead workers failed")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "nothing was imported" in job.message
    assert Customer.objects.count() == 0
