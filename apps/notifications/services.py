"""SMS confirmations: queue them (cost caps included), resend, requeue lost sends, record
delivery reports.

Each queued message is written in the caller's transaction and its send enqueued when that
commits; the worker's side — sending exactly once, retries — is ``sending.py`` and ``tasks.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.errors import DomainError, LimitExceededError
from apps.core.money import format_money
from apps.orders.models import Order

from .models import SmsMessage, SmsStatus
from .sending import sms_reconcile_stuck
from .tasks import enqueue_send

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

RESEND_PERMISSION = "notifications.resend_sms"
BULK_BATCH_SIZE = 1000
TASK_BATCH_SIZE = 100

# Delivery-report statuses (Africa's Talking) and what they make of a message.
DELIVERY_STATUS_MAP = {
    "Success": SmsStatus.DELIVERED,
    "Rejected": SmsStatus.REJECTED,
    "Failed": SmsStatus.FAILED,
    "AbsentSubscriber": SmsStatus.FAILED,
    "Expired": SmsStatus.FAILED,
    "Sent": SmsStatus.SENT,
    "Submitted": SmsStatus.SENT,
    "Buffered": SmsStatus.SENT,
}
FINAL_STATUSES = {SmsStatus.DELIVERED, SmsStatus.REJECTED, SmsStatus.FAILED}


class SmsError(DomainError):
    pass


class SmsCapExceededError(LimitExceededError, SmsError):
    """A cost cap refused the send; ``retry_after`` says when it may succeed (seconds)."""


cap_logger = logging.getLogger("apps.notifications.caps")


def _hourly_count(now: datetime) -> int:
    return SmsMessage.objects.filter(date_created__gte=now - timedelta(hours=1)).count()


def sms_hourly_room() -> int | None:
    """How many more SMS the hourly cap (``SMS_MAX_PER_HOUR``) allows now; ``None``: no cap."""
    hourly = settings.SMS_MAX_PER_HOUR
    if not hourly:
        return None
    return max(0, hourly - _hourly_count(timezone.now()))


def sms_caps_check(*, orders: Sequence[Order], actor: Actor = None) -> None:
    """Refuse resends over ``SMS_RESEND_MAX_PER_ORDER_PER_DAY`` for any order, or that would take
    the system past ``SMS_MAX_PER_HOUR`` messages in the last hour. Two queries. Refusals are
    logged (logger ``apps.notifications.caps``) with who asked."""
    now = timezone.now()
    per_order = settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY
    hourly = settings.SMS_MAX_PER_HOUR
    who = getattr(actor, "username", None) or "system"
    if per_order:
        rows = (
            SmsMessage.objects.filter(
                order__in=[o.pk for o in orders],
                requested_by__isnull=False,
                date_created__gte=now - timedelta(days=1),
            )
            .values("order_id")
            .annotate(n=Count("id"))
            .filter(n__gte=per_order)
            .values_list("order_id", flat=True)
        )
        over = set(rows)
        if over:
            refs = ", ".join(o.reference for o in orders if o.pk in over)
            cap_logger.warning(
                "SMS resend refused: per-order daily cap %s reached for %s (asked by %s)",
                per_order,
                refs,
                who,
            )
            raise SmsCapExceededError(
                f"Not sent: order {refs} already had {per_order} resends in the last 24 hours "
                "(daily resend cap).",
                retry_after=3600,
            )
    if hourly and _hourly_count(now) + len(orders) > hourly:
        cap_logger.warning(
            "SMS refused: hourly cap %s reached (%s more asked by %s)", hourly, len(orders), who
        )
        raise SmsCapExceededError(
            f"Not sent: the system-wide cap of {hourly} SMS per hour has been reached. "
            "Try again later.",
            retry_after=600,
        )


# --- queueing ---------------------------------------------------------------------------------


def sms_confirmation_text(*, order: Order) -> str:
    """The confirmation text for ``order`` from ``SMS_CONFIRMATION_TEMPLATE``.

    Uses the order's cached customer and item (no query when they are already loaded).
    """
    customer, item = order.customer, order.item
    total = Decimal(order.unit_price) * order.quantity
    values = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "reference": order.reference,
        "item": str(item),
        "item_name": item.name,
        "size": item.size,
        "quantity": order.quantity,
        "total": format_money(total),
        "currency": settings.CURRENCY,
    }
    return settings.SMS_CONFIRMATION_TEMPLATE.format_map(values)


def _new_message(order: Order, *, requested_by: Actor = None) -> SmsMessage:
    now = timezone.now()
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    return SmsMessage(
        order=order,
        phone=str(order.customer.phone_number),
        text=sms_confirmation_text(order=order),
        status=SmsStatus.QUEUED,
        # An authenticated actor is an instance of AUTH_USER_MODEL (auth.User); Actor is wider.
        requested_by=cast("User | None", user),
        date_created=now,
        date_modified=now,
    )


def _enqueue_on_commit(message_ids: Sequence[int], *, run_after: datetime | None = None) -> None:
    """Enqueue the send once the caller's transaction commits; nothing if it rolls back."""
    ids = list(message_ids)
    if ids:
        transaction.on_commit(lambda: enqueue_send(ids, run_after=run_after))


@transaction.atomic
def sms_confirmation_queue(*, order: Order, actor: Actor = None) -> SmsMessage:
    """Write the order's confirmation (``queued``) in the caller's transaction; send on commit.

    Over the hourly cap the order still goes through: the message is recorded as ``failed``
    with the reason, so staff can resend it later.
    """
    message = _new_message(order)
    hourly = settings.SMS_MAX_PER_HOUR
    if hourly and _hourly_count(timezone.now()) >= hourly:
        cap_logger.warning("SMS confirmation for order %s not sent: hourly cap", order.reference)
        message.status = SmsStatus.FAILED
        message.error = f"Not sent: the system-wide cap of {hourly} SMS per hour was reached."
        message.save()
        return message
    message.save()
    _enqueue_on_commit([message.pk])
    return message


