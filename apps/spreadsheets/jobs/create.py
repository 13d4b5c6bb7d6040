"""Making jobs: an upload's import, an export of a filtered list, a command's run."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from django.utils import timezone

from apps.core.actors import Actor, actor_user

from ..limits import SheetLimits
from ..models import JobKind, JobPhase, JobStatus, SpreadsheetJob
from ..readers import detect_format
from ..registry import SheetRegistration
from .files import export_file_name, upload_store


def job_import_create(
    *,
    registration: SheetRegistration,
    upload: IO[bytes],
    file_name: str,
    size: int,
    skip_invalid: bool,
    options: Mapping[str, Any],
    actor: Actor,
) -> SpreadsheetJob:
    """Store an uploaded file and make its import job (queued for the check)."""
    head = upload.read(4)
    upload.seek(0)
    SheetLimits.from_settings().check_size(size)
    file_format = detect_format(file_name, head)
    job_uuid = uuid.uuid4()
    suffix = Path(file_name).suffix.lower()
    stored, digest = upload_store(upload, name=f"{job_uuid.hex}{suffix}")
    return SpreadsheetJob.objects.create(
        uuid=job_uuid,
        kind=JobKind.IMPORT,
        model=registration.label,
        status=JobStatus.QUEUED,
        phase=JobPhase.CHECK,
        owner=actor_user(actor),
        file_name=Path(file_name).name[:255],
        file_format=file_format,
        skip_invalid=skip_invalid,
        options=dict(options),
        stored_file=stored,
        digest=digest,
        size=size,
    )


def job_export_create(
    *,
    registration: SheetRegistration,
    arguments: Mapping[str, Any],
    file_format: str,
    actor: Actor,
) -> SpreadsheetJob:
    """An export job of the rows ``registration.export_selector(**arguments)`` returns
    (``arguments``: plain data — the list's filters, search and sort)."""
    return SpreadsheetJob.objects.create(
        kind=JobKind.EXPORT,
        model=registration.label,
        status=JobStatus.QUEUED,
        phase=JobPhase.EXPORT,
        owner=actor_user(actor),
        file_name=export_file_name(registration.plural, file_format),
        file_format=file_format,
        options={"selector": dict(arguments)},
    )


def job_for_command(
    *,
    kind: str,
    registration: SheetRegistration,
    file_name: str,
    file_format: str,
    actor: Actor,
    skip_invalid: bool = False,
    options: Mapping[str, Any] | None = None,
    digest: str = "",
) -> SpreadsheetJob:
    """The record of a command's run (already running: the command is the run)."""
    now = timezone.now()
    return SpreadsheetJob.objects.create(
        kind=kind,
        model=registration.label,
        status=JobStatus.RUNNING,
        phase=JobPhase.EXPORT if kind == JobKind.EXPORT else JobPhase.WRITE,
        owner=actor_user(actor),
        file_name=file_name[-255:],
        file_format=file_format,
        skip_invalid=skip_invalid,
        options={**(options or {}), "command": True},
        digest=digest,
        started_at=now,
        heartbeat_at=now,
        run_token=uuid.uuid4(),
    )
