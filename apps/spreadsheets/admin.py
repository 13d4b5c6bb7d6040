"""Spreadsheet import and export on a changelist: upload → preview → confirm, and exports.

django-import-export draws the buttons, the forms and the pages (styled by unfold); the views are
ours, written over its public ``import_action``, ``process_import`` and ``export_action``:

- **Upload**: the file is checked (extension, first bytes, size), stored in the default storage
  (shared between app instances) and previewed with a dry run of the model's import service.
- **Confirm** posts one signed token (stored file, options, who, and the preview's digests); the
  confirmed run writes exactly what the preview showed or refuses with "the data changed since
  the preview" and shows a fresh preview. Nothing the browser sends decides which file is read.
- **Export** streams CSV from the changelist's filtered queryset, or builds XLSX; filters that
  are not valid for the list are a message, not an error page.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core import signing
from django.core.exceptions import FieldError, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from .engine import ImportReport, PreviewOutdatedError
from .exports import csv_chunks, xlsx_write
from .limits import ImportFileError, SheetLimits
from .readers import detect_format, read_table
from .sheets import Sheet

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(settings.BASE_DIR) / "fixtures" / "import-templates"
UPLOAD_DIR = "imports"
TOKEN_SALT = "spreadsheets.import-confirm"
TOKEN_MAX_AGE = 24 * 3600


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


class ConfirmImportForm(forms.Form):
    """The preview's decision, signed: the only thing the confirm step trusts."""

    token = forms.CharField(widget=forms.HiddenInput())


# Presentation ------------------------------------------------------------------------------


class ImportPreview:
    """What the import page shows for a report (counts, preview rows, the problems)."""

    def __init__(self, report: ImportReport, *, options: Mapping[str, Any] | None = None) -> None:
        self.report = report
        self.options = dict(options or {})
        self.diff_headers = list(report.columns)
        self.rows = report.preview
        self.valid_rows = report.preview
        self.error_lines = [(e.row, e.column, e.message) for e in report.errors]
        self.error_lines_truncated = report.errors_truncated
        self.invalid_rows = report.invalid_rows
        self.base_errors: list[Any] = []


# Admin -------------------------------------------------------------------------------------


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

    def _import_url(self) -> str:
        return reverse("admin:{}_{}_import".format(*self.get_model_info()))

    # import: upload and preview

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
        }
        request.current_app = self.admin_site.name
        return context

    def _run(
        self,
        request: HttpRequest,
        stored: str,
        *,
        file_name: str,
        options: Mapping[str, Any],
        dry_run: bool,
        expected_digests: list[str] | None = None,
    ) -> ImportReport:
        limits = SheetLimits.from_settings()
        with default_storage.open(stored, "rb") as handle:
            table = read_table(
                handle, name=file_name, size=default_storage.size(stored), limits=limits
            )
            return type(self).import_service(
                table=table,
                dry_run=dry_run,
                actor=request.user,
                file_name=file_name,
                expected_digests=expected_digests,
                **options,
            )

    def _preview_response(
        self,
        request: HttpRequest,
        form: forms.Form | None,
        stored: str,
        *,
        file_name: str,
        options: Mapping[str, Any],
    ) -> HttpResponse | None:
        """Dry-run the stored file; the preview page, or ``None`` after adding a form error."""
        try:
            report = self._run(request, stored, file_name=file_name, options=options, dry_run=True)
        except ImportFileError as exc:
            default_storage.delete(stored)
            if form is None:
                raise
            form.add_error("import_file", exc.message)
            return None
        context = self._context(request, form)
        context["result"] = ImportPreview(report, options=options)
        if report.invalid:
            default_storage.delete(stored)
        else:
            token = signing.dumps(
                {
                    "stored": stored,
                    "file": file_name,
                    "model": self.model._meta.label_lower,
                    "user": request.user.pk,
                    "options": dict(options),
                    "digests": report.digests,
                },
                salt=TOKEN_SALT,
                compress=True,
            )
            context["confirm_form"] = ConfirmImportForm(initial={"token": token})
            context["confirm_options"] = dict(options)
        return TemplateResponse(request, [self.import_template_name], context)

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_import_form(request)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            options = {name: form.cleaned_data.get(name) for name in self.import_option_fields}
            suffix = Path(upload.name or "").suffix.lower()
            stored = default_storage.save(f"{UPLOAD_DIR}/{uuid.uuid4().hex}{suffix}", upload)
            response = self._preview_response(
                request, form, stored, file_name=upload.name or "file", options=options
            )
            if response is not None:
                return response
        return TemplateResponse(request, [self.import_template_name], self._context(request, form))

    # import: confirm

    @method_decorator(require_POST)
    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ConfirmImportForm(request.POST)
        try:
            if not form.is_valid():
                raise signing.BadSignature("no token")
            data = signing.loads(form.cleaned_data["token"], salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        except signing.BadSignature:
            messages.error(
                request,
                "This import can no longer be confirmed (it expired or the page was altered): "
                "upload the file again.",
            )
            return HttpResponseRedirect(self._import_url())
        if data.get("model") != self.model._meta.label_lower or data.get("user") != request.user.pk:
            raise PermissionDenied
        stored, file_name, options = data["stored"], data["file"], data.get("options", {})
        if not default_storage.exists(stored):
            messages.error(
                request, "The uploaded file is no longer available: upload it again to import it."
            )
            return HttpResponseRedirect(self._import_url())
        try:
            report = self._run(
                request,
                stored,
                file_name=file_name,
                options=options,
                dry_run=False,
                expected_digests=data.get("digests") or [],
            )
        except PreviewOutdatedError as exc:
            messages.warning(request, exc.message)
            response = self._preview_response(
                request, None, stored, file_name=file_name, options=options
            )
            assert response is not None
            return response
        except ImportFileError as exc:
            default_storage.delete(stored)
            messages.error(
                request, f"Nothing was imported: {exc.message} Upload the file again to review it."
            )
            return HttpResponseRedirect(self._import_url())
        default_storage.delete(stored)
        plural = self.model._meta.verbose_name_plural
        messages.success(
            request,
            f"Import finished: {report.new} new, {report.updated} updated and {report.skipped} "
            f"unchanged (skipped) {plural}.",
        )
        return HttpResponseRedirect(
            reverse("admin:{}_{}_changelist".format(*self.get_model_info()))
        )

    # export

    def export_action(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        if not self.has_export_permission(request):
            raise PermissionDenied
        formats = self.get_export_formats()
        form = self.get_export_form_class()(
            formats, self.get_export_resource_classes(request), data=request.POST or None
        )
        if form.is_valid():
            try:
                queryset = self.get_export_queryset(request)
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
            return self.export_response(request, queryset, file_format)
        context = self.init_request_context_data(request, form)
        context["fields_list"] = [
            (self.sheet.model._meta.verbose_name_plural, [c.name for c in self.sheet.columns])
        ]
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.export_template_name], context=context)

    def export_response(
        self, request: HttpRequest, queryset: Any, file_format: Any
    ) -> HttpResponse | StreamingHttpResponse:
        file_name = self.get_export_filename(request, queryset, file_format)
        response: HttpResponse | StreamingHttpResponse
        if isinstance(file_format, XLSX):
            out = io.BytesIO()
            xlsx_write(self.sheet, queryset, out)
            response = HttpResponse(out.getvalue(), content_type=file_format.get_content_type())
        else:
            response = StreamingHttpResponse(
                csv_chunks(self.sheet, queryset), content_type="text/csv; charset=utf-8"
            )
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response