def _with_relations(orders: Iterable[Order]) -> list[Order]:
    """The orders with customer and item loaded, fetching the missing ones in one query."""
    orders = list(orders)
    missing = [
        o.pk for o in orders if not (Order.customer.is_cached(o) and Order.item.is_cached(o))
    ]
    if missing:
        loaded = Order.objects.select_related("customer", "item").in_bulk(missing)
        orders = [loaded.get(o.pk, o) for o in orders]
    return orders


@transaction.atomic
def _queue_many(orders: Iterable[Order], *, requested_by: Actor = None) -> int:
    messages = [_new_message(o, requested_by=requested_by) for o in _with_relations(orders)]
    created = SmsMessage.objects.bulk_create(messages, batch_size=BULK_BATCH_SIZE)
    ids = [m.pk for m in created if m.pk is not None]
    if len(ids) != len(created):  # a database that does not return ids from bulk inserts
        ids = list(
            SmsMessage.objects.filter(uuid__in=[m.uuid for m in created]).values_list(
                "pk", flat=True
            )
        )
    for start in range(0, len(ids), TASK_BATCH_SIZE):
        _enqueue_on_commit(ids[start : start + TASK_BATCH_SIZE])
    return len(created)


def sms_confirmations_queue_bulk(*, orders: Iterable[Order]) -> int:
    """Queue one confirmation per order with bulk inserts (imports); returns how many.

    Orders should come with ``customer`` and ``item`` loaded; those that do not are fetched in
    a single query. Sends are enqueued in batches of ``TASK_BATCH_SIZE`` after commit.
    """
    return _queue_many(orders)


def _check_resend_permission(actor: Actor) -> None:
    if actor is not None and not actor.has_perm(RESEND_PERMISSION):  # type: ignore[union-attr]
        raise SmsError("You do not have permission to resend SMS confirmations.")


@transaction.atomic
def sms_resend(*, order: Order, actor: Actor) -> SmsMessage:
    """A new confirmation for ``order`` (to the customer's current number); earlier messages
    are left as they are."""
    _check_resend_permission(actor)
    if not (Order.customer.is_cached(order) and Order.item.is_cached(order)):
        order = Order.objects.select_related("customer", "item").get(pk=order.pk)
    sms_caps_check(orders=[order], actor=actor)
    message = _new_message(order, requested_by=actor)
    message.save()
    _enqueue_on_commit([message.pk])
    return message


def sms_resend_bulk(*, orders: Iterable[Order], actor: Actor) -> int:
    """``sms_resend`` for many orders with bulk inserts; returns how many were queued."""
    _check_resend_permission(actor)
    orders = _with_relations(orders)
    sms_caps_check(orders=orders, actor=actor)
    return _queue_many(orders, requested_by=actor)


# --- housekeeping -----------------------------------------------------------------------------


def sms_sweep() -> str:
    """The SMS chores of ``manage.py housekeeping`` (and ``sms_sweep``): stuck sends marked
    failed, lost enqueues enqueued again."""
    stuck = sms_reconcile_stuck()
    requeued = sms_requeue_lost()
    return f"{stuck} stuck marked failed, {requeued} re-enqueued"


def sms_requeue_lost(*, now: datetime | None = None, older_than_seconds: int = 600) -> int:
    """Enqueue again ``queued`` messages whose send should have run long ago.

    Covers a process that died between its commit and the enqueue. A duplicate task is
    harmless: only one run wins the claim.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    with transaction.atomic():
        ids = list(
            SmsMessage.objects.filter(status=SmsStatus.QUEUED)
            .alias(due=Coalesce("next_attempt_at", "date_modified"))
            .filter(due__lt=cutoff)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:10_000]
        )
        # Due now; the next sweep leaves them alone for another ``older_than_seconds``.
        SmsMessage.objects.filter(pk__in=ids).update(next_attempt_at=None, date_modified=now)
        for start in range(0, len(ids), TASK_BATCH_SIZE):
            _enqueue_on_commit(ids[start : start + TASK_BATCH_SIZE])
    return len(ids)


# --- delivery reports -------------------------------------------------------------------------


@transaction.atomic
def sms_delivery_report_record(
    *,
    provider_message_id: str,
    status: str,
    network_code: str = "",
    failure_reason: str = "",
) -> SmsMessage | None:
    """Apply a provider delivery report; ``None`` when no message has that id.

    Reports may arrive out of order: an intermediate status never overwrites a final one.
    """
    if not provider_message_id:
        return None
    message = (
        SmsMessage.objects.select_for_update()
        .filter(provider_message_id=provider_message_id)
        .first()
    )
    if message is None:
        return None
    new_status = DELIVERY_STATUS_MAP.get(status)
    if message.status in FINAL_STATUSES and new_status not in FINAL_STATUSES:
        return message
    now = timezone.now()
    fields: dict[str, Any] = {"delivery_status": status[:32], "date_modified": now}
    if network_code:
        fields["network_code"] = network_code[:16]
    if new_status is not None:
        fields["status"] = new_status
        if new_status == SmsStatus.DELIVERED:
            fields["delivered_at"] = now
        if new_status in (SmsStatus.FAILED, SmsStatus.REJECTED):
            reason = f" ({failure_reason})" if failure_reason else ""
            fields["error"] = f"delivery report: {status}{reason}"
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=list(fields))
    return message
