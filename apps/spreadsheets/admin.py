"""Spreadsheet import and export on the changelists; the jobs' pages are in ``job_admin.py``.

django-import-export draws the buttons (styled by unfold); the views are ours, written over its
public ``import_action``, ``process_import`` and ``export_action``, and every model's sheet comes
from the registry (``registry.py``):

- **Upload** checks the file (extension, first bytes, size), takes the row policy (*only if every
  row is valid*, or *import the valid rows, skip the invalid ones*) and the sheet's options, and
  makes an import job. The request checks it at once up to a bound of work
  (``jobs/run.py``); the worker does the rest. Either way the next page is the job's.
- **Export** streams small CSV exports at once; bigger ones and every XLSX export are jobs whose
  page ends with a download link. The job stores the list's filters, search and sort as the
  export selector's arguments (``list_arguments.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldError, PermissionDenied, ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.contrib.import_export.forms import ExportForm
from unfold.widgets import (
    UnfoldAdminFileFieldWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldBooleanWidget,
)

from apps.core.replica import replica_reads

from . import job_admin  # noqa: F401 - registers the jobs' pages
from .exports import csv_chunks
from .job_admin import job_url
from .jobs.create import job_export_create, job_import_create
from .jobs.files import export_file_name
from .jobs.run import HANDED_OVER, job_run
from .limits import ImportFileError, SheetLimits
from .list_arguments import UnexportableFilterError, list_selector_arguments
from .models import JobStatus, SpreadsheetJob
from .readers import detect_format
from .registry import SheetRegistration, sheet_registration
from .tasks import job_enqueue

TEMPLATES_DIR = Path(settings.BASE_DIR) / "fixtures" / "import-templates"

POLICY_ALL = "all"
POLICY_SKIP = "skip"
POLICY_CHOICES = [
    (POLICY_ALL, "Only if every row is valid: one invalid row and nothing is imported"),
    (POLICY_SKIP, "Import the valid rows, skip the invalid ones"),
]


class SpreadsheetImportForm(forms.Form):
    """The upload: the file (its format comes from its name and first bytes), the row policy
    and the sheet's options."""

    import_file = forms.FileField(label="File to import", widget=UnfoldAdminFileFieldWidget)
    policy = forms.ChoiceField(
        label="Rows",
        choices=POLICY_CHOICES,
        initial=POLICY_ALL,
        required=False,  # not given: the default policy
        widget=UnfoldAdminRadioSelectWidget,
    )

    def __init__(self, registration: SheetRegistration, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["import_file"].error_messages["empty"] = "The file is empty."
        self.fields["import_file"].help_text = (
            "CSV (UTF-8, with or without BOM) or XLSX, up to "
            f"{filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)}."
        )
        for option in registration.options:
            self.fields[option.name] = forms.BooleanField(
                label=option.label,
                help_text=option.help_text,
                required=False,
                initial=False,
                widget=UnfoldBooleanWidget,
            )
        self.option_names = [option.name for option in registration.options]

    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        try:
            SheetLimits.from_settings().check_size(upload.size)
            head = upload.read(4)
            upload.seek(0)
            detect_format(upload.name or "", head)
        except ImportFileError as exc:
            raise ValidationError(exc.message) from None
        return upload


class SpreadsheetAdmin(ImportExportModelAdmin):
    """Import and export for a changelist; list it after unfold's ModelAdmin in the bases.

    The model's sheet, import entry, options and templates come from the sheet registry.
    """

    formats = [CSV, XLSX]
    export_form_class = ExportForm
    import_template_name = "admin/imports/import.html"

    @property
    def registration(self) -> SheetRegistration:
        return sheet_registration(self.model._meta.label_lower)

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
        if file_name not in self.registration.templates:
            raise Http404("No such template.")
        return FileResponse(
            (TEMPLATES_DIR / file_name).open("rb"), as_attachment=True, filename=file_name
        )

    # import: upload → job

    def _context(self, request: HttpRequest, form: forms.Form) -> dict[str, Any]:
        info = self.get_model_info()
        sheet = self.registration.sheet
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Import",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "fields_list": [(self.registration.plural, [c.name for c in sheet.import_columns()])],
            "import_templates": [
                (name, reverse("admin:{}_{}_import_template".format(*info), args=[name]))
                for name in self.registration.templates
            ],
            "import_max_bytes": settings.IMPORT_MAX_UPLOAD_BYTES,
            "recent_jobs": SpreadsheetJob.objects.filter(
                owner=request.user.pk, model=self.registration.label
            )[:5],
        }
        request.current_app = self.admin_site.name
        return context

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """Upload: the file becomes a job, checked at once up to the request's bound of work and
        by the worker beyond it. Either way the next page is the job's."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        registration = self.registration
        form = SpreadsheetImportForm(registration, request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            try:
                job = job_import_create(
                    registration=registration,
                    upload=upload,
                    file_name=upload.name or "file",
                    size=upload.size,
                    skip_invalid=form.cleaned_data["policy"] == POLICY_SKIP,
                    options={name: form.cleaned_data.get(name) for name in form.option_names},
                    actor=request.user,
                )
            except ImportFileError as exc:
                form.add_error("import_file", exc.message)
            else:
                if job_run(job.pk, in_request=True) == HANDED_OVER:
                    job_enqueue(job)
                job.refresh_from_db()
                file_error = job.report.get("file_error")
                if job.status == JobStatus.FAILED and file_error:
                    form.add_error("import_file", file_error)
                else:
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
            registration = self.registration
            try:
                arguments = list_selector_arguments(self, request)
                # Read where heavy reads go (the replica, unless this person wrote just now):
                # the count here, the rows when they stream (``.using`` outlives the block).
                with replica_reads(user=request.user) as alias:
                    queryset = registration.export_selector(**arguments).using(alias)
                    limit = settings.EXPORT_SYNC_MAX_ROWS
                    small = queryset.order_by()[: limit + 1].count() <= limit
            except UnexportableFilterError as exc:
                messages.error(request, str(exc))
                return HttpResponseRedirect(self._changelist_url())
            except (IncorrectLookupParameters, ValidationError, FieldError, ValueError):
                messages.error(
                    request,
                    "The list's filters in the address are not valid: choose the filters on the "
                    "list again, then export.",
                )
                return HttpResponseRedirect(self._changelist_url())
            xlsx = isinstance(formats[int(form.cleaned_data["format"])](), XLSX)
            if small and not xlsx:
                return self._csv_response(registration, queryset)
            job = job_export_create(
                registration=registration,
                arguments=arguments,
                file_format="xlsx" if xlsx else "csv",
                actor=request.user,
            )
            if small:
                job_run(job.pk, in_request=True)
            else:
                job_enqueue(job)
            return HttpResponseRedirect(job_url(job))
        context = self.init_request_context_data(request, form)
        context["fields_list"] = [
            (self.registration.plural, [c.name for c in self.registration.sheet.columns])
        ]
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.export_template_name], context=context)

    def _changelist_url(self) -> str:
        return reverse("admin:{}_{}_changelist".format(*self.get_model_info()))

    def _csv_response(
        self, registration: SheetRegistration, queryset: Any
    ) -> StreamingHttpResponse:
        response = StreamingHttpResponse(
            csv_chunks(registration.sheet(), queryset), content_type="text/csv; charset=utf-8"
        )
        name = export_file_name(registration.plural, "csv")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
