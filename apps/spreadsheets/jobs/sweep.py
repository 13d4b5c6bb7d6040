"""Housekeeping of spreadsheet jobs (``manage.py housekeeping``, registered in ``apps.py``)."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from ..models import JobKind, JobStatus, SpreadsheetJob
from .files import file_ttl, upload_drop


def jobs_sweep(*, now: dt.datetime | None = None) -> str:
    """Fail jobs whose run stopped beating (its write, if any, can no longer commit: it checks
    that it still owns the job); cancel previews nobody confirmed; delete expired files."""
    now = now or timezone.now()
    dead_before = now - timedelta(seconds=settings.SPREADSHEET_HEARTBEAT_TIMEOUT_SECONDS)
    died = 0
    for job in SpreadsheetJob.objects.filter(
        status=JobStatus.RUNNING, heartbeat_at__lt=dead_before
    ):
        what = "nothing was imported" if job.kind == JobKind.IMPORT else "no file was written"
        updated = SpreadsheetJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=dead_before
        ).update(
            status=JobStatus.FAILED,
            finished_at=now,
            run_token=None,
            message=f"Failed: the run stopped while working on this job: {what}. Start it again.",
        )
        if updated:
            died += 1
            upload_drop(job)
    abandoned = 0
    for job in SpreadsheetJob.objects.filter(
        status=JobStatus.AWAITING_CONFIRMATION, heartbeat_at__lt=now - file_ttl()
    ):
        abandoned += SpreadsheetJob.objects.filter(
            pk=job.pk, status=JobStatus.AWAITING_CONFIRMATION
        ).update(
            status=JobStatus.CANCELLED,
            finished_at=now,
            message="The preview was not confirmed in time: nothing was imported.",
        )
        upload_drop(job)
    expired = 0
    for job in SpreadsheetJob.objects.filter(expires_at__lt=now).exclude(
        stored_file="", error_file=""
    ):
        for name in (job.stored_file if job.kind == JobKind.EXPORT else "", job.error_file):
            if name:
                default_storage.delete(name)
        SpreadsheetJob.objects.filter(pk=job.pk).update(
            stored_file="" if job.kind == JobKind.EXPORT else job.stored_file, error_file=""
        )
        expired += 1
    return (
        f"{died} jobs of dead workers failed, {abandoned} previews expired, {expired} files deleted"
    )
