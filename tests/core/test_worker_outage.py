"""``manage.py db_worker`` outlives a PostgreSQL restart (``apps/core/management/commands/``).

A real worker process runs against a throwaway cluster of its own (tests/pg_cluster.py: the
shared cluster is never restarted). While it writes a 200,000-row import, SMS confirmations
queue up behind it; PostgreSQL is then stopped for a few seconds and started again, and more
orders are placed while the worker is still waiting to reconnect. Afterwards: the worker is
still running, every SMS (queued before and during the outage) is sent exactly once, and the
import that was running is failed with nothing written (its task is not run again).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

from tests.pg_cluster import ThrowawayCluster

pytestmark = pytest.mark.skipif(
    shutil.which("initdb") is None and not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
    reason="needs PostgreSQL's server binaries (initdb, pg_ctl) for a throwaway cluster",
)

IMPORT_ROWS = 200_000


def _env(cluster: ThrowawayCluster, media: str) -> dict[str, str]:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
        "DJANGO_SECRET_KEY": "test-only-not-a-secret",
        "DATABASE_URL": cluster.url("outage"),
        "DATABASE_CONN_MAX_AGE": "0",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "MEDIA_ROOT": media,
        "SMS_BACKEND": "console",
        "LOG_LEVEL": "INFO",
        "WORKER_RECONNECT_BASE_SECONDS": "2",
        "WORKER_RECONNECT_MAX_SECONDS": "4",
        "SPREADSHEET_HEARTBEAT_TIMEOUT_SECONDS": "1",
        "CACHE_URL": "",
    }


def _manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _shell(env: dict[str, str], code: str) -> str:
    return _manage(env, "shell", "-v", "0", "-c", code)


MAKE_ITEM = """
from decimal import Decimal
from apps.items.services import item_create
item_create(name="Outage tee", size="M", price=Decimal("10.00"), actor=None)
"""

PLACE_ORDERS = """
from apps.customers.services import customer_create
from apps.items.models import Item
from apps.orders.services import order_create
item = Item.objects.get(name="Outage tee")
for n in range({count}):
    customer = customer_create(
        first_name="C{batch}", last_name=str(n), phone_number="+2547{batch}{{:07d}}".format(n),
        actor=None,
    )
    order_create(customer=customer, item=item, quantity=1, actor=None)
"""

START_IMPORT = """
from apps.customers.resources import CUSTOMER_SHEET
from apps.spreadsheets.jobs.create import job_import_create
from apps.spreadsheets.tasks import job_enqueue
with open({path!r}, "rb") as upload:
    job = job_import_create(
        registration=CUSTOMER_SHEET, upload=upload, file_name="people.csv",
        size={size}, skip_invalid=False, options={{}}, actor=None,
    )
job_enqueue(job)
print(job.pk)
"""

CONFIRM_IMPORT = """
from apps.spreadsheets.jobs.states import job_confirm
from apps.spreadsheets.models import SpreadsheetJob
from apps.spreadsheets.tasks import job_enqueue
job_enqueue(job_confirm(job=SpreadsheetJob.objects.get(pk={pk}), actor=None))
"""


def _query(cluster: ThrowawayCluster, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(cluster.url("outage")) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    conn.close()
    return rows


def _wait(check, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def cluster():
    cluster = ThrowawayCluster()
    try:
        cluster.start()
        cluster.create_database("outage")
        yield cluster
    finally:
        cluster.remove()


def test_worker_outlives_a_database_restart(cluster, tmp_path):
    media = tempfile.mkdtemp(prefix="custorder-outage-media-")
    env = _env(cluster, media)
    _manage(env, "migrate", "--no-input", "-v", "0")
    _shell(env, MAKE_ITEM)
    people = tmp_path / "people.csv"
    people.write_text(
        "first_name,last_name,phone_number\n"
        + "".join(f"Imp,{n},+2541{n:08d}\n" for n in range(IMPORT_ROWS))
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
             "--interval", "0.2"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        job_id = int(_shell(env, START_IMPORT.format(path=str(people), size=people.stat().st_size)))
        _wait(
            lambda: _query(cluster, "SELECT status FROM spreadsheets_spreadsheetjob WHERE id = %s",
                           (job_id,))[0][0] == "awaiting_confirmation",
            "the import's check",
        )  # fmt: skip
        _shell(env, CONFIRM_IMPORT.format(pk=job_id))
        _wait(
            lambda: _query(cluster, "SELECT rows_read FROM spreadsheets_spreadsheetjob "
                           "WHERE id = %s AND status = 'running'", (job_id,)) != [(0,)]
            and _query(cluster, "SELECT status FROM spreadsheets_spreadsheetjob WHERE id = %s",
                       (job_id,))[0][0] == "running",
            "the import's write to start",
        )  # fmt: skip
        # SMS queued before the outage: behind the running import, not sent yet.
        _shell(env, PLACE_ORDERS.format(count=5, batch=1))
        assert _query(cluster, "SELECT count(*) FROM notifications_smsmessage "
                      "WHERE status = 'queued'") == [(5,)]  # fmt: skip

        cluster.stop("fast")
        time.sleep(3)
        assert worker.poll() is None, "the worker exited when the database went away"
        cluster.start()
        cluster.wait_ready()
        # Queued while the worker is still waiting to reconnect.
        _shell(env, PLACE_ORDERS.format(count=5, batch=2))

        def all_sent():
            rows = _query(cluster, "SELECT status, attempts FROM notifications_smsmessage")
            return len(rows) == 10 and all(status == "sent" for status, _ in rows) and rows

        rows = _wait(all_sent, "every SMS to be sent")
        assert [attempts for _, attempts in rows] == [1] * 10  # each sent exactly once
        assert worker.poll() is None

        # The import that was running: its transaction is gone, its task failed and not run
        # again; the jobs sweep fails the job itself once its heartbeat is stale.
        time.sleep(1.5)
        _manage(env, "housekeeping")
        (status,) = _query(
            cluster, "SELECT status FROM spreadsheets_spreadsheetjob WHERE id = %s", (job_id,)
        )[0]
        assert status == "failed"
        assert _query(cluster, "SELECT count(*) FROM customers_customer "
                      "WHERE first_name = 'Imp'") == [(0,)]  # fmt: skip
        task_statuses = _query(
            cluster,
            "SELECT status, count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE task_path LIKE '%%spreadsheet_job_task' GROUP BY status ORDER BY status",
        )
        assert task_statuses == [("FAILED", 1), ("SUCCESSFUL", 1)]  # check ok, write failed
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        shutil.rmtree(media, ignore_errors=True)
    log = log_path.read_text()
    assert "lost the database" in log
    assert "reconnected after" in log
    assert "interrupted by the database outage: marked failed" in log
    assert log.count("SMS to ") == 10
