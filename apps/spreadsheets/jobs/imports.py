"""An import job's two runs: the check (every row read and checked, nothing written) and, once
confirmed, the write (one transaction that commits only while its run owns the job).

After the check a job is ``awaiting_confirmation`` (with its error file under *skip invalid
rows*, holding the rows that will be skipped) or ``rejected`` (invalid rows under *only if every
row is valid*: its error file is the whole file with the problems marked). A file identical to
one imported before (same bytes, same model) that would create rows again says so and needs an
explicit confirmation.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from apps.core.actors import Channel
from apps.core.errors import DomainError

from ..engine import PreviewOutdatedError
from ..error_file import ErrorFile, ProblemLog, problems_text, whole_file_write
from ..limits import ImportFileError, ReadBound, ReadBoundReached, SheetLimits
from ..models import JobKind, JobPhase, JobStatus, SpreadsheetJob
from ..plan import ImportReport
from ..readers import read_table
from ..registry import sheet_registration
from .files import error_file_name, file_ttl, upload_drop
from .observer import JobObserver
from .reports import report_counts, report_json
from .states import (
    JobCancelled,
    RunLostError,
    job_await_confirmation,
    job_claim,
    job_finish,
    job_finish_owned,
)

logger = logging.getLogger(__name__)

#: The channel imported rows are recorded with in the audit trail.
IMPORT_CHANNEL = Channel.IMPORT


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def rejected_message(report: ImportReport) -> str:
    if report.skip_invalid:
        return (
            f"Rejected: {_plural(report.invalid, 'invalid row')} and no valid row: nothing was "
            "imported. Download the rows with their errors, fix them and upload that file."
        )
    return (
        f"Rejected: {_plural(report.invalid, 'invalid row')}: nothing was imported. Download the "
        "file with the errors marked (your whole file, with an “error” column), fix the marked "
        "rows and upload it: every row then goes in."
    )


def succeeded_message(report: ImportReport, plural: str) -> str:
    message = (
        f"Import finished: {report.new:,} new, {report.updated:,} updated and "
        f"{report.unchanged:,} unchanged {plural}."
    )
    if report.invalid:
        message += (
            f" {_plural(report.invalid, 'invalid row')} skipped: download them with their "
            "errors, fix them and upload that file."
        )
    return message


def _repeat_of(job: SpreadsheetJob, report: ImportReport) -> dict[str, Any] | None:
    """The import this identical file already went through, if importing it again would create
    rows (what a file without keys does each time)."""
    if not job.digest or not report.new:
        return None
    earlier = (
        SpreadsheetJob.objects.filter(
            kind=JobKind.IMPORT,
            model=job.model,
            digest=job.digest,
            status=JobStatus.SUCCEEDED,
            phase=JobPhase.WRITE,
        )
        .filter(Q(new__gt=0) | Q(updated__gt=0))
        .exclude(pk=job.pk)
        .select_related("owner")
        .order_by("-finished_at")
        .first()
    )
    if earlier is None:
        return None
    return {
        "job": earlier.pk,
        "when": earlier.finished_at.isoformat() if earlier.finished_at else "",
        "who": earlier.owner.get_username() if earlier.owner else "",
        "new": report.new,
    }


def import_check(job: SpreadsheetJob, *, bound: ReadBound | None) -> None:
    registration = sheet_registration(job.model)
    errors: ErrorFile | None = None
    problems: ProblemLog | None = None
    try:
        with default_storage.open(job.stored_file, "rb") as handle:
            table = read_table(
                handle,
                name=job.file_name,
                size=job.size,
                limits=SheetLimits.from_settings(),
                bound=bound,
            )
            try:
                if job.skip_invalid:
                    errors = ErrorFile(file_format=job.file_format, raw_headers=table.raw_headers)
                    sink = errors
                    observer = JobObserver(
                        job, on_invalid_row=lambda n, cells, e: sink.add(cells, problems_text(e))
                    )
                else:
                    problems = log = ProblemLog()
                    observer = JobObserver(job, on_invalid_row=lambda n, cells, e: log.add(n, e))
                report = registration.import_rows(
                    table=table,
                    dry_run=True,
                    skip_invalid=job.skip_invalid,
                    actor=job.owner,
                    channel=IMPORT_CHANNEL,
                    file_name=job.file_name,
                    observer=observer,
                    **job.options,
                )
            finally:
                table.close()
        fields: dict[str, Any] = {**report_counts(report), "report": report_json(report)}
        if report.invalid:
            if problems is not None:
                errors = _whole_file_with_problems(job, problems)
            assert errors is not None
            fields["error_file"] = errors.save(error_file_name(job))
            errors = None
            fields["expires_at"] = timezone.now() + file_ttl()
        if report.invalid and not (job.skip_invalid and report.valid):
            job_finish(job, JobStatus.REJECTED, message=rejected_message(report), **fields)
            upload_drop(job)
            return
        repeat = _repeat_of(job, report)
        if repeat is not None:
            fields["report"]["repeat_of"] = repeat
        job_await_confirmation(job, **fields)
    finally:
        if errors is not None:
            errors.close()
        if problems is not None:
            problems.close()


def _whole_file_with_problems(job: SpreadsheetJob, problems: ProblemLog) -> ErrorFile:
    with default_storage.open(job.stored_file, "rb") as handle:
        table = read_table(
            handle, name=job.file_name, size=job.size, limits=SheetLimits.from_settings()
        )
        out = ErrorFile(file_format=job.file_format, raw_headers=table.raw_headers)
        try:
            whole_file_write(table, problems, out)
        except BaseException:
            out.close()
            raise
        finally:
            table.close()
    return out


def import_write(job: SpreadsheetJob, *, bound: ReadBound | None) -> None:
    registration = sheet_registration(job.model)

    def finish(report: ImportReport) -> None:
        job_finish_owned(
            job,
            JobStatus.SUCCEEDED,
            message=succeeded_message(report, registration.plural),
            report={**job.report, **report_json(report)},
            **report_counts(report),
        )

    with default_storage.open(job.stored_file, "rb") as handle:
        table = read_table(
            handle,
            name=job.file_name,
            size=job.size,
            limits=SheetLimits.from_settings(),
            bound=bound,
        )
        try:
            registration.import_rows(
                table=table,
                skip_invalid=job.skip_invalid,
                actor=job.owner,
                channel=IMPORT_CHANNEL,
                file_name=job.file_name,
                expected_digests=job.report.get("digests", []),
                observer=JobObserver(job, on_commit=finish),
                **job.options,
            )
        finally:
            table.close()
    upload_drop(job)


def import_run(job: SpreadsheetJob, *, bound: ReadBound | None) -> None:
    """Run a claimed import job's check or write; its outcome is on the job."""
    checking = job.phase == JobPhase.CHECK
    try:
        if checking:
            import_check(job, bound=bound)
        else:
            import_write(job, bound=bound)
    except ReadBoundReached:
        raise  # the worker takes over (``run.py``)
    except JobCancelled:
        job_finish(job, JobStatus.CANCELLED, message="Cancelled: nothing was imported.")
        upload_drop(job)
    except RunLostError:
        job.refresh_from_db()
        if job.status == JobStatus.RUNNING:
            job_finish(job, JobStatus.CANCELLED, message="Cancelled: nothing was imported.")
        upload_drop(job)
    except PreviewOutdatedError as exc:
        # Check again: the fresh preview replaces the outdated one, to be confirmed anew.
        SpreadsheetJob.objects.filter(pk=job.pk).update(
            status=JobStatus.QUEUED, phase=JobPhase.CHECK, run_token=None, message=exc.message
        )
        job.refresh_from_db()
        if job_claim(job):
            import_run(job, bound=bound)
            SpreadsheetJob.objects.filter(pk=job.pk).update(message=exc.message)
            job.message = exc.message
    except (ImportFileError, DomainError, FileNotFoundError) as exc:
        message = getattr(exc, "message", None) or "The uploaded file is no longer available."
        # The upload is dropped: refused at confirm, it has to be uploaded (and reviewed) again.
        again = "" if checking else " Upload the file again to review it."
        job_finish(
            job,
            JobStatus.FAILED,
            message=f"Failed: nothing was imported. {message}{again}",
            report={**job.report, "file_error": message},
        )
        upload_drop(job)
    except Exception:
        logger.exception("spreadsheet job %s failed", job.uuid)
        job_finish(
            job,
            JobStatus.FAILED,
            message="Failed: nothing was imported. An unexpected error stopped the job (it is "
            "logged).",
        )
        upload_drop(job)
        raise
