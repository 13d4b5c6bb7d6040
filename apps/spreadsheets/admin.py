"""Spreadsheet import and export in the admin, and the spreadsheet jobs' pages.

django-import-export draws the buttons and the forms (styled by unfold); the views are ours,
written over its public ``import_action``, ``process_import`` and ``export_action``:

- **Upload** checks the file (extension, first bytes, size) and makes it an import job
  (``jobs.py``); small files are checked at once in the request, bigger ones by the worker. The
  job's page shows the progress, then the preview (counts, the first rows, invalid rows and the
  error report to download), then *Confirm import*.
- **Confirm** (on the job's page) writes exactly what the preview showed, or refuses with "the
  data changed since the preview" and shows a fresh preview. Everything the confirmation uses is
  on the server, in the job: nothing the browser sends decides which file is read.
- **Export** streams small CSV exports at once; bigger ones and every XLSX export are jobs whose
  page ends with a download link. Filters that are not valid for the list are a message.
- **Spreadsheet jobs** (System in the sidebar): each person sees their own jobs, superusers all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldError, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import display

from apps.core.errors import DomainError

from .exports import csv_chunks
from .jobs import (
    job_cancel,
    job_confirm,
    job_export_create,
    job_import_create,
    job_run,
    report_from_json,
    spreadsheet_admin,
)
from .limits import ImportFileError, SheetLimits
from .models import ACTIVE, JobKind, JobStatus, SpreadsheetJob
from .plan import ImportReport
from .readers import detect_format
from .sheets import Sheet
from .tasks import job_enqueue

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(settings.BASE_DIR) / "fixtures" / "import-templates"


def job_url(job: SpreadsheetJob) -> str:
    return reverse("admin:spreadsheets_spreadsheetjob_change", args=[job.pk])


# Forms -------------------------------------------------------------------------------------


class SpreadsheetImportForm(ImportForm):
    """unfold's import form: the file is checked here and its format follows its name."""

    def __init__(self, formats: list[type], resources: list[type], **kwargs: Any) -> None:
        super().__init__(formats, resources, **kwargs)
        self.formats = formats
        self.fields["format"].required = False
        self.fields["import_file"].error_messages["empty"] = "The file is empty."
        self.fields["import_file"].help_text = (
            "CSV (UTF-8, with or without BOM) or XLSX, up to "
            f"{filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)}."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("import_file")
        if upload is None:
            return cleaned
        try:
            SheetLimits.from_settings().check_size(upload.size)
            head = upload.read(4)
            upload.seek(0)
            kind = detect_format(upload.name or "", head)
        except ImportFileError as exc:
            self.add_error("import_file", exc.message)
            return cleaned
        # The file's name decides: a mismatched format choice would only produce a parse error.
        cleaned["format"] = str(self.formats.index(XLSX if kind == "xlsx" else CSV))
        return cleaned


# Presentation ------------------------------------------------------------------------------


class ImportPreview:
    """What a job's page shows of its report (counts, preview rows, the problems)."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.diff_headers = list(report.columns)
        self.rows = report.preview
        self.valid_rows = report.preview
        self.error_lines = [(e.row, e.column, e.message) for e in report.errors]
        self.error_lines_truncated = report.errors_truncated
        self.invalid_rows = report.invalid_rows


# The changelists' import and export --------------------------------------------------------


class SpreadsheetAdmin(ImportExportModelAdmin):
    """Import and export for a changelist; list it after unfold's ModelAdmin in the bases.

    Subclasses set ``resource_classes`` (one ``SheetResource``), ``import_service`` (the app's
    ``<model>_import_rows``), the template files offered on the import page, and the names of the
    import form's option fields passed to the service.
    """

    formats = [CSV, XLSX]
    import_form_class: type[SpreadsheetImportForm] = SpreadsheetImportForm
    export_form_class = ExportForm
    import_template_name = "admin/imports/import.html"
    import_service: ClassVar[Callable[..., ImportReport]]
    import_option_fields: ClassVar[tuple[str, ...]] = ()
    #: File names under fixtures/import-templates/ offered on the import page.
    import_template_files: ClassVar[tuple[str, ...]] = ()

    @property
    def sheet(self) -> Sheet:
        return self.resource_classes[0].sheet_class()

    # permissions

    def has_import_permission(self, request: HttpRequest) -> bool:
        return (
            super().has_import_permission(request)
            and self.has_add_permission(request)
            and self.has_change_permission(request)
        )

    def has_export_permission(self, request: HttpRequest) -> bool:
        return super().has_export_permission(request) and self.has_view_permission(request)

    # urls

    def get_urls(self) -> list:
        info = self.get_model_info()
        return [
            path(
                "import/template/<str:file_name>",
                self.admin_site.admin_view(self.import_template_view),
                name="{}_{}_import_template".format(*info),
            ),
            *super().get_urls(),
        ]

    def import_template_view(self, request: HttpRequest, file_name: str) -> FileResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        if file_name not in self.import_template_files:
            raise Http404("No such template.")
        return FileResponse(
            (TEMPLATES_DIR / file_name).open("rb"), as_attachment=True, filename=file_name
        )

    # import: upload → job

    def _context(self, request: HttpRequest, form: forms.Form | None) -> dict[str, Any]:
        info = self.get_model_info()
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Import",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + (form.media if form is not None else forms.Media()),
            "fields_list": [
                (
                    self.sheet.model._meta.verbose_name_plural,
                    [c.name for c in self.sheet.import_columns()],
                )
            ],
            "import_templates": [
                (name, reverse("admin:{}_{}_import_template".format(*info), args=[name]))
                for name in self.import_template_files
            ],
            "import_max_bytes": settings.IMPORT_MAX_UPLOAD_BYTES,
            "recent_jobs": SpreadsheetJob.objects.filter(
                owner=request.user.pk, model=self.model._meta.label_lower
            )[:5],
        }
        request.current_app = self.admin_site.name
        return context

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """Upload: the file becomes a job; small files are checked at once, others by the
        worker. Either way the next page is the job's."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_import_form(request)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            options = {name: form.cleaned_data.get(name) for name in self.import_option_fields}
            try:
                job = job_import_create(
                    model=self.model._meta.label_lower,
                    upload=upload,
                    file_name=upload.name or "file",
                    size=upload.size,
                    options=options,
                    actor=request.user,
                )
            except ImportFileError as exc:
                form.add_error("import_file", exc.message)
            else:
                if job.size <= settings.SPREADSHEET_SYNC_MAX_BYTES:
                    job_run(job.pk, live=False)
                    job.refresh_from_db()
                    file_error = job.report.get("file_error")
                    if job.status == JobStatus.FAILED and file_error:
                        form.add_error("import_file", file_error)
                        return TemplateResponse(
                            request, [self.import_template_name], self._context(request, form)
                        )
                else:
                    job_enqueue(job)
                return HttpResponseRedirect(job_url(job))
        return TemplateResponse(request, [self.import_template_name], self._context(request, form))

    @method_decorator(require_POST)
    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """django-import-export's confirm URL: imports are confirmed on their job's page."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        messages.info(request, "Imports are confirmed on their job's page.")
        return HttpResponseRedirect(reverse("admin:spreadsheets_spreadsheetjob_changelist"))

    # export

    def export_action(self, request: HttpRequest) -> HttpResponseBase:
        """CSV of up to ``EXPORT_SYNC_MAX_ROWS`` rows streams at once; bigger exports and every
        XLSX export run as jobs (at once when small, on the worker otherwise)."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        formats = self.get_export_formats()
        form = self.get_export_form_class()(
            formats, self.get_export_resource_classes(request), data=request.POST or None
        )
        if form.is_valid():
            try:
                queryset = self.get_export_queryset(request)
                limit = settings.EXPORT_SYNC_MAX_ROWS
                small = queryset.order_by()[: limit + 1].count() <= limit
            except (IncorrectLookupParameters, ValidationError, FieldError, ValueError):
                messages.error(
                    request,
                    "The list's filters in the address are not valid: choose the filters on the "
                    "list again, then export.",
                )
                return HttpResponseRedirect(
                    reverse("admin:{}_{}_changelist".format(*self.get_model_info()))
                )
            file_format = formats[int(form.cleaned_data["format"])]()
            if small and not isinstance(file_format, XLSX):
                return self.export_response(request, queryset, file_format)
            job = job_export_create(
                model=self.model._meta.label_lower,
                query=dict(request.GET.lists()),
                file_format="xlsx" if isinstance(file_format, XLSX) else "csv",
                actor=request.user,
            )
            if small:
                job_run(job.pk, live=False)
            else:
                job_enqueue(job)
            return HttpResponseRedirect(job_url(job))
        context = self.init_request_context_data(request, form)
        context["fields_list"] = [
            (self.sheet.model._meta.verbose_name_plural, [c.name for c in self.sheet.columns])
        ]
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.export_template_name], context=context)

    def export_response(
        self, request: HttpRequest, queryset: Any, file_format: Any
    ) -> StreamingHttpResponse:
        file_name = self.get_export_filename(request, queryset, file_format)
        response = StreamingHttpResponse(
            csv_chunks(self.sheet, queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response


# The jobs ----------------------------------------------------------------------------------

STATUS_COLOURS = {
    JobStatus.QUEUED: "info",
    JobStatus.RUNNING: "warning",
    JobStatus.AWAITING_CONFIRMATION: "primary",
    JobStatus.SUCCEEDED: "success",
    JobStatus.FAILED: "danger",
    JobStatus.CANCELLED: "info",
}


def _progress(job: SpreadsheetJob) -> dict[str, Any]:
    elapsed = job.duration_seconds or 0.0
    total = max(job.rows_total, job.rows_read)
    rate = job.rows_read / elapsed if elapsed > 0 else 0.0
    remaining = (total - job.rows_read) / rate if rate and total > job.rows_read else None
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "phase": job.get_phase_display(),
        "rows_read": job.rows_read,
        "rows_total": total,
        "percent": round(100 * job.rows_read / total) if total else 0,
        "rows_per_second": round(rate),
        "elapsed_seconds": round(elapsed),
        "eta_seconds": round(remaining) if remaining is not None else None,
        "finished": job.finished,
        "cancel_requested": job.cancel_requested,
        "message": job.message,
        "counts": {
            "new": job.new,
            "updated": job.updated,
            "skipped": job.skipped,
            "invalid": job.invalid,
        },
    }


@admin.register(SpreadsheetJob)
class SpreadsheetJobAdmin(ModelAdmin):
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[SpreadsheetJob]:
        qs = super().get_queryset(request).select_related("owner")
        if request.user.is_superuser:
            return qs
        return qs.filter(owner=request.user.pk)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or request.user.is_superuser or obj.owner_id == request.user.pk

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @display(description="model")
    def model_display(self, job: SpreadsheetJob) -> str:
        try:
            return job_model_plural_safe(job)
        except LookupError:
            return job.model

    @display(description="status", label=STATUS_COLOURS)
    def status_display(self, job: SpreadsheetJob) -> str:
        return job.status

    @display(description="rows")
    def counts_display(self, job: SpreadsheetJob) -> str:
        if job.kind == JobKind.EXPORT:
            return f"{job.rows_read:,}"
        return (
            f"{job.rows_read:,} read: {job.new:,} new, {job.updated:,} updated, "
            f"{job.skipped:,} unchanged, {job.invalid:,} invalid"
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
        try:
            job = self.get_queryset(request).filter(pk=int(object_id)).first()
        except (TypeError, ValueError):
            job = None
        if job is None or not self.has_view_permission(request, job):
            raise Http404("No such job.")
        return job

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        job = self._job(request, object_id)
        model_admin = _model_admin_or_none(job)
        report = report_from_json(job.report) if job.kind == JobKind.IMPORT and job.report else None
        can_import = model_admin is not None and model_admin.has_import_permission(request)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{job.get_kind_display().capitalize()} of {job.file_name}",
            "opts": self.model._meta,
            "job": job,
            "progress": _progress(job),
            "result": ImportPreview(report) if report is not None else None,
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
            "list_url": reverse("admin:{}_{}_changelist".format(*job.model.split(".")))
            if model_admin is not None
            else None,
            "options": job.options,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.change_form_template], context)

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        return JsonResponse(_progress(self._job(request, object_id)))

    @method_decorator(require_POST)
    def confirm_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job(request, object_id)
        model_admin = _model_admin_or_none(job)
        if (
            model_admin is None
            or not model_admin.has_import_permission(request)
            or job.owner_id != request.user.pk
        ):
            raise PermissionDenied
        try:
            job = job_confirm(job=job, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(job_url(job))
        if job.size <= settings.SPREADSHEET_SYNC_MAX_BYTES:
            job_run(job.pk, live=False)
            job.refresh_from_db()
            if job.status == JobStatus.SUCCEEDED:
                messages.success(request, job.message)
                return HttpResponseRedirect(
                    reverse("admin:{}_{}_changelist".format(*job.model.split(".")))
                )
            messages.warning(request, job.message)
        else:
            job_enqueue(job)
        return HttpResponseRedirect(job_url(job))

    @method_decorator(require_POST)
    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job(request, object_id)
        if job.owner_id != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        try:
            job_cancel(job=job, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
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


def _model_admin_or_none(job: SpreadsheetJob) -> Any:
    try:
        return spreadsheet_admin(job.model)
    except LookupError:
        return None


def job_model_plural_safe(job: SpreadsheetJob) -> str:
    from django.apps import apps

    return str(apps.get_model(job.model)._meta.verbose_name_plural)
