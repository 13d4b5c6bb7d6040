"""Real concurrency and real crashes on PostgreSQL: threads with their own connections, and a
server process killed half-way through a request.

Skipped on SQLite (an in-memory test database other connections cannot see).
"""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from rest_framework.test import APIClient

from apps.api_toolkit.models import IdempotencyKey
from apps.core.errors import StaleVersionError
from apps.notifications.models import SmsMessage
from apps.orders.models import Order
from apps.orders.services import order_update
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
        reason="needs PostgreSQL (set DATABASE_URL)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
THREADS = 20


def run_together(count: int, work) -> list:
    """``work(i)`` in ``count`` threads released at once; each thread closes its connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # reported by the assertions below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_threads_posting_one_order_with_one_key_create_one_order_and_one_sms():
    user = UserFactory(perms=ALL_DOMAIN_PERMS)
    payload = {
        "customer": str(CustomerFactory().uuid),
        "item": str(ItemFactory(price=Decimal("9.99")).uuid),
        "quantity": 2,
    }
    key = str(uuid.uuid4())

    def post(_i: int):
        client = APIClient()
        client.force_authenticate(user)
        return client.post("/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)

    responses = run_together(THREADS, post)
    assert not [r for r in responses if isinstance(r, Exception)], responses
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert len(created) >= 1
    assert len({r.content for r in created}) == 1  # every 201 is the same order
    assert [r.get("Idempotent-Replayed") for r in created].count(None) == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["code"] == "idempotency_key_in_use"
        assert refused["Retry-After"] == "1"
    assert Order.objects.count() == 1
    assert SmsMessage.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    # Once the first has finished, every retry is a replay.
    client = APIClient()
    client.force_authenticate(user)
    retry = client.post("/v1/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (retry.status_code, retry["Idempotent-Replayed"]) == (201, "true")
    assert retry.content == created[0].content


def test_concurrent_patches_with_one_if_match_let_exactly_one_through():
    user = UserFactory(perms=ALL_DOMAIN_PERMS)
    order = OrderFactory(quantity=1)
    url = f"/v1/orders/{order.uuid}"
    client = APIClient()
    client.force_authenticate(user)
    tag = client.get(url)["ETag"]

    def patch(i: int):
        c = APIClient()
        c.force_authenticate(user)
        return c.patch(url, {"quantity": 10 + i}, format="json", HTTP_IF_MATCH=tag)

    responses = run_together(THREADS, patch)
    assert not [r for r in responses if isinstance(r, Exception)], responses
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 412: THREADS - 1}, statuses
    winner = next(r for r in responses if r.status_code == 200)
    order.refresh_from_db()
    assert (order.version, order.quantity) == (2, winner.json()["quantity"])
    assert order.history.filter(history_type="~").count() == 1
    for refused in (r for r in responses if r.status_code == 412):
        assert refused.json()["current"]["quantity"] == order.quantity


def test_the_service_write_is_one_conditional_update_not_read_then_write():
    """Two writers that read version 1: the second one's UPDATE finds no row at version 1."""
    order = OrderFactory(quantity=1)
    first = Order.objects.get(pk=order.pk)
    second = Order.objects.get(pk=order.pk)
    order_update(order=first, data={"quantity": 2}, expected_version=1)
    with pytest.raises(StaleVersionError) as refused:
        order_update(order=second, data={"quantity": 3}, expected_version=1)
    assert (refused.value.expected_version, refused.value.current_version) == (1, 2)
    order.refresh_from_db()
    assert (order.quantity, order.version) == (2, 2)


# --- crashes ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``crash_server.py`` in its own process, on the test database."""

    def __init__(self, mode: str) -> None:
        s = connection.settings_dict
        self.port = _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
            "DATABASE_URL": f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/"
            f"{s['NAME']}",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("crash_server.py")),
                str(self.port),
                mode,
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{self.url}/healthz", timeout=5)
                return
            except requests.ConnectionError:
                assert self.process.poll() is None, self.process.communicate()[1]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=30)


@pytest.fixture
def session():
    """A signed-in session (committed: other processes see it) and its CSRF token."""
    client = Client()
    client.force_login(UserFactory(perms=ALL_DOMAIN_PERMS))
    token = _get_new_csrf_string()
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: token,
    }
    return {"X-CSRFToken": token}, cookies


def _post(server: Server, session, payload: dict, key: str) -> requests.Response:
    headers, cookies = session
    return requests.post(
        f"{server.url}/v1/orders",
        json=payload,
        headers={**headers, "Idempotency-Key": key},
        cookies=cookies,
        timeout=30,
    )


@pytest.fixture
def payload():
    return {
        "customer": str(CustomerFactory().uuid),
        "item": str(ItemFactory(price=Decimal("5.00")).uuid),
        "quantity": 3,
    }


@pytest.mark.parametrize("crash", ["before-commit", "after-commit"])
def test_a_crash_between_the_key_record_and_the_response_never_makes_a_second_order(
    crash, session, payload
):
    key = str(uuid.uuid4())
    crashing = Server(crash)
    try:
        with pytest.raises(requests.ConnectionError):
            _post(crashing, session, payload, key)
        assert crashing.process.wait(timeout=30) in (70, 71)
    finally:
        crashing.stop()
    if crash == "before-commit":
        # The process died inside the transaction: the order, its SMS and the key are gone.
        assert (Order.objects.count(), IdempotencyKey.objects.count()) == (0, 0)
    else:
        # It died after the commit: the order and the stored answer are both there.
        assert (Order.objects.count(), IdempotencyKey.objects.count()) == (1, 1)

    server = Server("none")
    try:
        retry = _post(server, session, payload, key)
        again = _post(server, session, payload, key)
    finally:
        server.stop()
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") == ("true" if crash == "after-commit" else None)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == retry.content
    order = Order.objects.get()
    assert retry.json()["id"] == str(order.uuid)
    assert order.quantity == 3
    assert SmsMessage.objects.filter(order=order).count() == 1
