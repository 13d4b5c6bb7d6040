"""The spreadsheet jobs' pages (System → Spreadsheet jobs): each person sees their own jobs,
superusers everyone's.

A job's page follows its progress, then shows the preview: the counts, what each row policy
would write, the first rows, the problems, the error file, and *Confirm import*. Confirm writes
exactly what the preview showed (or refuses with "the data changed since the preview" and shows a
fresh one); a file identical to one imported before says when and by whom, and is confirmed
only with *Import it again* ticked. Everything the confirmation uses is on the server, in the
job: nothing the browser sends decides which file is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin
from unfold.decorators import display

from apps.admin_toolkit.errors import admin_errors
from apps.admin_toolkit.owned import OwnedRecordsAdminMixin

from .job_presentation import ImportPreview, job_progress
from .jobs.reports import report_from_json
from .jobs.run import HANDED_OVER, job_fits_request, job_run
from .jobs.states import job_cancel, job_confirm
from .models import ACTIVE, JobKind, JobStatus, SpreadsheetJob
from .registry import SheetNotRegisteredError, sheet_registration
from .tasks import job_enqueue

STATUS_COLOURS = {
    JobStatus.QUEUED: "info",
    JobStatus.RUNNING: "warning",
    JobStatus.AWAITING_CONFIRMATION: "primary",
    JobStatus.SUCCEEDED: "success",
    JobStatus.REJECTED: "warning",
    JobStatus.FAILED: "danger",
    JobStatus.CANCELLED: "info",
}


def job_url(job: SpreadsheetJob) -> str:
    return reverse("admin:spreadsheets_spreadsheetjob_change", args=[job.pk])


def _plural_of(job: SpreadsheetJob) -> str:
    try:
        return sheet_registration(job.model).plural
    except SheetNotRegisteredError:
        return job.model


@admin.register(SpreadsheetJob)
class SpreadsheetJobAdmin(OwnedRecordsAdminMixin, ModelAdmin):
    """The imports and exports people ran: their own, or everyone's for superusers."""

    list_display = (
        "date_created",
        "kind",
        "model_display",
        "file_name",
        "owner",
        "status_display",
        "counts_display",
        "duration_display",
    )
    list_filter = ("status", "kind")
    search_fields = ("file_name", "=uuid")
    ordering = ("-date_created", "-id")
    list_per_page = 50
    show_full_result_count = False
    change_form_template = "admin/spreadsheets/job.html"

    @display(description="model")
    def model_display(self, job: SpreadsheetJob) -> str:
        return _plural_of(job)

    @display(description="status", label=STATUS_COLOURS)
    def status_display(self, job: SpreadsheetJob) -> str:
        return job.status

    @display(description="rows")
    def counts_display(self, job: SpreadsheetJob) -> str:
        if job.kind == JobKind.EXPORT:
            return f"{job.rows_read:,}"
        return (
            f"{job.rows_read:,} read: {job.new:,} new, {job.updated:,} updated, "
            f"{job.unchanged:,} unchanged, {job.invalid:,} invalid"
        )

    @display(description="duration")
    def duration_display(self, job: SpreadsheetJob) -> str:
        seconds = job.duration_seconds
        return "—" if seconds is None else f"{seconds:.1f} s"

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/progress/",
                wrap(self.progress_view),
                name="spreadsheets_job_progress",
            ),
            path(
                "<path:object_id>/confirm/",
                wrap(self.confirm_view),
                name="spreadsheets_job_confirm",
            ),
            path(
                "<path:object_id>/cancel/", wrap(self.cancel_view), name="spreadsheets_job_cancel"
            ),
            path(
                "<path:object_id>/download/",
                wrap(self.download_view),
                name="spreadsheets_job_download",
            ),
            path(
                "<path:object_id>/errors/", wrap(self.errors_view), name="spreadsheets_job_errors"
            ),
            *super().get_urls(),
        ]

    def _job(self, request: HttpRequest, object_id: str) -> SpreadsheetJob:
        return self.owned_record_or_404(request, object_id, what="job")

    def _can_import(self, request: HttpRequest, job: SpreadsheetJob) -> bool:
        try:
            model = sheet_registration(job.model).model
        except SheetNotRegisteredError:
            return False
        try:
            model_admin = self.admin_site.get_model_admin(model)
        except NotRegistered:
            return False
        check = getattr(model_admin, "has_import_permission", None)
        return bool(check and check(request))

    def _repeat_of(self, job: SpreadsheetJob) -> dict[str, Any] | None:
        repeat = job.report.get("repeat_of")
        if not repeat:
            return None
        earlier = SpreadsheetJob.objects.filter(pk=repeat["job"]).first()
        return {
            **repeat,
            "when": parse_datetime(repeat["when"]) if repeat.get("when") else None,
            "url": job_url(earlier) if earlier is not None else None,
            "file_name": earlier.file_name if earlier is not None else "",
        }

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        job = self._job(request, object_id)
        report = report_from_json(job.report) if job.kind == JobKind.IMPORT and job.report else None
        can_import = self._can_import(request, job)
        try:
            registration = sheet_registration(job.model)
            list_url = reverse(
                "admin:{}_{}_changelist".format(*job.model.split(".")),
                current_app=self.admin_site.name,
            )
        except SheetNotRegisteredError:
            registration, list_url = None, None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{job.get_kind_display().capitalize()} of {job.file_name}",
            "opts": self.model._meta,
            "job": job,
            "progress": job_progress(job),
            "result": ImportPreview(report) if report is not None else None,
            "repeat_of": self._repeat_of(job),
            "plural": registration.plural if registration else job.model,
            "can_confirm": job.status == JobStatus.AWAITING_CONFIRMATION
            and can_import
            and job.owner_id == request.user.pk,
            "can_cancel": job.status in (*ACTIVE, JobStatus.AWAITING_CONFIRMATION)
            and not job.cancel_requested,
            "active": job.status in ACTIVE,
            "download_available": job.kind == JobKind.EXPORT
            and job.status == JobStatus.SUCCEEDED
            and bool(job.stored_file),
            "errors_available": bool(job.error_file),
            "list_url": list_url,
            "options": job.options,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.change_form_template], context)

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        return JsonResponse(job_progress(self._job(request, object_id)))

    @method_decorator(require_POST)
    def confirm_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job(request, object_id)
        if not self._can_import(request, job) or job.owner_id != request.user.pk:
            raise PermissionDenied
        with admin_errors(request) as failed:
            job = job_confirm(
                job=job, actor=request.user, import_again=request.POST.get("import_again") == "1"
            )
        if failed:
            return HttpResponseRedirect(job_url(job))
        if not job_fits_request(job):
            job_enqueue(job)
            return HttpResponseRedirect(job_url(job))
        if job_run(job.pk, in_request=True) == HANDED_OVER:
            job_enqueue(job)
            return HttpResponseRedirect(job_url(job))
        job.refresh_from_db()
        if job.status == JobStatus.SUCCEEDED:
            messages.success(request, job.message)
            if not job.invalid:
                return HttpResponseRedirect(
                    reverse("admin:{}_{}_changelist".format(*job.model.split(".")))
                )
        else:
            messages.warning(request, job.message)
        return HttpResponseRedirect(job_url(job))

    @method_decorator(require_POST)
    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job(request, object_id)
        if job.owner_id != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        with admin_errors(request) as failed:
            job_cancel(job=job, actor=request.user)
        if not failed:
            messages.info(request, "The job was asked to stop: nothing it did is kept.")
        return HttpResponseRedirect(job_url(job))

    def _file(self, request: HttpRequest, job: SpreadsheetJob, name: str, download: str) -> Any:
        if not name or (job.expires_at is not None and job.expires_at < timezone.now()):
            messages.error(
                request,
                "This file has expired and was deleted: files are kept for "
                f"{settings.SPREADSHEET_FILE_TTL_HOURS} hours. Run the job again.",
            )
            return HttpResponseRedirect(job_url(job))
        try:
            handle = default_storage.open(name, "rb")
        except FileNotFoundError:
            messages.error(request, "This file is no longer available: run the job again.")
            return HttpResponseRedirect(job_url(job))
        return FileResponse(handle, as_attachment=True, filename=download)

    def download_view(self, request: HttpRequest, object_id: str) -> Any:
        job = self._job(request, object_id)
        if job.kind != JobKind.EXPORT or job.status != JobStatus.SUCCEEDED:
            raise Http404("This job has no file to download.")
        return self._file(request, job, job.stored_file, job.file_name)

    def errors_view(self, request: HttpRequest, object_id: str) -> Any:
        job = self._job(request, object_id)
        stem = Path(job.file_name).stem
        return self._file(request, job, job.error_file, f"{stem}-errors.{job.file_format}")
