"""Bulk moves run by the worker: the job, and the orders it was asked to move.

A move of more orders than ``ORDERS_BULK_ACTION_MAX`` does not run in the request: the admin
records the selection (each order with the version the operator's list showed) as an
:class:`OrderMoveJob` and the worker moves it in batches (``move_jobs.py``). Each batch is one
transaction that moves its orders, marks them done and adds to the job's counts, so progress is
exact and a stopped worker leaves nothing half-done.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.actors import Channel


class MoveJobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "finished"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


MOVE_JOB_ACTIVE = (MoveJobStatus.QUEUED, MoveJobStatus.RUNNING)


class OrderMoveJob(models.Model):
    """One bulk move: who asked, to which status, why, and how far it got."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.ADMIN)
    to = models.CharField("to", max_length=16)
    reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=MoveJobStatus.choices, default=MoveJobStatus.QUEUED
    )
    #: Orders the job will try to move (those that could make the move when it was asked).
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    moved = models.PositiveIntegerField(default=0)
    #: Orders left as they were, by their status (those that could not make the move).
    skipped = models.JSONField(default=dict, blank=True)
    #: Orders changed by someone else since the list was loaded: their count and first numbers.
    stale = models.PositiveIntegerField(default=0)
    stale_numbers = models.JSONField(default=list, blank=True)
    #: SMS the move sends (as counted when it was asked) and the cap's room then.
    sms_expected = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    date_created = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "bulk order move"
        verbose_name_plural = "bulk order moves"
        ordering = ["-date_created", "-id"]

    def __str__(self) -> str:
        return f"Move {self.total:,} orders to {self.to}"

    @property
    def finished(self) -> bool:
        return self.status not in MOVE_JOB_ACTIVE

    @property
    def skipped_count(self) -> int:
        return sum(int(n) for n in self.skipped.values())


class OrderMoveJobOrder(models.Model):
    """An order a job was asked to move, with the version the move is conditional on."""

    job = models.ForeignKey(OrderMoveJob, on_delete=models.CASCADE, related_name="orders")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    expected_version = models.PositiveIntegerField(null=True)
    done = models.BooleanField(default=False)

    class Meta:
        verbose_name = "order of a bulk move"
        constraints = [
            models.UniqueConstraint(fields=["job", "order"], name="order_move_job_order_once")
        ]
        indexes = [models.Index(fields=["job", "done", "order"], name="order_move_job_pending_idx")]

    def __str__(self) -> str:
        return f"order #{self.order_id} of bulk move #{self.job_id}"
