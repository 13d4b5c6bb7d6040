"""Caps are caps: every path that queues SMS goes through the one guard, atomically.

Imports are refused at preview and again at confirm when the room vanished in between; races
run with real threads on PostgreSQL (each with its own connection) and with real threads on a
SQLite file in a separate process.
"""

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.notifications.models import SmsMessage, SmsStatus
from apps.notifications.services import SmsCapExceededError, sms_hourly_room
from apps.orders.models import Order
from apps.orders.services import order_create
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory
from tests.sms_helpers import sms_caps_check, sms_confirmation_queue, sms_resend, sms_resend_bulk
from tests.spreadsheets.conftest import IMPORT_EXPORT_PERMS, confirm, csv_file, upload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def importer_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS + IMPORT_EXPORT_PERMS))
    return client


def _resender():
    user = UserFactory(is_staff=True, perms=["orders.view_order", "orders.change_order"])
    user.user_permissions.add(Permission.objects.get(codename="resend_sms"))
    return user


def _fill(count: int) -> None:
    """``count`` queued confirmations created now (they count against the hourly cap)."""
    for _ in range(count):
        sms_confirmation_queue(order=OrderFactory())


def _orders_file(n: int):
    customer, item = CustomerFactory(), ItemFactory()
    rows = "".join(f"{customer.uuid},{item.uuid},{i + 1}\n" for i in range(n))
    return csv_file("customer_uuid,item_uuid,quantity\n" + rows)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the guard -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_guard_refuses_to_run_outside_a_transaction(settings):
    settings.SMS_MAX_PER_HOUR = 10
    with pytest.raises(RuntimeError, match="inside the transaction"):
        sms_caps_check(orders=[OrderFactory()])
    with transaction.atomic():
        sms_caps_check(orders=[OrderFactory()])


@pytest.mark.django_db
def test_confirmations_refused_by_the_cap_do_not_keep_it_shut(settings):
    """A confirmation refused by the cap costs nothing and does not count: once the messages
    that filled the hour age out, the room comes back even if orders kept coming."""
    settings.SMS_MAX_PER_HOUR = 2
    _fill(2)
    refused = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    assert refused.sms_messages.get().status == SmsStatus.FAILED
    assert sms_hourly_room() == 0
    oldest = SmsMessage.objects.filter(status=SmsStatus.QUEUED).order_by("id").first()
    SmsMessage.objects.filter(pk=oldest.pk).update(date_created=timezone.now() - timedelta(hours=2))
    assert sms_hourly_room() == 1
    fits = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    assert fits.sms_messages.get().status == SmsStatus.QUEUED


@pytest.mark.django_db
def test_bulk_resend_is_all_or_nothing_under_the_hourly_cap(settings):
    settings.SMS_MAX_PER_HOUR = 5
    _fill(3)
    orders = list(Order.objects.all()[:3])
    with pytest.raises(SmsCapExceededError, match="cap of 5 SMS per hour"):
        sms_resend_bulk(orders=orders, actor=_resender())
    assert SmsMessage.objects.count() == 3
    assert sms_resend_bulk(orders=orders[:2], actor=_resender()) == 2
    assert SmsMessage.objects.count() == 5


# --- imports ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_over_the_hourly_room_is_refused_at_preview(settings, importer_client):
    settings.SMS_MAX_PER_HOUR = 5
    _fill(4)
    preview = upload(importer_client, "order", _orders_file(3), send_confirmations="on")
    errors = [str(e) for e in preview.context["form"].errors["import_file"]]
    assert errors == [
        "This import would send 3 SMS confirmations, but the hourly SMS cap allows 1 more right "
        "now. Untick “Send SMS confirmations”, or import fewer new orders at a time."
    ]
    assert "confirm_form" not in preview.context
    assert (Order.objects.count(), SmsMessage.objects.count()) == (4, 4)


@pytest.mark.django_db
def test_import_whose_room_vanished_after_the_preview_writes_nothing(settings, importer_client):
    settings.SMS_MAX_PER_HOUR = 5
    preview = upload(importer_client, "order", _orders_file(3), send_confirmations="on")
    assert preview.context["result"].report.new == 3
    _fill(3)  # meanwhile, three other orders took most of the hour's room
    done = confirm(importer_client, "order", preview)
    assert done.status_code == 302
    assert _messages(done) == [
        "Failed: nothing was imported. This import would send 3 SMS confirmations, but the "
        "hourly SMS cap now allows only 2 more (other messages were queued since the preview). "
        "Untick "
        "“Send SMS confirmations”, or import fewer new orders at a time. Upload the file again "
        "to review it."
    ]
    assert (Order.objects.count(), SmsMessage.objects.count()) == (3, 3)


