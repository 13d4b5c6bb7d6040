"""An export job's run: the registered selector, called with the arguments the job stored (the
list's filters, search and sort as plain data), written as CSV or XLSX into the storage."""

from __future__ import annotations

import logging
import tempfile
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from ..exports import csv_write, xlsx_write
from ..models import JobStatus, SpreadsheetJob
from ..readers import XLSX
from ..registry import SheetRegistration, sheet_registration
from .files import EXPORT_DIR, file_ttl
from .observer import JobObserver
from .states import JobCancelled, job_finish

logger = logging.getLogger(__name__)


def export_queryset(registration: SheetRegistration, arguments: dict[str, Any]) -> models.QuerySet:
    """The rows an export job writes (the one place its reads are made)."""
    return registration.export_selector(**arguments)


def export_run(job: SpreadsheetJob) -> None:
    """Run a claimed export job; its outcome is on the job."""
    registration = sheet_registration(job.model)
    try:
        queryset = export_queryset(registration, dict(job.options.get("selector", {})))
        total = queryset.count()
        SpreadsheetJob.objects.filter(pk=job.pk).update(rows_total=total)
        observer = JobObserver(job)
        with tempfile.TemporaryFile() as out:
            write = xlsx_write if job.file_format == XLSX else csv_write
            rows = write(registration.sheet(), queryset, out, observer.rows)
            size = out.tell()
            out.seek(0)
            stored = default_storage.save(f"{EXPORT_DIR}/{job.uuid.hex}/{job.file_name}", File(out))
    except JobCancelled:
        job_finish(job, JobStatus.CANCELLED, message="Cancelled: no file was written.")
        return
    except Exception:
        logger.exception("spreadsheet export %s failed", job.uuid)
        job_finish(
            job, JobStatus.FAILED, message="Failed: the export stopped (the error is logged)."
        )
        raise
    job_finish(
        job,
        JobStatus.SUCCEEDED,
        stored_file=stored,
        size=size,
        rows_read=rows,
        rows_total=rows,
        expires_at=timezone.now() + file_ttl(),
        message=f"Export finished: {rows:,} {registration.plural}.",
    )
