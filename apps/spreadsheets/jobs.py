"""Spreadsheet jobs: imports and exports run by the worker, with progress, cancel and cleanup.

The admin (and ``manage.py import_file``/``export_file``) create a job; the worker
(``tasks.py``) runs it through the same engine as everything else. Small files may be run at once
in the request (``SPREADSHEET_SYNC_MAX_BYTES``, ``EXPORT_SYNC_MAX_ROWS``): the job record and the
pages are the same either way.

- **Import**: the check (every row read and checked, nothing written) ends in
  ``awaiting_confirmation`` with the preview and, when rows are invalid, an error report (the
  failing rows as uploaded, with an ``error`` column); confirming queues the write, which refuses
  if the data changed since the check (the preview is binding) and is one transaction.
- **Export**: the file is written to the default storage and kept until ``expires_at``.
- **Progress** (rows read, estimated total, heartbeat) is stored at most once a second. While an
  import writes, the transaction must not hold the job's row, so progress is stored through the
  ``jobs`` database alias (a second connection to the same database; PostgreSQL only) — on other
  databases the write phase reports only its outcome.
- **Cancel** asks the running job to stop at its next progress report (nothing is written: the
  transaction rolls back); a queued or previewed job is cancelled at once.
- **Dead workers**: a running job whose heartbeat is older than
  ``SPREADSHEET_HEARTBEAT_TIMEOUT_SECONDS`` is marked failed by the housekeeping sweep; its write
  transaction, if any, died with the worker's connection, so nothing was written.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, connections
from django.test import RequestFactory
from django.utils import timezone

from apps.core.actors import Actor, actor_user
from apps.core.errors import DomainError
from apps.core.replica import replica_reads

from .cells import cell_text
from .engine import ImportReport, PreviewOutdatedError
from .exports import csv_write, xlsx_write
from .limits import ImportFileError, SheetLimits
from .models import JobKind, JobPhase, JobStatus, SpreadsheetJob
from .plan import PreviewRow, RowError
from .readers import XLSX, Table, detect_format, read_table
from .xlsx_writer import XlsxWriter

logger = logging.getLogger(__name__)

UPLOAD_DIR = "imports"
EXPORT_DIR = "exports"
PROGRESS_INTERVAL = 1.0


class JobError(DomainError):
    """A job cannot do what was asked (already confirmed, finished, not yours…)."""


class JobCancelled(Exception):
    """Raised inside a run when its job was cancelled: the run stops, nothing is written."""


# --- where a job's model is handled --------------------------------------------------------


def spreadsheet_admin(model_label: str) -> Any:
    """The model's admin (a ``SpreadsheetAdmin``): its sheet, import service and export
    queryset."""
    model = apps.get_model(model_label)
    return admin.site.get_model_admin(model)


# --- progress --------------------------------------------------------------------------------


def _progress_alias() -> str | None:
    """The connection progress is stored through while a transaction is open, if any."""
    return "jobs" if "jobs" in connections.databases else None


class JobObserver:
    """Stores a run's progress (at most once a second), stops it when its job was cancelled,
    and writes invalid rows to the error report."""

    def __init__(self, job: SpreadsheetJob, *, live: bool, errors: ErrorReport | None = None):
        self.job = job
        self.live = live
        self.errors = errors
        self.last = 0.0
        self.started = time.monotonic()

    def _store(self, **fields: Any) -> None:
        if not self.live:
            return
        fields["heartbeat_at"] = timezone.now()
        alias = _progress_alias() if connection.in_atomic_block else "default"
        if alias is None:
            return  # inside the write transaction on a database without a second connection
        try:
            SpreadsheetJob.objects.using(alias).filter(pk=self.job.pk).update(**fields)
        except DatabaseError:
            logger.warning("progress of job %s not stored", self.job.uuid, exc_info=True)

    def _check_cancelled(self) -> None:
        if not self.live:
            return
        alias = _progress_alias() if connection.in_atomic_block else "default"
        if alias is None:
            alias = "default"  # reading is harmless inside the transaction
        cancelled = (
            SpreadsheetJob.objects.using(alias)
            .filter(pk=self.job.pk, cancel_requested=True)
            .exists()
        )
        if cancelled:
            raise JobCancelled

    def progress(self, report: ImportReport, table: Table) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        read = table.bytes_read()
        total = table.size_hint or table.size
        estimate = report.rows_read
        if read and total and read < total:
            estimate = int(report.rows_read * total / read)
        self._store(
            rows_read=report.rows_read,
            rows_total=max(estimate, report.rows_read),
            bytes_read=read,
            new=report.new,
            updated=report.updated,
            skipped=report.skipped,
            invalid=report.invalid,
        )
        self._check_cancelled()

    def rows(self, written: int) -> None:
        """Export progress (rows written so far)."""
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        self._store(rows_read=written)
        self._check_cancelled()

    def invalid_row(self, number: int, cells: Sequence[Any], errors: Mapping[str, str]) -> None:
        if self.errors is not None:
            self.errors.add(number, cells, errors)


class ErrorReport:
    """The invalid rows of a file, as uploaded, with an ``error`` column: fix and re-upload.

    The file is started at the first invalid row; a file without one costs nothing."""

    def __init__(self, *, file_format: str, headers: Sequence[str]) -> None:
        self.file_format = file_format
        self.header = [*headers, "error"]
        self.width = len(headers)
        self.file: IO[bytes] | None = None
        self.xlsx: XlsxWriter | None = None
        self.text: Any = None
        self.writer: Any = None
        self.rows = 0

    def _start(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by save() or close()
        if self.file_format == XLSX:
            self.xlsx = XlsxWriter(self.file, sheet_name="errors", header=self.header)
        else:
            self.text = io.TextIOWrapper(
                self.file, encoding="utf-8", newline="", write_through=True
            )
            self.text.write("\ufeff")
            self.writer = csv.writer(self.text)
            self.writer.writerow(self.header)

    def add(self, number: int, cells: Sequence[Any], errors: Mapping[str, str]) -> None:
        if self.file is None:
            self._start()
        values = [("" if v is None else _as_text(v)) for v in list(cells)[: self.width]]
        values += [""] * (self.width - len(values))
        message = "; ".join(
            f"row {number}: {column}: {text}" if column else f"row {number}: {text}"
            for column, text in errors.items()
        )
        if self.xlsx is not None:
            self.xlsx.write_row([*values, message])
        else:
            self.writer.writerow([*values, message])
        self.rows += 1

    def save(self, name: str) -> str:
        if self.file is None:
            self._start()
        assert self.file is not None
        if self.xlsx is not None:
            self.xlsx.close()
            self.xlsx = None
        else:
            self.text.flush()
        self.file.seek(0)
        stored = default_storage.save(name, File(self.file))
        self.close()
        return stored

    def close(self) -> None:
        if self.xlsx is not None:
            self.xlsx.close()
            self.xlsx = None
        if self.text is not None:
            self.text.detach()
            self.text = None
        if self.file is not None:
            self.file.close()
            self.file = None


def _as_text(value: Any) -> str:
    try:
        return cell_text(value)
    except ValueError:
        return str(value)


# --- creating jobs ---------------------------------------------------------------------------


def job_import_create(
    *,
    model: str,
    upload: IO[bytes],
    file_name: str,
    size: int,
    options: Mapping[str, Any],
    actor: Actor,
) -> SpreadsheetJob:
    """Store an uploaded file and make its import job (queued for the check)."""
    head = upload.read(4)
    upload.seek(0)
    limits = SheetLimits.from_settings()
    limits.check_size(size)
    file_format = detect_format(file_name, head)
    job_uuid = uuid.uuid4()
    suffix = Path(file_name).suffix.lower()
    stored = default_storage.save(f"{UPLOAD_DIR}/{job_uuid.hex}{suffix}", File(upload))
    return SpreadsheetJob.objects.create(
        uuid=job_uuid,
        kind=JobKind.IMPORT,
        model=model,
        status=JobStatus.QUEUED,
        phase=JobPhase.CHECK,
        owner=actor_user(actor),
        file_name=Path(file_name).name[:255],
        file_format=file_format,
        options=dict(options),
        stored_file=stored,
        size=size,
    )


def job_export_create(
    *, model: str, query: Mapping[str, list[str]], file_format: str, actor: Actor
) -> SpreadsheetJob:
    """An export job for the changelist as filtered by ``query`` (its GET parameters)."""
    plural = apps.get_model(model)._meta.verbose_name_plural
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M%S")
    return SpreadsheetJob.objects.create(
        kind=JobKind.EXPORT,
        model=model,
        status=JobStatus.QUEUED,
        phase=JobPhase.EXPORT,
        owner=actor_user(actor),
        file_name=f"{str(plural).replace(' ', '-')}-{stamp}.{file_format}",
        file_format=file_format,
        options={"query": {k: list(v) for k, v in query.items()}},
    )


# --- running jobs ----------------------------------------------------------------------------


def _claim(job: SpreadsheetJob) -> bool:
    """Take a queued job for this run (a second task for the same job finds nothing)."""
    now = timezone.now()
    claimed = SpreadsheetJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        started_at=job.started_at or now,
        heartbeat_at=now,
    )
    if claimed:
        job.refresh_from_db()
    return bool(claimed)


def _finish(job: SpreadsheetJob, status: str, **fields: Any) -> None:
    fields.update(status=status, finished_at=timezone.now(), heartbeat_at=timezone.now())
    SpreadsheetJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "columns": report.columns,
        "preview": [[p.row, p.import_type, p.values] for p in report.preview],
        "errors": [[e.row, e.column, e.message] for e in report.errors],
        "invalid_rows": [[r.row, r.values] for r in report.invalid_rows],
        "errors_truncated": report.errors_truncated,
        "ignored_columns": report.ignored_columns,
        "digests": report.digests,
        "rows_read": report.rows_read,
        "counts": {
            "new": report.new,
            "updated": report.updated,
            "skipped": report.skipped,
            "invalid": report.invalid,
        },
    }


def report_from_json(data: Mapping[str, Any]) -> ImportReport:
    """The report a job stored (its preview, first problems and digests)."""
    report = ImportReport(columns=list(data.get("columns", [])))
    report.preview = [
        PreviewRow(row, kind, values) for row, kind, values in data.get("preview", [])
    ]
    report.errors = [
        RowError(row, column, message) for row, column, message in data.get("errors", [])
    ]
    report.invalid_rows = [
        PreviewRow(row, "invalid", values) for row, values in data.get("invalid_rows", [])
    ]
    report.ignored_columns = list(data.get("ignored_columns", []))
    report.digests = list(data.get("digests", []))
    report.rows_read = int(data.get("rows_read", 0))
    counts = data.get("counts", {})
    report.new = int(counts.get("new", 0))
    report.updated = int(counts.get("updated", 0))
    report.skipped = int(counts.get("skipped", 0))
    report.invalid = int(counts.get("invalid", 0))
    report.truncated = bool(data.get("errors_truncated"))
    report._error_rows = len(report.invalid_rows)
    return report


def _counts(report: ImportReport) -> dict[str, int]:
    return {
        "new": report.new,
        "updated": report.updated,
        "skipped": report.skipped,
        "invalid": report.invalid,
        "rows_read": report.rows_read,
        "rows_total": report.rows_read,
    }


def _run_import(job: SpreadsheetJob, *, dry_run: bool, live: bool) -> None:
    model_admin = spreadsheet_admin(job.model)
    limits = SheetLimits.from_settings()
    errors: ErrorReport | None = None
    try:
        with default_storage.open(job.stored_file, "rb") as handle:
            table = read_table(handle, name=job.file_name, size=job.size, limits=limits)
            if dry_run:
                errors = ErrorReport(
                    file_format=job.file_format, headers=table.raw_headers or table.headers
                )
            observer = JobObserver(job, live=live, errors=errors)
            try:
                report = type(model_admin).import_service(
                    table=table,
                    dry_run=dry_run,
                    actor=job.owner,
                    file_name=job.file_name,
                    expected_digests=None if dry_run else job.report.get("digests", []),
                    observer=observer,
                    **job.options,
                )
            finally:
                table.close()
    except JobCancelled:
        if errors is not None:
            errors.close()
        _finish(job, JobStatus.CANCELLED, message="Cancelled: nothing was imported.")
        _drop_upload(job)
        return
    except PreviewOutdatedError as exc:
        if errors is not None:
            errors.close()
        # Check again: the fresh preview replaces the outdated one, to be confirmed anew.
        SpreadsheetJob.objects.filter(pk=job.pk).update(
            status=JobStatus.QUEUED, phase=JobPhase.CHECK, message=exc.message
        )
        job.refresh_from_db()
        if _claim(job):
            _run_import(job, dry_run=True, live=live)
            SpreadsheetJob.objects.filter(pk=job.pk).update(message=exc.message)
            job.message = exc.message
        return
    except (ImportFileError, DomainError, FileNotFoundError) as exc:
        if errors is not None:
            errors.close()
        message = getattr(exc, "message", None) or "The uploaded file is no longer available."
        # The upload is dropped: refused at confirm, it has to be uploaded (and reviewed) again.
        again = "" if dry_run else " Upload the file again to review it."
        _finish(
            job,
            JobStatus.FAILED,
            message=f"Nothing was imported: {message}{again}",
            report={**job.report, "file_error": message},
        )
        _drop_upload(job)
        return
    except Exception:
        if errors is not None:
            errors.close()
        logger.exception("spreadsheet job %s failed", job.uuid)
        _finish(
            job,
            JobStatus.FAILED,
            message="Nothing was imported: an unexpected error stopped the job (it is logged).",
        )
        _drop_upload(job)
        raise
    fields: dict[str, Any] = {**_counts(report), "report": _report_json(report)}
    if dry_run:
        if report.invalid:
            assert errors is not None
            fields["error_file"] = errors.save(
                f"{UPLOAD_DIR}/{job.uuid.hex}-errors.{job.file_format}"
            )
            fields["expires_at"] = timezone.now() + _ttl()
            plural = "s are" if report.invalid != 1 else " is"
            _finish(
                job,
                JobStatus.FAILED,
                message=f"Nothing was imported: {report.invalid:,} row{plural} invalid. Download "
                "the rows that failed, fix them and upload that file.",
                **fields,
            )
            _drop_upload(job)
            return
        if errors is not None:
            errors.close()
        fields.update(status=JobStatus.AWAITING_CONFIRMATION, heartbeat_at=timezone.now())
        SpreadsheetJob.objects.filter(pk=job.pk).update(**fields)
        for name, value in fields.items():
            setattr(job, name, value)
        return
    plural = job_model_plural(job)
    _finish(
        job,
        JobStatus.SUCCEEDED,
        message=f"Import finished: {report.new} new, {report.updated} updated and "
        f"{report.skipped} unchanged (skipped) {plural}.",
        **fields,
    )
    _drop_upload(job)


def job_model_plural(job: SpreadsheetJob) -> str:
    return str(apps.get_model(job.model)._meta.verbose_name_plural)


def _ttl() -> timedelta:
    return timedelta(hours=settings.SPREADSHEET_FILE_TTL_HOURS)


def _drop_upload(job: SpreadsheetJob) -> None:
    if job.kind == JobKind.IMPORT and job.stored_file:
        default_storage.delete(job.stored_file)


def _export_queryset(job: SpreadsheetJob) -> Any:
    """The changelist's queryset, filtered as it was when the export was asked for."""
    model_admin = spreadsheet_admin(job.model)
    opts = model_admin.model._meta
    request = RequestFactory().get(
        f"/admin/{opts.app_label}/{opts.model_name}/", data=job.options.get("query", {})
    )
    request.user = job.owner  # type: ignore[assignment]  # the owner may be None only after deletion
    return model_admin.get_export_queryset(request), model_admin


