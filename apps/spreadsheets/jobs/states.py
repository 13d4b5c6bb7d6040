"""A job's states and the moves between them, each one conditional ``UPDATE``.

``queued`` → ``running`` (claimed by one run, which gets a token) → ``awaiting_confirmation``
(a checked import) → ``queued`` → ``running`` → ``succeeded``; or ``rejected`` (invalid rows),
``failed`` (a fault) or ``cancelled``. Every move names the state it leaves, so two runs, a
cancel and the sweep never both win; a run finishes only while it still owns the job.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.errors import DomainError

from ..models import JobKind, JobPhase, JobStatus, SpreadsheetJob
from .files import upload_drop


class JobError(DomainError):
    """A job cannot do what was asked (already confirmed, finished, not yours…)."""


class JobCancelled(Exception):
    """Raised inside a run when its job was cancelled: the run stops, nothing is written."""


class RunLostError(Exception):
    """The run no longer owns its job (the sweep declared its worker dead, or it was
    cancelled): its transaction rolls back, nothing is written."""


def job_claim(job: SpreadsheetJob) -> bool:
    """Take a queued job for this run (a second run for the same job finds nothing)."""
    now = timezone.now()
    token = uuid.uuid4()
    claimed = SpreadsheetJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        started_at=job.started_at or now,
        heartbeat_at=now,
        run_token=token,
    )
    if claimed:
        job.refresh_from_db()
    return bool(claimed)


def job_finish(job: SpreadsheetJob, status: str, **fields: Any) -> None:
    """End a run's job (outside any write: a check, an export, a failure) — unless the run no
    longer owns it (the sweep or a cancel ended it first: their word stands)."""
    now = timezone.now()
    owner = job.run_token
    fields.update(status=status, finished_at=now, heartbeat_at=now, run_token=None)
    jobs = SpreadsheetJob.objects.filter(pk=job.pk)
    if owner is not None:
        jobs = jobs.filter(run_token=owner)
    if jobs.update(**fields):
        for name, value in fields.items():
            setattr(job, name, value)
    else:
        job.refresh_from_db()


def job_await_confirmation(job: SpreadsheetJob, **fields: Any) -> None:
    """A checked import waits for its confirmation (its run is over) — only if this run still
    owns the job and nobody asked to cancel it since its last progress report: otherwise
    :class:`RunLostError` (the cancel or the sweep has the last word)."""
    fields.update(
        status=JobStatus.AWAITING_CONFIRMATION, heartbeat_at=timezone.now(), run_token=None
    )
    owned = SpreadsheetJob.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, run_token=job.run_token, cancel_requested=False
    ).update(**fields)
    if not owned:
        raise RunLostError
    for name, value in fields.items():
        setattr(job, name, value)


def job_finish_owned(job: SpreadsheetJob, status: str, **fields: Any) -> None:
    """End the job inside the write's transaction, only if this run still owns it: otherwise
    :class:`RunLostError`, and the write rolls back with it."""
    assert transaction.get_connection().in_atomic_block
    now = timezone.now()
    fields.update(status=status, finished_at=now, heartbeat_at=now, run_token=None)
    owned = SpreadsheetJob.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, run_token=job.run_token, cancel_requested=False
    ).update(**fields)
    if not owned:
        raise RunLostError
    for name, value in fields.items():
        setattr(job, name, value)


def job_requeue(job: SpreadsheetJob, **fields: Any) -> None:
    """Give a running job back to the queue (the worker takes over a run made in a request)."""
    SpreadsheetJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.QUEUED, run_token=None, **fields
    )
    job.refresh_from_db()


def job_confirm(*, job: SpreadsheetJob, actor: Actor, import_again: bool = False) -> SpreadsheetJob:
    """Queue the write of a checked import. Confirming twice is refused; a file identical to
    one imported before needs ``import_again``."""
    if job.report.get("repeat_of") and not import_again:
        raise JobError(
            "This file was imported before: tick “Import it again” to create its rows a second "
            "time."
        )
    confirmed = SpreadsheetJob.objects.filter(
        pk=job.pk, status=JobStatus.AWAITING_CONFIRMATION, cancel_requested=False
    ).update(status=JobStatus.QUEUED, phase=JobPhase.WRITE, message="")
    if not confirmed:
        job.refresh_from_db()
        raise JobError(f"This import cannot be confirmed: it is {job.get_status_display()}.")
    job.refresh_from_db()
    return job


def job_cancel(*, job: SpreadsheetJob, actor: Actor) -> SpreadsheetJob:
    """Cancel a job: at once when it waits, at its next progress report when it runs."""
    now = timezone.now()
    waiting = SpreadsheetJob.objects.filter(
        pk=job.pk, status__in=[JobStatus.QUEUED, JobStatus.AWAITING_CONFIRMATION]
    ).update(
        status=JobStatus.CANCELLED,
        cancel_requested=True,
        finished_at=now,
        run_token=None,
        message="Cancelled: nothing was imported." if job.kind == JobKind.IMPORT else "Cancelled.",
    )
    if waiting:
        job.refresh_from_db()
        upload_drop(job)
        return job
    running = SpreadsheetJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        cancel_requested=True
    )
    job.refresh_from_db()
    if not running:
        raise JobError(f"This job cannot be cancelled: it is {job.get_status_display()}.")
    return job
