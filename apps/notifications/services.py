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
from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.errors import DomainError, LimitExceededError
from apps.core.money import format_money
from apps.orders.models import Order

from .delivery import apply_report
from .models import DeliveryReportOutcome, SmsDeliveryReport, SmsKind, SmsMessage, SmsStatus
from .sending import sms_reconcile_stuck
from .tasks import enqueue_send

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

RESEND_PERMISSION = "notifications.resend_sms"
BULK_BATCH_SIZE = 1000
TASK_BATCH_SIZE = 100


class SmsError(DomainError):
    pass


class SmsCapExceededError(LimitExceededError, SmsError):
    """A cost cap refused the send; ``retry_after`` says when it may succeed (seconds)."""


cap_logger = logging.getLogger("apps.notifications.caps")

# The key of the PostgreSQL advisory lock that serialises the cost guard ("SMS_CAPS").
CAP_LOCK_KEY = 0x534D535F43415053


def _counted() -> QuerySet[SmsMessage]:
    """Messages that count against the caps: all but those refused by a cap when queued (marked
    ``failed`` without ever being attempted) — they cost nothing, and counting them would keep
    the hourly cap shut for as long as orders keep coming."""
    return SmsMessage.objects.exclude(status=SmsStatus.FAILED, attempts=0)


def _hourly_count(now: datetime) -> int:
    return _counted().filter(date_created__gte=now - timedelta(hours=1)).count()


def sms_hourly_room() -> int | None:
    """How many more SMS the hourly cap (``SMS_MAX_PER_HOUR``) allows now; ``None``: no cap.

    A reading, not a reservation: only ``sms_caps_check`` (which holds the cap's lock) decides.
    """
    hourly = settings.SMS_MAX_PER_HOUR
    if not hourly:
        return None
    return max(0, hourly - _hourly_count(timezone.now()))


