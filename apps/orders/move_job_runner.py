"""The worker's side of a bulk move: batches through the one service that moves orders.

Each batch (``ORDERS_MOVE_JOB_BATCH`` orders, in primary-key order) is one transaction: the
moves (``transitions.order_transition_many``: the row locks, the version each move is conditional
on, the events, the SMS), the batch's orders marked done and the job's counts. Between batches
the job's heartbeat is stored and a cancel honoured.
"""

import logging
from collections import Counter

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Order
from .move_job_models import MoveJobStatus, OrderMoveJob, OrderMoveJobOrder
from .transitions import order_transition_many

logger = logging.getLogger(__name__)

#: How many stale order numbers the report names (the count is always whole).
STALE_NUMBERS_KEPT = 50


def _claim(job_id: int) -> OrderMoveJob | None:
    now = timezone.now()
    claimed = OrderMoveJob.objects.filter(pk=job_id, status=MoveJobStatus.QUEUED).update(
        status=MoveJobStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    return OrderMoveJob.objects.select_related("owner").get(pk=job_id) if claimed else None


def _finish(job: OrderMoveJob, status: str, message: str) -> str:
    now = timezone.now()
    OrderMoveJob.objects.filter(pk=job.pk).update(
        status=status, message=message, finished_at=now, heartbeat_at=now
    )
    return status


def order_move_job_summary(job: OrderMoveJob) -> str:
    """One line for the job's outcome: moved, skipped by status, changed by others, not reached."""
    parts = [f"{job.moved:,} of {job.total + job.skipped_count:,} orders moved to {job.to}"]
    if job.skipped:
        why = ", ".join(f"{n:,} {s}" for s, n in sorted(job.skipped.items()))
        parts.append(f"{job.skipped_count:,} skipped by their status ({why})")
    if job.stale:
        parts.append(f"{job.stale:,} left alone because someone changed them meanwhile")
    if job.done < job.total:
        parts.append(f"{job.total - job.done:,} not reached")
    return "; ".join(parts) + "."


def _batch(job: OrderMoveJob, size: int) -> bool:
    """Move the next batch; ``False`` when nothing is left."""
    pending = list(
        OrderMoveJobOrder.objects.filter(job=job, done=False)
        .order_by("order_id")
        .values_list("pk", "order_id", "expected_version")[:size]
    )
    if not pending:
        return False
    versions = {order_id: v for _, order_id, v in pending if v is not None}
    with transaction.atomic():
        orders = list(Order.objects.filter(pk__in=[order_id for _, order_id, _ in pending]))
        outcome = order_transition_many(
            orders=orders,
            to=job.to,
            actor=job.owner,
            channel=job.channel,
            reason=job.reason or None,
            reason_code=job.reason_code or None,
            expected_versions=versions,
        )
        skipped = Counter(job.skipped)
        skipped.update(outcome.skipped)
        job.skipped = dict(skipped)
        job.stale_numbers = (job.stale_numbers + [o.number for o in outcome.stale])[
            :STALE_NUMBERS_KEPT
        ]
        OrderMoveJobOrder.objects.filter(pk__in=[pk for pk, _, _ in pending]).update(done=True)
        OrderMoveJob.objects.filter(pk=job.pk).update(
            done=F("done") + len(pending),
            moved=F("moved") + len(outcome.moved),
            stale=F("stale") + len(outcome.stale),
            skipped=job.skipped,
            stale_numbers=job.stale_numbers,
            heartbeat_at=timezone.now(),
        )
    job.done += len(pending)
    job.moved += len(outcome.moved)
    job.stale += len(outcome.stale)
    return True


def order_move_job_run(job_id: int) -> str:
    """Run a queued job to its end (or its cancel); returns the status it ended in."""
    job = _claim(job_id)
    if job is None:
        return "not queued"
    if job.owner is None or not job.owner.is_active:
        return _finish(
            job,
            MoveJobStatus.FAILED,
            "The person who asked for this move can no longer sign in: nothing was moved.",
        )
    size = max(1, settings.ORDERS_MOVE_JOB_BATCH)
    try:
        while True:
            if OrderMoveJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
                return _finish(
                    job,
                    MoveJobStatus.CANCELLED,
                    "Cancelled: "
                    + order_move_job_summary(job)
                    + " The rest were left as they were.",
                )
            if not _batch(job, size):
                break
    except (PermissionDenied, ValidationError) as exc:
        text = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        return _finish(job, MoveJobStatus.FAILED, f"Stopped: {text} " + order_move_job_summary(job))
    except Exception:
        logger.exception("bulk move %s failed", job.uuid)
        _finish(
            job,
            MoveJobStatus.FAILED,
            "Stopped by an unexpected error (logged): " + order_move_job_summary(job),
        )
        raise
    return _finish(job, MoveJobStatus.SUCCEEDED, order_move_job_summary(job))
