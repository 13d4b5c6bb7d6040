"""SMS messages: queue them (cost caps included), resend, requeue lost sends, record delivery
reports.

This app knows nothing of orders: the app a message is about hands over an ``SmsDraft`` (the
subject — its id, label and phone — the kind and the text; ``subjects.py``). Each queued message
is written in the caller's transaction and its send enqueued when that commits; the worker's
side — sending exactly once, retries — is ``sending.py`` and ``tasks.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.actors import Actor, Channel, actor_label, actor_user
from apps.core.errors import DomainError, LimitExceededError

from .delivery import apply_report
from .models import DeliveryReportOutcome, SmsDeliveryReport, SmsMessage, SmsStatus
from .sending import sms_reconcile_stuck
from .subjects import SmsDraft, SmsSubject
from .tasks import enqueue_send

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


def sms_caps_check(
    *, subjects: Sequence[SmsSubject], actor: Actor = None, resend: bool = False
) -> None:
    """The cost guard: every path that queues SMS calls it, in the transaction that writes the
    messages, before writing them.

    Refuses (``SmsCapExceededError``) messages for ``subjects`` that would take the system past
    ``SMS_MAX_PER_HOUR`` in the last hour and, for resends, any subject that already had
    ``SMS_RESEND_MAX_PER_ORDER_PER_DAY`` resends. Holds the cap's lock until the transaction
    ends, so concurrent callers are decided one after the other on committed counts: no cap is
    overrun by a race. Refusals are logged (logger ``apps.notifications.caps``) with who asked.
    """
    per_subject = settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY if resend else 0
    hourly = settings.SMS_MAX_PER_HOUR
    if not (per_subject or hourly) or not subjects:
        return
    _cap_lock()
    now = timezone.now()
    who = actor_label(actor_user(actor))
    if per_subject:
        rows = (
            _counted()
            .filter(
                order__in=[s.pk for s in subjects],
                requested_by__isnull=False,
                date_created__gte=now - timedelta(days=1),
            )
            .values("order_id")
            .annotate(n=Count("id"))
            .filter(n__gte=per_subject)
            .values_list("order_id", flat=True)
        )
        over = set(rows)
        if over:
            names = ", ".join(s.label for s in subjects if s.pk in over)
            cap_logger.warning(
                "SMS resend refused: per-order daily cap %s reached for %s (asked by %s)",
                per_subject,
                names,
                who,
            )
            raise SmsCapExceededError(
                f"Not sent: {names} already had {per_subject} resends in the last 24 hours "
                "(daily resend cap).",
                retry_after=3600,
            )
    if hourly and _hourly_count(now) + len(subjects) > hourly:
        cap_logger.warning(
            "SMS refused: hourly cap %s reached (%s more asked by %s)", hourly, len(subjects), who
        )
        raise SmsCapExceededError(
            f"Not sent: the system-wide cap of {hourly} SMS per hour has been reached. "
            "Try again later.",
            retry_after=600,
        )


# --- queueing ---------------------------------------------------------------------------------


def _new_message(draft: SmsDraft, *, channel: str, requested_by: Actor = None) -> SmsMessage:
    now = timezone.now()
    return SmsMessage(
        order_id=draft.subject.pk,
        kind=draft.kind,
        phone=draft.subject.phone,
        text=draft.text,
        status=SmsStatus.QUEUED,
        requested_by=actor_user(requested_by),
        channel=channel,
        date_created=now,
        date_modified=now,
    )


def _enqueue_on_commit(message_ids: Sequence[int], *, run_after: datetime | None = None) -> None:
    """Enqueue the send once the caller's transaction commits; nothing if it rolls back."""
    ids = list(message_ids)
    if ids:
        transaction.on_commit(lambda: enqueue_send(ids, run_after=run_after))


@transaction.atomic
def sms_queue(*, draft: SmsDraft, actor: Actor = None, channel: str = Channel.SYSTEM) -> SmsMessage:
    """Write an automatic message (``queued``) in the caller's transaction; send on commit.

    Goes through the cost guard; over the hourly cap what caused it still goes through: the
    message is recorded ``failed`` with the reason, so staff can resend it later.
    """
    message = _new_message(draft, channel=channel)
    try:
        sms_caps_check(subjects=[draft.subject], actor=actor)
    except SmsCapExceededError:
        cap_logger.warning("SMS %s for %s not sent: hourly cap", draft.kind, draft.subject.label)
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


def _queue_many(drafts: Sequence[SmsDraft], *, channel: str, requested_by: Actor = None) -> int:
    messages = [_new_message(d, channel=channel, requested_by=requested_by) for d in drafts]
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
def sms_queue_bulk(
    *, drafts: Sequence[SmsDraft], actor: Actor = None, channel: str = Channel.SYSTEM
) -> int:
    """Queue automatic messages with bulk inserts (imports); returns how many.

    All or nothing: ``SmsCapExceededError`` when they do not all fit under the hourly cap (the
    caller's transaction decides what else to undo). Sends are enqueued in batches of
    ``TASK_BATCH_SIZE`` after commit.
    """
    sms_caps_check(subjects=[d.subject for d in drafts], actor=actor)
    return _queue_many(drafts, channel=channel)


def _check_resend_permission(actor: Actor) -> None:
    if actor is not None and not actor.has_perm(RESEND_PERMISSION):  # type: ignore[union-attr]  # AnonymousUser has has_perm too; the stubs' union does not say so
        raise SmsError("You do not have permission to resend SMS messages.")


@transaction.atomic
def sms_resend(*, draft: SmsDraft, actor: Actor, channel: str = Channel.SYSTEM) -> SmsMessage:
    """A new message for the draft's subject, asked for by ``actor`` (to the current number);
    earlier messages are left as they are. Counted against the per-order resend cap."""
    _check_resend_permission(actor)
    sms_caps_check(subjects=[draft.subject], actor=actor, resend=True)
    message = _new_message(draft, channel=channel, requested_by=actor)
    message.save()
    _enqueue_on_commit([message.pk])
    return message


@transaction.atomic
def sms_resend_bulk(
    *, drafts: Sequence[SmsDraft], actor: Actor, channel: str = Channel.SYSTEM
) -> int:
    """``sms_resend`` for many subjects with bulk inserts; returns how many were queued."""
    _check_resend_permission(actor)
    sms_caps_check(subjects=[d.subject for d in drafts], actor=actor, resend=True)
    return _queue_many(drafts, channel=channel, requested_by=actor)


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
