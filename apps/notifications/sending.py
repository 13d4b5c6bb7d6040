"""Sending SMS exactly once: claim, call the provider, record the outcome (the worker's side).

Exactly-once rule (docs/sms.md): a worker first *claims* a message with a conditional UPDATE
(``queued`` -> ``sending``, ``attempts`` + 1, committed before the provider is called), then
calls the provider, then records the outcome. Only the worker whose UPDATE matched may send, so
a task that runs twice, or two workers on the same row, send once. A row left in ``sending``
(the worker died between the claim and the record) is never sent again automatically: the
sweep marks it ``failed`` with :data:`UNKNOWN_OUTCOME` and a person decides whether to resend.

A transient failure puts the message back to ``queued`` with ``next_attempt_at``; the task that
ran the send enqueues the retry for that time (``tasks.py``).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .backends import (
    SmsPermanentError,
    SmsTransientError,
    SmsUnknownOutcomeError,
    get_backend,
)
from .delivery import apply_unmatched_reports
from .models import DeliveryReportOutcome, SmsDeliveryReport, SmsMessage, SmsStatus

logger = logging.getLogger(__name__)

UNKNOWN_OUTCOME = "unknown outcome — check provider/delivery report before resending"


def _retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: half the step fixed, half random (no thundering herd)."""
    base = float(settings.SMS_RETRY_BASE_SECONDS)
    step = min(float(settings.SMS_RETRY_MAX_SECONDS), base * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=step / 2 + random.uniform(0, step / 2))  # noqa: S311


def _claim(message_id: int, now: datetime) -> SmsMessage | None:
    claimed = (
        SmsMessage.objects.filter(pk=message_id, status=SmsStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            status=SmsStatus.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            date_modified=now,
        )
    )
    if not claimed:
        return None
    return SmsMessage.objects.get(pk=message_id)


def _record(message: SmsMessage, **fields: Any) -> bool:
    """Store the outcome of the attempt this worker claimed (matched by its attempt number)."""
    fields["date_modified"] = timezone.now()
    return bool(
        SmsMessage.objects.filter(
            pk=message.pk,
            attempts=message.attempts,
            status__in=[SmsStatus.SENDING, SmsStatus.FAILED],
        ).update(**fields)
    )


def sms_send(*, message_id: int) -> str:
    """Send one queued message if this call wins the claim; returns what happened.

    Must run outside any transaction: the claim has to be committed before the provider is
    called, so that no other worker (and no later run of the same task) can claim it again.
    """
    # Built before the claim: a misconfigured backend leaves the message queued (the task
    # fails visibly and the sweep enqueues it again once the configuration is fixed).
    backend = get_backend()
    message = _claim(message_id, timezone.now())
    if message is None:
        return "skipped"
    try:
        result = backend.send(phone=message.phone, text=message.text)
    except SmsTransientError as exc:
        if message.attempts >= settings.SMS_MAX_ATTEMPTS:
            _record(
                message,
                status=SmsStatus.FAILED,
                provider_status_code=exc.status_code,
                error=f"gave up after {message.attempts} attempts: {exc.message}",
                next_attempt_at=None,
            )
            logger.warning("SMS %s failed for good: %s", message.uuid, exc.message)
            return "failed"
        run_after = timezone.now() + _retry_delay(message.attempts)
        # Queued again, due at ``run_after``: the task that called this enqueues the retry
        # (tasks.py); if that enqueue is lost, the sweep finds the message due.
        _record(
            message,
            status=SmsStatus.QUEUED,
            provider_status_code=exc.status_code,
            error=f"attempt {message.attempts}: {exc.message}",
            next_attempt_at=run_after,
        )
        logger.info("SMS %s will be retried at %s: %s", message.uuid, run_after, exc.message)
        return "retry"
    except SmsPermanentError as exc:
        _record(
            message,
            status=SmsStatus.FAILED,
            provider_status_code=exc.status_code,
            error=exc.message,
            next_attempt_at=None,
        )
        logger.warning("SMS %s refused: %s", message.uuid, exc.message)
        return "failed"
    except SmsUnknownOutcomeError as exc:
        _record(
            message,
            status=SmsStatus.FAILED,
            error=f"{UNKNOWN_OUTCOME} ({exc.message})",
            next_attempt_at=None,
        )
        logger.error("SMS %s: %s (%s)", message.uuid, UNKNOWN_OUTCOME, exc.message)
        return "unknown"
    except Exception as exc:
        # A bug or misconfiguration in the backend: the provider may or may not have been
        # called, so the row is treated like any other unknown outcome.
        _record(
            message,
            status=SmsStatus.FAILED,
            error=f"{UNKNOWN_OUTCOME} ({type(exc).__name__}: {exc})",
            next_attempt_at=None,
        )
        logger.exception("SMS %s: backend error", message.uuid)
        return "unknown"
    recorded = _record(
        message,
        status=SmsStatus.SENT,
        provider_message_id=result.provider_message_id,
        provider_status_code=result.status_code,
        cost=result.cost,
        error="",
        next_attempt_at=None,
        sent_at=timezone.now(),
    )
    if recorded and result.provider_message_id:
        apply_early_reports(message_id=message.pk, provider_message_id=result.provider_message_id)
    return "sent"


def apply_early_reports(*, message_id: int, provider_message_id: str) -> int:
    """Apply delivery reports that arrived before the provider's id was stored on the message
    (a fast provider can report before the worker records its answer)."""
    pending = SmsDeliveryReport.objects.filter(
        provider_message_id=provider_message_id, outcome=DeliveryReportOutcome.UNMATCHED
    )
    if not pending.exists():
        return 0
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().get(pk=message_id)
        return apply_unmatched_reports(message)


# --- housekeeping -----------------------------------------------------------------------------


def sms_reconcile_stuck(*, now: datetime | None = None) -> int:
    """Mark messages stuck in ``sending`` past ``SMS_SENDING_TIMEOUT_SECONDS`` as failed.

    They are not resent: the provider may have sent them before the worker died.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS)
    return SmsMessage.objects.filter(status=SmsStatus.SENDING, claimed_at__lt=cutoff).update(
        status=SmsStatus.FAILED, error=UNKNOWN_OUTCOME, next_attempt_at=None, date_modified=now
    )


def sms_match_unmatched_reports() -> int:
    """Apply kept delivery reports whose provider id a message now has (a report that raced the
    worker's record of the id); returns how many were applied or ignored."""
    ids = (
        SmsMessage.objects.filter(
            provider_message_id__in=SmsDeliveryReport.objects.filter(
                outcome=DeliveryReportOutcome.UNMATCHED
            ).values("provider_message_id")
        )
        .exclude(provider_message_id="")
        .values_list("pk", "provider_message_id")[:1000]
    )
    return sum(
        apply_early_reports(message_id=pk, provider_message_id=provider_id)
        for pk, provider_id in ids
    )