def _run_export(job: SpreadsheetJob, *, live: bool) -> None:
    try:
        queryset, model_admin = _export_queryset(job)
        total = queryset.count()
        SpreadsheetJob.objects.filter(pk=job.pk).update(rows_total=total)
        observer = JobObserver(job, live=live)
        with tempfile.TemporaryFile() as out:
            write = xlsx_write if job.file_format == XLSX else csv_write
            rows = write(model_admin.sheet, queryset, out, observer.rows)
            size = out.tell()
            out.seek(0)
            stored = default_storage.save(f"{EXPORT_DIR}/{job.uuid.hex}/{job.file_name}", File(out))
    except JobCancelled:
        _finish(job, JobStatus.CANCELLED, message="Cancelled: no file was written.")
        return
    except Exception:
        logger.exception("spreadsheet export %s failed", job.uuid)
        _finish(job, JobStatus.FAILED, message="The export failed (the error is logged).")
        raise
    _finish(
        job,
        JobStatus.SUCCEEDED,
        stored_file=stored,
        size=size,
        rows_read=rows,
        rows_total=rows,
        expires_at=timezone.now() + _ttl(),
        message=f"Export finished: {rows:,} {job_model_plural(job)}.",
    )


def job_run(job_id: int, *, live: bool = True) -> str:
    """Run a queued job (the worker's task, or the request for small files); its new status."""
    job = SpreadsheetJob.objects.filter(pk=job_id).first()
    if job is None or not _claim(job):
        return "skipped"
    if job.kind == JobKind.EXPORT:
        # An export reads the replica when it may serve the job's owner (apps/core/replica.py);
        # the job's own rows are written on the primary.
        with replica_reads(user=job.owner):
            _run_export(job, live=live)
    else:
        _run_import(job, dry_run=job.phase == JobPhase.CHECK, live=live)
    return job.status