def _cap_lock() -> None:
    """Serialise every caller of the guard until the caller's transaction ends.

    PostgreSQL: a transaction-level advisory lock, so two transactions cannot both count the
    same room and both insert. SQLite has one writer at a time, and its transactions begin
    ``IMMEDIATE`` (``DATABASES`` options in settings): a transaction that queues SMS holds the
    write lock from its first statement, before it counts.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("The SMS cost guard must run inside the transaction that queues.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CAP_LOCK_KEY])


def sms_caps_check(*, orders: Sequence[Order], actor: Actor = None, resend: bool = False) -> None:
    """The cost guard: every path that queues SMS calls it, in the transaction that writes the
    messages, before writing them.

    Refuses (``SmsCapExceededError``) messages for ``orders`` that would take the system past
    ``SMS_MAX_PER_HOUR`` in the last hour and, for resends, any order that already had
    ``SMS_RESEND_MAX_PER_ORDER_PER_DAY`` resends. Holds the cap's lock until the transaction
    ends, so concurrent callers are decided one after the other on committed counts: no cap is
    overrun by a race. Refusals are logged (logger ``apps.notifications.caps``) with who asked.
    """
    per_order = settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY if resend else 0
    hourly = settings.SMS_MAX_PER_HOUR
    if not (per_order or hourly) or not orders:
        return
    _cap_lock()
    now = timezone.now()
    who = getattr(actor, "username", None) or "system"
    if per_order:
        rows = (
            _counted()
            .filter(
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


def sms_template_values(*, order: Order) -> dict[str, Any]:
    """The fields every SMS template may use (``checks.TEMPLATE_FIELDS`` names them).

    Uses the order's cached customer and item (no query when they are already loaded).
    """
    customer, item = order.customer, order.item
    total = Decimal(order.unit_price) * order.quantity
    return {
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


def sms_confirmation_text(*, order: Order) -> str:
    """The confirmation text for ``order`` from ``SMS_CONFIRMATION_TEMPLATE``."""
    return settings.SMS_CONFIRMATION_TEMPLATE.format_map(sms_template_values(order=order))


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


def _queue_automatic(message: SmsMessage, *, order: Order, actor: Actor) -> SmsMessage:
    """Save an automatic ``message`` (a confirmation or a status notice) through the cost guard.

    Over the hourly cap what caused it still goes through: the message is recorded as
    ``failed`` with the reason, so staff can resend it later.
    """
    try:
        sms_caps_check(orders=[order], actor=actor)
    except SmsCapExceededError:
        cap_logger.warning(
            "SMS %s for order %s not sent: hourly cap", message.kind, order.reference
        )
        message.status = SmsStatus.FAILED
        message.error = (
            f"Not sent: the system-wide cap of {settings.SMS_MAX_PER_HOUR} SMS per hour was "
            "reached."
        )
        message.save()
        return message
    message.save()
    _enqueue_on_commit([message.pk])
    return message


@transaction.atomic
def sms_confirmation_queue(*, order: Order, actor: Actor = None) -> SmsMessage:
    """Write the order's confirmation (``queued``) in the caller's transaction; send on commit.

    Over the hourly cap the order still goes through and the message is recorded ``failed``.
    """
    return _queue_automatic(_new_message(order), order=order, actor=actor)


def sms_status_text(*, order: Order, status: str) -> str:
    """The text telling the customer ``order`` moved to ``status`` (``SMS_STATUS_TEMPLATES``;
    ``placed`` is the confirmation). Same fields as the confirmation."""
    if status == "placed":
        return sms_confirmation_text(order=order)
    return settings.SMS_STATUS_TEMPLATES[status].format_map(sms_template_values(order=order))


@transaction.atomic
def sms_status_queue(*, order: Order, status: str, actor: Actor = None) -> SmsMessage | None:
    """Queue the customer's notice that ``order`` moved to ``status``, if ``SMS_NOTIFY_STATUSES``
    says that status notifies; ``None`` otherwise.

    The same path as the confirmation: a ``queued`` row in the caller's transaction, sent on
    commit, exactly once; over the hourly cap the move still happens and the message is
    recorded as ``failed`` with the reason. ``placed`` is the confirmation itself.
    """
    if status not in settings.SMS_NOTIFY_STATUSES:
        return None
    if status == "placed":
        return sms_confirmation_queue(order=order, actor=actor)
    message = _new_message(order)
    message.kind = SmsKind(status)
    message.text = sms_status_text(order=order, status=status)
    return _queue_automatic(message, order=order, actor=actor)


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


def _queue_many(orders: Sequence[Order], *, requested_by: Actor = None) -> int:
    messages = [_new_message(o, requested_by=requested_by) for o in orders]
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


@transaction.atomic
def sms_confirmations_queue_bulk(*, orders: Iterable[Order], actor: Actor = None) -> int:
    """Queue one confirmation per order with bulk inserts (imports); returns how many.

    All or nothing: ``SmsCapExceededError`` when they do not all fit under the hourly cap (the
    caller's transaction decides what else to undo). Orders should come with ``customer`` and
    ``item`` loaded; those that do not are fetched in a single query. Sends are enqueued in
    batches of ``TASK_BATCH_SIZE`` after commit.
    """
    orders = _with_relations(orders)
    sms_caps_check(orders=orders, actor=actor)
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
    sms_caps_check(orders=[order], actor=actor, resend=True)
    message = _new_message(order, requested_by=actor)
    message.save()
    _enqueue_on_commit([message.pk])
    return message


@transaction.atomic
def sms_resend_bulk(*, orders: Iterable[Order], actor: Actor) -> int:
    """``sms_resend`` for many orders with bulk inserts; returns how many were queued."""
    _check_resend_permission(actor)
    orders = _with_relations(orders)
    sms_caps_check(orders=orders, actor=actor, resend=True)
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
    retry_count: str = "",
) -> SmsDeliveryReport | None:
    """Record a provider delivery report and apply it to its message if it moves it forward.

    Every report is kept (``SmsDeliveryReport``) with its outcome: ``applied``; ``duplicate``
    (a replay); ``stale`` (the message already has this or a later status — a final status
    never changes); ``unmatched`` (no message has the id yet: applied when the worker stores
    it). ``None`` for a report without an id.
    """
    if not provider_message_id:
        return None
    report = SmsDeliveryReport(
        provider_message_id=provider_message_id[:100],
        status=status[:32],
        network_code=network_code[:16],
        failure_reason=failure_reason[:100],
        retry_count=retry_count[:16],
    )
    message = (
        SmsMessage.objects.select_for_update()
        .filter(provider_message_id=report.provider_message_id)
        .first()
    )
    if message is None:
        report.outcome = DeliveryReportOutcome.UNMATCHED
        report.save()
        return report
    outcome = apply_report(message, report)
    if outcome != DeliveryReportOutcome.APPLIED:
        logger.info(
            "SMS %s: delivery report %r ignored (%s; message is %s)",
            message.uuid,
            report.status,
            outcome,
            message.status,
        )
    return report
