"""Two replicas on this machine (tests/replicas.py): two gunicorn instances on their own ports and
two ``db_worker``s, one PostgreSQL database and one Redis. What must hold for the whole
deployment, not per process: the API throttle, Idempotency-Keys and SMS confirmations, jobs,
the break-glass lockout, and the body bounds at a real server."""

from __future__ import annotations

import re
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from apps.customers.models import Customer
from apps.customers.resources import CUSTOMER_SHEET
from apps.notifications.models import SmsMessage
from apps.orders.models import Order
from apps.spreadsheets.jobs.create import job_export_create, job_import_create
from apps.spreadsheets.jobs.states import job_confirm
from apps.spreadsheets.models import JobStatus, SpreadsheetJob
from apps.spreadsheets.tasks import job_enqueue
from tests.factories import CustomerFactory, ItemFactory, UserFactory
from tests.replicas import Replicas, replica_env, session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="needs PostgreSQL (set DATABASE_URL): replicas share one database",
    ),
]

RATE = 400  # a minute, for every user
ORDERS = 1_000
RETRIED = 200
WRITERS = 4  # each stays under the rate: (1,000 + 200) / 4 = 300 requests


@pytest.fixture(scope="module")
def replicas(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.core.cache import caches

    from apps.core.shared_cache import is_shared

    if not settings.TEST_REDIS_URL or not is_shared(caches["default"]):
        pytest.skip("needs a redis-server: `make test` starts one (scripts/test-services.sh)")
    env = replica_env(
        connection.settings_dict,
        cache_url=settings.CACHES["default"]["LOCATION"],
        media_root=settings.STORAGES["default"]["OPTIONS"]["location"],
        API_THROTTLE_USER_RATE=f"{RATE}/minute",
        TRUSTED_PROXY_COUNT="1",
        AXES_FAILURE_LIMIT="3",
    )
    with Replicas(env) as running:
        yield running


def _wait(check, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _api(cookie: str, csrf: str) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Cookie": cookie, "X-CSRFToken": csrf, "Accept": "application/json"})
    return session


def _start_of_a_window() -> None:
    """Start a burst early in a minute, so that it is counted in one window."""
    into = time.time() % 60
    if into > 30:
        time.sleep(60 - into + 0.2)


def test_the_throttle_holds_across_both_replicas(replicas):
    cookie, csrf = session_cookie(UserFactory(perms=["customers.view_customer"]))
    clients = [_api(cookie, csrf) for _ in range(8)]
    _start_of_a_window()

    def get(n: int) -> int:
        return clients[n % 8].get(f"{replicas.urls[n % 2]}/v1/customers", timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(get, range(2 * RATE)))
    allowed = statuses.count(200)
    assert statuses.count(429) == len(statuses) - allowed
    assert abs(allowed - RATE) <= RATE * 0.05, allowed  # within 5 % (atomic: exactly RATE)


def test_orders_with_retried_keys_across_both_replicas(replicas):
    item = ItemFactory(price=Decimal("12.00"))
    customers = CustomerFactory.create_batch(50)
    perms = ["orders.add_order", "orders.view_order"]
    writers = [session_cookie(UserFactory(perms=perms)) for _ in range(WRITERS)]
    sessions = [[_api(*writer) for _ in range(2)] for writer in writers]
    requests_to_send = [
        (n % WRITERS, str(uuid.uuid4()), customers[n % 50].uuid) for n in range(ORDERS)
    ]
    # 200 keys sent a second time, to the other replica, interleaved with the first sends.
    retried = requests_to_send[::5][:RETRIED]
    plan = [(request, n % 2) for n, request in enumerate(requests_to_send)]
    plan += [(request, (n + 1) % 2) for n, request in enumerate(retried)]
    plan.sort(key=lambda entry: hash(entry[0][1]) % 997)

    def post(entry) -> tuple[int, str]:
        (writer, key, customer), replica = entry
        body = {"customer": str(customer), "item": str(item.uuid), "quantity": 1}
        while True:
            response = sessions[writer][replica].post(
                f"{replicas.urls[replica]}/v1/orders",
                json=body,
                headers={"Idempotency-Key": key},
                timeout=60,
            )
            if response.status_code != 409:  # 409: the same key still running elsewhere
                return response.status_code, response.headers.get("Idempotent-Replayed", "")
            time.sleep(0.2)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(post, plan))
    assert {status for status, _ in outcomes} == {201}, outcomes
    assert sum(1 for _, replayed in outcomes if replayed == "true") == RETRIED
    assert Order.objects.count() == ORDERS
    assert SmsMessage.objects.count() == ORDERS  # one confirmation each
    sent = _wait(
        lambda: SmsMessage.objects.filter(status="sent").count() == ORDERS,
        "both workers to send every confirmation",
        timeout=300,
    )
    assert sent
    assert set(SmsMessage.objects.values_list("attempts", flat=True)) == {1}
    log = replicas.log_text("worker")
    assert log.count("SMS to ") == ORDERS  # each sent once, by one of the two workers
    assert "SMS to " in replicas.log_text("worker0") and "SMS to " in replicas.log_text("worker1")


def test_an_import_and_an_export_run_once_while_both_workers_poll(replicas, tmp_path):
    owner = UserFactory(is_superuser=True)
    rows = "first_name,last_name,phone_number\n" + "".join(
        f"Two,{n},+2547{n:08d}\n" for n in range(2_000)
    )
    upload = tmp_path / "people.csv"
    upload.write_text(rows)
    with upload.open("rb") as file:
        job = job_import_create(
            registration=CUSTOMER_SHEET,
            upload=file,
            file_name="people.csv",
            size=upload.stat().st_size,
            skip_invalid=False,
            options={},
            actor=owner,
        )
    # Each step is handed to the workers twice (a duplicate enqueue, as a retry would make):
    # whichever worker takes the second finds the job claimed and skips it.
    job_enqueue(job)
    job_enqueue(job)
    _wait(lambda: _status(job) == JobStatus.AWAITING_CONFIRMATION, "the check")
    job_confirm(job=job, actor=owner)
    job_enqueue(job)
    job_enqueue(job)
    _wait(lambda: _status(job) == JobStatus.SUCCEEDED, "the write")
    assert Customer.objects.filter(first_name="Two").count() == 2_000
    export = job_export_create(
        registration=CUSTOMER_SHEET, arguments={}, file_format="csv", actor=owner
    )
    job_enqueue(export)
    job_enqueue(export)
    _wait(lambda: _status(export) == JobStatus.SUCCEEDED, "the export")

    def all_done():
        results = list(DBTaskResult.objects.filter(task_path__endswith="spreadsheet_job_task"))
        return len(results) == 6 and all(r.status == "SUCCESSFUL" for r in results) and results

    results = _wait(all_done, "every task to finish")
    outcomes = sorted(str(r.return_value) for r in results)
    assert outcomes == ["awaiting_confirmation", "skipped", "skipped", "skipped", "succeeded",
                        "succeeded"]  # fmt: skip
    assert all(len(r.worker_ids) == 1 for r in results)
    export.refresh_from_db()
    assert export.rows_total == 2_000


def _status(job: SpreadsheetJob) -> str:
    job.refresh_from_db()
    return job.status


def _login(base: str, username: str, password: str, client_address: str) -> int:
    browser = requests.Session()
    page = browser.get(f"{base}/admin/login/", headers={"X-Forwarded-For": client_address})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    response = browser.post(
        f"{base}/admin/login/?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
        headers={"X-Forwarded-For": f"198.51.100.250, {client_address}"},
        allow_redirects=False,
    )
    return response.status_code


def test_a_lockout_made_on_one_replica_holds_on_the_other(replicas):
    UserFactory(username="root", is_superuser=True)
    first, second = replicas.urls
    attacker, operator = "203.0.113.9", "192.0.2.44"
    assert [_login(first, f"guess{n}", "wrong", attacker) for n in range(2)] == [200, 200]
    assert _login(first, "guess9", "wrong", attacker) == 429  # the third failure locks
    assert _login(second, "root", "pw-test-12345", attacker) == 429
    assert _login(second, "root", "pw-test-12345", operator) == 302


def test_a_real_server_refuses_a_large_anonymous_body_before_it_is_sent(replicas):
    host = urlsplit(replicas.urls[0])
    with socket.create_connection((host.hostname, host.port), timeout=10) as sock:
        sock.sendall(
            b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 314572800\r\n\r\n"
        )
        started = time.monotonic()
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5
