"""The worker sending through the real africastalking SDK to a local fake provider.

Transactional tests: orders commit for real, ``on_commit`` enqueues the task in the
django-tasks-db table, and django-tasks-db's own worker runs it.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.notifications.models import SmsMessage, SmsStatus
from apps.notifications.sending import UNKNOWN_OUTCOME, sms_reconcile_stuck, sms_send
from apps.notifications.services import sms_requeue_lost
from apps.notifications.tasks import sms_send_task
from apps.orders.models import Order
from apps.orders.services import order_create
from tests.factories import CustomerFactory, ItemFactory, UserFactory
from tests.notifications.conftest import run_worker
from tests.notifications.fake_provider import Reply
from tests.sms_helpers import sms_resend

pytestmark = pytest.mark.django_db(transaction=True)


def _order(**kwargs):
    customer = CustomerFactory(first_name="Amina", phone_number="+254712345678")
    item = ItemFactory(name="Tee", size="M", price=Decimal("450.00"))
    return order_create(customer=customer, item=item, quantity=2, **kwargs)


def test_order_confirmation_sent_through_sdk(at_settings, fake_at):
    order = _order()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.QUEUED
    assert DBTaskResult.objects.count() == 1

    assert run_worker() == 1

    [request] = fake_at.received()
    assert request["path"] == "/version1/messaging"
    assert request["headers"]["apiKey"] == "test-api-key"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = request["form"]
    assert form["username"] == "custorder"
    assert form["to"] == "+254712345678"
    assert form["from"] == "CUSTORDER"
    assert form["message"] == (
        f"Hi Amina, your order {order.number} is confirmed: 2 x Tee (M), "
        "total KES 900.00. Thank you!"
    )
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT
    assert message.provider_message_id.startswith("ATXid_")
    assert message.provider_status_code == "101"
    assert message.cost == "KES 0.8000"
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.error == ""


def test_order_without_confirmation_queues_nothing(at_settings, fake_at):
    _order(send_confirmation=False)
    assert not SmsMessage.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_rolled_back_order_queues_nothing(at_settings, fake_at):
    with pytest.raises(RuntimeError), transaction.atomic():
        _order()
        raise RuntimeError("the caller fails after creating the order")
    assert not Order.objects.exists()
    assert not SmsMessage.objects.exists()
    assert not DBTaskResult.objects.exists()
    run_worker()
    assert fake_at.received() == []


@pytest.mark.parametrize(
    ("code", "status"),
    [(403, "InvalidPhoneNumber"), (405, "InsufficientBalance"), (406, "UserInBlacklist")],
)
def test_permanent_recipient_failure_stops_at_once(at_settings, fake_at, code, status):
    fake_at.add(Reply(recipient_code=code))
    order = _order()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 1
    assert message.provider_status_code == str(code)
    assert message.error == f"{code} {status}"
    assert len(fake_at.received()) == 1


def test_http_401_is_permanent(at_settings, fake_at):
    fake_at.add(
        Reply(status=401, body="The supplied authentication is invalid", content_type="text/plain")
    )
    order = _order()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 1
    assert message.provider_status_code == "401"
    assert "HTTP 401" in message.error and "authentication is invalid" in message.error
    assert len(fake_at.received()) == 1


def test_http_500_is_retried_then_sent(at_settings, fake_at):
    fake_at.add(Reply(status=500, body="oops", content_type="text/plain"))
    order = _order()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.SENT
    assert message.attempts == 2
    assert len(fake_at.received()) == 2
    # The retry was a second task, deferred with run_after.
    assert DBTaskResult.objects.successful().count() == 2


def test_recipient_500_and_rate_limit_are_transient(at_settings, fake_at):
    fake_at.add(
        Reply(recipient_code=500),
        Reply(status=429, body="Too many requests", content_type="text/plain"),
    )
    order = _order()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert (message.status, message.attempts) == (SmsStatus.SENT, 3)


def test_transient_failures_stop_at_max_attempts(at_settings, fake_at):
    fake_at.add(*[Reply(status=503, body="down", content_type="text/plain")] * 5)
    order = _order()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 3
    assert message.error.startswith("gave up after 3 attempts: HTTP 503")
    assert len(fake_at.received()) == 3


def test_retry_waits_for_backoff(at_settings, fake_at):
    at_settings.SMS_RETRY_BASE_SECONDS = 60
    at_settings.SMS_RETRY_MAX_SECONDS = 600
    fake_at.add(Reply(status=502, body="bad gateway", content_type="text/plain"))
    order = _order()
    before = timezone.now()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.QUEUED
    assert message.attempts == 1
    # First retry: between half and all of the base delay (jitter).
    assert before + timedelta(seconds=29) < message.next_attempt_at
    assert message.next_attempt_at < timezone.now() + timedelta(seconds=61)
    # The retry is enqueued but not yet due.
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert DBTaskResult.objects.ready().count() == 0
    assert len(fake_at.received()) == 1


def test_connection_refused_retries_and_order_creation_still_works(
    at_settings, fake_at, refused_url, staff_client
):
    at_settings.AFRICASTALKING_API_URL = refused_url
    response = staff_client.post(
        reverse("admin:orders_order_add"),
        {"customer": CustomerFactory().pk, "item": ItemFactory().pk, "quantity": 1},
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert SmsMessage.objects.get(order=order).status == SmsStatus.QUEUED

    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 3
    assert "provider unreachable" in message.error

    # The provider is back: a resend is a new message and goes out.
    at_settings.AFRICASTALKING_API_URL = fake_at.base_url
    resent = sms_resend(order=order, actor=None)
    run_worker()
    resent.refresh_from_db()
    assert resent.status == SmsStatus.SENT
    assert SmsMessage.objects.filter(order=order).count() == 2
    assert len(fake_at.received()) == 1


def test_read_timeout_is_unknown_outcome_not_retried(at_settings, fake_at):
    fake_at.add(Reply(delay=1.5))
    order = _order()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 1
    assert message.error.startswith(UNKNOWN_OUTCOME)
    assert len(fake_at.received()) == 1


def test_read_timeout_retried_when_allowed(at_settings, fake_at):
    at_settings.SMS_RETRY_READ_TIMEOUTS = True
    fake_at.add(Reply(delay=1.5))
    order = _order()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert (message.status, message.attempts) == (SmsStatus.SENT, 2)


def test_non_json_answer_is_unknown_outcome(at_settings, fake_at):
    fake_at.add(Reply(body='{"SMSMessageData": {}}', content_type="text/json"))
    order = _order()
    run_worker()
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.FAILED
    assert message.error.startswith(UNKNOWN_OUTCOME)


def test_same_task_twice_sends_once(at_settings, fake_at):
    order = _order()
    message = SmsMessage.objects.get(order=order)
    sms_send_task.enqueue(message.pk)  # a duplicate task for the same message
    assert run_worker() == 2
    assert len(fake_at.received()) == 1
    assert sms_send(message_id=message.pk) == "skipped"
    assert len(fake_at.received()) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (SmsStatus.SENT, 1)


def test_worker_dying_after_claim_never_resends(at_settings, fake_at):
    """The claim commits before the provider call; a row left in ``sending`` is reconciled."""
    order = _order()
    message = SmsMessage.objects.get(order=order)
    # What a worker killed during the provider call leaves behind: the committed claim.
    SmsMessage.objects.filter(pk=message.pk).update(
        status=SmsStatus.SENDING, attempts=1, claimed_at=timezone.now()
    )
    run_worker()  # the original task finds nothing to claim
    sms_send_task.enqueue(message.pk)
    run_worker()
    assert fake_at.received() == []

    assert sms_reconcile_stuck() == 0  # not yet past the timeout
    later = timezone.now() + timedelta(seconds=at_settings.SMS_SENDING_TIMEOUT_SECONDS + 1)
    assert sms_reconcile_stuck(now=later) == 1
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED
    assert message.error == UNKNOWN_OUTCOME
    assert sms_requeue_lost(now=later) == 0
    run_worker()
    assert fake_at.received() == []


def test_lost_enqueue_is_picked_up_by_the_sweep(at_settings, fake_at):
    order = _order()
    DBTaskResult.objects.all().delete()  # the process died between commit and enqueue
    assert run_worker() == 0
    later = timezone.now() + timedelta(minutes=11)
    assert sms_requeue_lost(now=later) == 1
    run_worker()
    assert SmsMessage.objects.get(order=order).status == SmsStatus.SENT
    assert len(fake_at.received()) == 1


def test_resend_requires_permission(at_settings, fake_at):
    from apps.core.errors import DomainError

    order = _order(send_confirmation=False)
    with pytest.raises(DomainError):
        sms_resend(order=order, actor=UserFactory(is_staff=True))
    assert not SmsMessage.objects.exists()
    allowed = UserFactory(is_staff=True, perms=["notifications.resend_sms"])
    message = sms_resend(order=order, actor=allowed)
    assert message.requested_by == allowed


def _worker_process(settings_dict, base_url):
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
        "DJANGO_SECRET_KEY": "test-only-not-a-secret",
        "DATABASE_URL": "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**settings_dict),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "SMS_BACKEND": "africastalking",
        "AFRICASTALKING_USERNAME": "custorder",
        "AFRICASTALKING_API_KEY": "test-api-key",
        "AFRICASTALKING_API_URL": base_url,
        "SMS_PROVIDER_TIMEOUT_SECONDS": "60",
    }
    return subprocess.Popen(
        [
            *(sys.executable, "manage.py", "db_worker", "--batch", "--no-reload"),
            *("--no-startup-delay", "--interval", "0", "-v", "0"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_worker_killed_mid_send_does_not_send_twice(at_settings, fake_at):
    """A real ``db_worker`` process is SIGKILLed while the provider holds its request."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a database shared with a worker subprocess (PostgreSQL)")
    fake_at.add(Reply(delay=20))
    order = _order()
    message = SmsMessage.objects.get(order=order)
    worker = _worker_process(connection.settings_dict, fake_at.base_url)
    try:
        deadline = time.monotonic() + 30
        while not fake_at.received() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(fake_at.received()) == 1, "the worker never called the provider"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (SmsStatus.SENDING, 1)
    assert DBTaskResult.objects.get().status == "RUNNING"  # the dead worker's task

    sms_send_task.enqueue(message.pk)  # even an explicit second task does not send
    run_worker()
    later = timezone.now() + timedelta(seconds=at_settings.SMS_SENDING_TIMEOUT_SECONDS + 1)
    assert sms_reconcile_stuck(now=later) == 1
    message.refresh_from_db()
    assert (message.status, message.error) == (SmsStatus.FAILED, UNKNOWN_OUTCOME)
    assert len(fake_at.received()) == 1


def test_immediate_backend_sends_right_after_commit(settings, at_settings, fake_at):
    """The local set-up (``make run``): no worker; the send runs after the order commits."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    fake_at.add(Reply(status=503, body="down", content_type="text/plain"))
    order = _order()
    message = SmsMessage.objects.get(order=order)
    # The transient failure is not retried at once: the sweep enqueues it later.
    assert (message.status, message.attempts) == (SmsStatus.QUEUED, 1)
    assert sms_requeue_lost(now=timezone.now() + timedelta(hours=1)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (SmsStatus.SENT, 2)
    assert len(fake_at.received()) == 2
