from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from apps.notifications.models import SmsMessage, SmsStatus
from apps.notifications.services import BULK_BATCH_SIZE
from apps.orders.models import Order
from apps.orders.services import order_create
from tests.factories import CustomerFactory, ItemFactory, OrderFactory
from tests.sms_helpers import (
    sms_confirmation_queue,
    sms_confirmation_text,
    sms_confirmations_queue_bulk,
)

pytestmark = pytest.mark.django_db


def test_order_create_queues_confirmation_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        order = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    message = SmsMessage.objects.get(order=order)
    assert message.status == SmsStatus.QUEUED
    assert message.phone == str(order.customer.phone_number)
    assert len(callbacks) == 1
    assert not DBTaskResult.objects.exists()  # nothing enqueued before the commit
    callbacks[0]()
    task = DBTaskResult.objects.get()
    assert task.task_path == "apps.notifications.tasks.sms_send_task"
    assert task.args_kwargs == {"args": [message.pk], "kwargs": {}}


def test_rollback_queues_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
        raise RuntimeError
    assert callbacks == []
    assert not Order.objects.exists()
    assert not SmsMessage.objects.exists()


def test_confirmation_text_uses_template(settings):
    settings.SMS_CONFIRMATION_TEMPLATE = "{first_name}|{reference}|{quantity}|{item}|{total}"
    order = OrderFactory(
        customer=CustomerFactory(first_name="Brian"),
        item=ItemFactory(name="Hoodie", size="XL", price=Decimal("1250.50")),
        quantity=3,
    )
    assert sms_confirmation_text(order=order) == (
        f"Brian|{order.number}|3|Hoodie (XL)|KES 3,751.50"
    )


def test_bad_template_fails_system_check(settings):
    settings.SMS_CONFIRMATION_TEMPLATE = "Hi {name}"
    assert "orders.E001" in [e.id for e in run_checks()]


def test_bulk_queue_without_per_row_queries(
    django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    customer, item = CustomerFactory(), ItemFactory()
    orders = [OrderFactory(customer=customer, item=item) for _ in range(250)]
    # Savepoint, the cost guard (its lock on PostgreSQL, one count), the inserts, release. The
    # inserts are one per batch the database takes: one on PostgreSQL; SQLite caps a statement
    # at 999 parameters, so 250 messages of 21 columns take six. None per order.
    per_insert = connection.ops.bulk_batch_size(SmsMessage._meta.concrete_fields, orders)
    inserts = -(-len(orders) // min(per_insert, BULK_BATCH_SIZE))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        django_assert_max_num_queries(4 + inserts),
    ):
        count = sms_confirmations_queue_bulk(orders=orders)
    assert count == 250
    assert SmsMessage.objects.filter(status=SmsStatus.QUEUED).count() == 250
    assert len(callbacks) == 3  # batches of 100 messages
    assert DBTaskResult.objects.count() == 3


def test_bulk_queue_loads_missing_relations_in_one_query(
    django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(20):
        OrderFactory()
    bare = list(Order.objects.all())  # customer and item not loaded
    # Savepoint, the relations, the cost guard (its lock on PostgreSQL, one count), the bulk
    # insert, release: none per order.
    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(6):
        assert sms_confirmations_queue_bulk(orders=bare) == 20
    phones = set(SmsMessage.objects.values_list("phone", flat=True))
    assert phones == {
        str(o.customer.phone_number) for o in Order.objects.select_related("customer")
    }


def test_queue_in_callers_transaction(django_capture_on_commit_callbacks):
    order = OrderFactory()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        message = sms_confirmation_queue(order=order)
    assert len(callbacks) == 1
    assert SmsMessage.objects.get() == message
