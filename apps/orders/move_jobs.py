"""Bulk moves as jobs: asked for in the admin, run by the worker (``move_job_runner.py``).

- :func:`order_move_job_create` checks the move (status, reason, the actor's permission) and
  records the orders that can make it, each with the version the move is conditional on: the
  version the operator's list showed where it showed one, else the version read now. Orders that
  cannot make the move are counted by status at once (the report's "skipped"). The worker is
  handed the job when the transaction commits.
- :func:`order_move_job_cancel` stops a queued job at once, a running one after its current
  batch (what was moved stays moved; the rest is left as it was).
- :func:`order_move_jobs_sweep` (housekeeping) marks failed a running job whose worker stopped
  reporting: its last batch rolled back with the worker's connection, so nothing is half-done.

The job runs with the channel it was asked through (``admin``): the channel says where a write
was asked for, not which process carried it out — a move of 40 orders made in the request and one
of 4,000 made by the worker read the same on the timeline, as an import run by the worker reads
``import``. ``worker`` is left for what the worker does of its own accord (SMS retries, sweeps).
"""

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.core.actors import Actor, Channel, actor_user
from apps.core.errors import DomainError

from .models import Order
from .move_job_models import MoveJobStatus, OrderMoveJob, OrderMoveJobOrder
from .rules import TRANSITIONS, order_transition_allowed
from .tasks import order_move_job_enqueue
from .transitions import order_transition_check

INSERT_BATCH = 5000


class MoveJobError(DomainError):
    code = "move_job_refused"


def order_statuses_into(to: str) -> list[str]:
    """The statuses an order can move to ``to`` from."""
    return [status for status, targets in TRANSITIONS.items() if to in targets]


@transaction.atomic
def order_move_job_create(
    *,
    orders: QuerySet[Order],
    to: str,
    actor: Actor,
    channel: str = Channel.ADMIN,
    reason: str | None = None,
    reason_code: str | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> OrderMoveJob:
    """A job moving ``orders`` to ``to`` (see the module docstring); ``MoveJobError`` when none
    of them can make the move or there are more than ``ORDERS_MOVE_JOB_MAX``."""
    target, code, text = order_transition_check(
        to=to, reason=reason, reason_code=reason_code, actor=actor
    )
    by_status = Counter(dict(orders.order_by().values_list("status").annotate(n=Count("pk"))))
    eligible = sum(n for s, n in by_status.items() if order_transition_allowed(s, target))
    if eligible == 0:
        raise MoveJobError(f"None of the selected orders can move to {target}: nothing to do.")
    limit = settings.ORDERS_MOVE_JOB_MAX
    if eligible > limit:
        raise MoveJobError(
            f"{eligible:,} orders can move: at most {limit:,} move in one job (filter the list, "
            "e.g. by date)."
        )
    job = OrderMoveJob.objects.create(
        owner=actor_user(actor),
        channel=channel,
        to=target,
        reason=text,
        reason_code=code,
        skipped={s: n for s, n in by_status.items() if not order_transition_allowed(s, target)},
    )
    versions = expected_versions or {}
    rows = (
        orders.filter(status__in=order_statuses_into(target))
        .order_by("pk")
        .values_list("pk", "version")
    )
    batch: list[OrderMoveJobOrder] = []
    total = 0
    for pk, version in rows.iterator(chunk_size=INSERT_BATCH):
        batch.append(
            OrderMoveJobOrder(job=job, order_id=pk, expected_version=versions.get(pk, version))
        )
        if len(batch) == INSERT_BATCH:
            OrderMoveJobOrder.objects.bulk_create(batch)
            total += len(batch)
            batch = []
    OrderMoveJobOrder.objects.bulk_create(batch)
    job.total = total + len(batch)
    # Each order moved texts its customer when the target status notifies (the cost guard
    # decides, message by message, as for a move in the request).
    job.sms_expected = job.total if target in settings.SMS_NOTIFY_STATUSES else 0
    job.save(update_fields=["total", "sms_expected"])
    transaction.on_commit(lambda: order_move_job_enqueue(job.pk))
    return job


@transaction.atomic
def order_move_job_cancel(*, job: OrderMoveJob, actor: Actor) -> OrderMoveJob:
    """Stop ``job``: a queued one at once, a running one after its current batch."""
    locked = OrderMoveJob.objects.select_for_update().get(pk=job.pk)
    if locked.finished:
        raise MoveJobError(f"This move is already {locked.get_status_display()}.")
    if locked.status == MoveJobStatus.QUEUED:
        locked.status = MoveJobStatus.CANCELLED
        locked.finished_at = timezone.now()
        locked.message = "Cancelled before it started: no order was moved."
    locked.cancel_requested = True
    locked.save(update_fields=["status", "finished_at", "message", "cancel_requested"])
    return locked


def order_move_jobs_sweep(*, now: datetime | None = None) -> str:
    """Mark failed the running jobs whose worker stopped reporting (housekeeping)."""
    now = now or timezone.now()
    dead_before = now - timedelta(seconds=settings.ORDERS_MOVE_JOB_HEARTBEAT_TIMEOUT_SECONDS)
    dead = 0
    for job in OrderMoveJob.objects.filter(
        status=MoveJobStatus.RUNNING, heartbeat_at__lt=dead_before
    ):
        dead += OrderMoveJob.objects.filter(
            pk=job.pk, status=MoveJobStatus.RUNNING, heartbeat_at__lt=dead_before
        ).update(
            status=MoveJobStatus.FAILED,
            finished_at=now,
            message=(
                f"The worker stopped after {job.done:,} of {job.total:,} orders "
                f"({job.moved:,} moved); the others were left as they were. Select them again "
                "to finish."
            ),
        )
    return f"{dead} stopped bulk move(s) marked failed"
