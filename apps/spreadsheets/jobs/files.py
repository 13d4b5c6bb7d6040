"""Where a job's files live (the default storage), what they are called and how long they stay.

Uploads wait under ``imports/`` for the check and the confirmation and are removed when the job
ends; exports (``exports/``) and error files (``imports/…-errors``) are kept for
``SPREADSHEET_FILE_TTL_HOURS``. Every web process and the worker must share the storage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from ..models import JobKind, SpreadsheetJob

UPLOAD_DIR = "imports"
EXPORT_DIR = "exports"


def file_ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.SPREADSHEET_FILE_TTL_HOURS)


def upload_store(upload: IO[bytes], *, name: str) -> tuple[str, str]:
    """Store an upload; its stored name and the SHA-256 of its bytes."""
    digest = hashlib.sha256()
    upload.seek(0)
    while chunk := upload.read(1024 * 1024):
        digest.update(chunk)
    upload.seek(0)
    return default_storage.save(f"{UPLOAD_DIR}/{name}", File(upload)), digest.hexdigest()


def upload_drop(job: SpreadsheetJob) -> None:
    """Remove an import's upload (the job ended: written, refused or cancelled)."""
    if job.kind == JobKind.IMPORT and job.stored_file:
        default_storage.delete(job.stored_file)


def error_file_name(job: SpreadsheetJob) -> str:
    return f"{UPLOAD_DIR}/{job.uuid.hex}-errors.{job.file_format}"


def export_file_name(plural: str, file_format: str, *, at: dt.datetime | None = None) -> str:
    """``orders-2026-12-07-020201.csv``: the model and when, in the configured time zone (an
    export made at 02:02 on 7 December in Nairobi is dated the 7th, whatever the server's
    clock zone)."""
    stamp = timezone.localtime(at or timezone.now()).strftime("%Y-%m-%d-%H%M%S")
    return f"{plural.replace(' ', '-')}-{stamp}.{file_format}"
