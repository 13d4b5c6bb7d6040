"""Running a queued job: in a web request, bounded by the work done, or on the worker.

A web request tries a job itself first and stops at ``SPREADSHEET_REQUEST_MAX_ROWS`` rows or
``SPREADSHEET_REQUEST_MAX_BYTES`` bytes read (inflated, for a workbook): whatever the size of the
upload on disk, a request never reads more. Past the bound the job goes back to the queue, for
the worker, which starts it again (a check writes nothing; a write rolls back). An import's
write runs in the request only when its check counted no more rows than the bound.
"""

from __future__ import annotations

import logging

from apps.core.replica import replica_reads

from ..limits import ReadBound, ReadBoundReached
from ..models import JobKind, JobPhase, JobStatus, SpreadsheetJob
from .exports import export_run
from .imports import import_run
from .states import job_claim, job_requeue

logger = logging.getLogger(__name__)

#: What ``job_run`` says when the request handed the job to the worker.
HANDED_OVER = "handed_over"


def job_run(job_id: int, *, in_request: bool = False) -> str:
    """Run a queued job; its new status, ``HANDED_OVER`` (the caller enqueues it for the worker)
    or ``skipped`` when another run has it."""
    job = SpreadsheetJob.objects.filter(pk=job_id).first()
    if job is None or not job_claim(job):
        return "skipped"
    bound = ReadBound.from_settings() if in_request else None
    try:
        if job.kind == JobKind.EXPORT:
            # An export reads the replica when it may serve the job's owner
            # (apps/core/replica.py); the job's own rows are written on the primary.
            with replica_reads(user=job.owner):
                export_run(job)
        else:
            import_run(job, bound=bound)
    except ReadBoundReached:
        job_requeue(job, rows_read=0, bytes_read=0)
        return HANDED_OVER
    except Exception:
        if not in_request:
            raise  # the worker records the task's failure
        # Already marked failed and logged by the run: the page says so, never a 500.
        logger.warning("spreadsheet job %s failed in a request", job.uuid)
    return job.status


def job_fits_request(job: SpreadsheetJob) -> bool:
    """Whether a confirmed import may be written in the request: its check counted the rows."""
    bound = ReadBound.from_settings()
    return (
        job.kind == JobKind.IMPORT
        and job.phase == JobPhase.WRITE
        and job.status == JobStatus.QUEUED
        and job.rows_read <= bound.rows
        and job.bytes_read <= bound.bytes
    )