# --- what people do to jobs ------------------------------------------------------------------


def job_confirm(*, job: SpreadsheetJob, actor: Actor) -> SpreadsheetJob:
    """Queue the write of a checked import. Confirming twice is refused."""
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
        message="Cancelled: nothing was imported." if job.kind == JobKind.IMPORT else "Cancelled.",
    )
    if waiting:
        job.refresh_from_db()
        _drop_upload(job)
        return job
    running = SpreadsheetJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        cancel_requested=True
    )
    job.refresh_from_db()
    if not running:
        raise JobError(f"This job cannot be cancelled: it is {job.get_status_display()}.")
    return job


# --- housekeeping ----------------------------------------------------------------------------


def jobs_sweep(*, now: Any = None) -> str:
    """Fail jobs whose worker died; cancel previews nobody confirmed; delete expired files."""
    now = now or timezone.now()
    dead_before = now - timedelta(seconds=settings.SPREADSHEET_HEARTBEAT_TIMEOUT_SECONDS)
    dead = SpreadsheetJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=dead_before)
    died = 0
    for job in dead:
        what = "nothing was imported" if job.kind == JobKind.IMPORT else "no file was written"
        updated = SpreadsheetJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=dead_before
        ).update(
            status=JobStatus.FAILED,
            finished_at=now,
            message=f"The worker stopped while running this job: {what}. Start it again.",
        )
        if updated:
            died += 1
            _drop_upload(job)
    stale_before = now - _ttl()
    abandoned = 0
    for job in SpreadsheetJob.objects.filter(
        status=JobStatus.AWAITING_CONFIRMATION, heartbeat_at__lt=stale_before
    ):
        abandoned += SpreadsheetJob.objects.filter(
            pk=job.pk, status=JobStatus.AWAITING_CONFIRMATION
        ).update(
            status=JobStatus.CANCELLED,
            finished_at=now,
            message="The preview was not confirmed in time: nothing was imported.",
        )
        _drop_upload(job)
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


ProgressCallback = Callable[[SpreadsheetJob], None]