@pytest.mark.django_db
def test_import_of_more_than_half_the_cap_is_not_counted_twice(settings, importer_client):
    """The confirm queues its own messages in its transaction: they are not counted against
    the room they were checked against."""
    settings.SMS_MAX_PER_HOUR = 10
    preview = upload(importer_client, "order", _orders_file(8), send_confirmations="on")
    done = confirm(importer_client, "order", preview)
    assert done.status_code == 302, _messages(done)
    assert Order.objects.count() == 8
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {SmsStatus.QUEUED}
    assert SmsMessage.objects.count() == 8
    assert sms_hourly_room() == 2


@pytest.mark.django_db
def test_import_without_an_hourly_cap_queues_every_confirmation(settings, importer_client):
    settings.SMS_MAX_PER_HOUR = 0
    preview = upload(importer_client, "order", _orders_file(4), send_confirmations="on")
    confirm(importer_client, "order", preview)
    assert SmsMessage.objects.count() == Order.objects.count() == 4


# --- races -----------------------------------------------------------------------------------


def _race(calls: list[Callable[[], int]]) -> list[int]:
    """Run each call in its own thread (and connection), released together; their results."""
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = [0] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            statuses[index] = calls[index]()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_parallel_resends_of_one_order_stop_exactly_at_the_daily_cap(settings):
    settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY = 3
    settings.SMS_MAX_PER_HOUR = 1000
    order, user = OrderFactory(), _resender()
    url = f"/v1/orders/{order.uuid}/resend-sms"
    statuses = _race([lambda: _api(user).post(url).status_code] * 10)
    assert sorted(statuses) == [202] * 3 + [429] * 7
    assert order.sms_messages.count() == 3


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_parallel_order_creations_stop_exactly_at_the_hourly_cap(settings):
    settings.SMS_MAX_PER_HOUR = 4
    user = UserFactory(is_staff=True, perms=["orders.add_order", "orders.view_order"])
    customer, item = CustomerFactory(), ItemFactory()
    body = {"customer": str(customer.uuid), "item": str(item.uuid), "quantity": 1}
    statuses = _race([lambda: _api(user).post("/v1/orders", body, format="json").status_code] * 10)
    assert statuses == [201] * 10
    by_status = sorted(SmsMessage.objects.values_list("status", flat=True))
    assert by_status == [SmsStatus.FAILED] * 6 + [SmsStatus.QUEUED] * 4


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_parallel_bulk_resends_and_resends_share_the_hourly_cap(settings):
    settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY = 100
    settings.SMS_MAX_PER_HOUR = 7
    orders, user = OrderFactory.create_batch(3), _resender()

    def resend_all() -> int:
        try:
            sms_resend_bulk(orders=orders, actor=user)
        except SmsCapExceededError:
            return 429
        return 202

    def resend_one() -> int:
        try:
            sms_resend(order=orders[0], actor=user)
        except SmsCapExceededError:
            return 429
        return 202

    calls = [resend_all, resend_one] * 4
    statuses = _race(calls)
    assert set(statuses) <= {202, 429}
    bulk_ok = sum(
        1 for call, s in zip(calls, statuses, strict=True) if call is resend_all and s == 202
    )
    one_ok = sum(
        1 for call, s in zip(calls, statuses, strict=True) if call is resend_one and s == 202
    )
    assert SmsMessage.objects.count() == 3 * bulk_ok + one_ok <= 7
    assert 429 in statuses


SQLITE_RACE = r"""
import json, os, sys, threading
import django
django.setup()
from django.contrib.auth.models import Permission
from django.db import connections
from rest_framework.test import APIClient
from tests.factories import OrderFactory, UserFactory

user = UserFactory(is_staff=True, perms=["orders.view_order"])
user.user_permissions.add(Permission.objects.get(codename="resend_sms"))
order = OrderFactory()
barrier = threading.Barrier(10)
statuses = []

def run():
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    barrier.wait()
    statuses.append(client.post(f"/v1/orders/{order.uuid}/resend-sms").status_code)
    connections.close_all()

threads = [threading.Thread(target=run) for _ in range(10)]
[t.start() for t in threads]
[t.join(60) for t in threads]
print(json.dumps({"statuses": sorted(statuses), "messages": order.sms_messages.count()}))
"""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="copies the SQLite test database")
@pytest.mark.django_db(transaction=True)
def test_parallel_resends_on_sqlite_give_no_500(tmp_path):
    """Ten threads, each with its own connection to one SQLite file, in a separate process."""
    path = tmp_path / "race.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)  # the migrated test database, as a file
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_RACE],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
            "DATABASE_URL": f"sqlite:///{path}",
            "SMS_RESEND_MAX_PER_ORDER_PER_DAY": "3",
            "LOG_LEVEL": "CRITICAL",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"statuses": [202] * 3 + [429] * 7, "messages": 3}
