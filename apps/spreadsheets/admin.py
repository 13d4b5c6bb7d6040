"""Spreadsheet import/export in the admin: resources, forms and the ModelAdmin mixin.

django-import-export drives the pages (upload → preview → confirm, export form) and unfold
styles them; the rows themselves go through the apps' ``*_import_rows`` services, which
validate in bulk and write in one transaction, and exports stream rows straight from the
changelist's queryset.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils import timezone
from import_export.admin import ImportExportModelAdmin
from import_export.fields import Field
from import_export.formats.base_formats import CSV, XLSX
from import_export.resources import ModelResource
from import_export.results import Error, InvalidRow, Result, RowResult
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.widgets import UnfoldBooleanWidget

from apps.core.errors import DomainError
from apps.spreadsheets.engine import FORMULA_PREFIXES, ImportReport, Table

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(settings.BASE_DIR) / "fixtures" / "import-templates"
EXTENSIONS = {".csv": CSV, ".xlsx": XLSX}
ZIP_MAGIC = b"PK\x03\x04"


# Resources ---------------------------------------------------------------------------------


class SpreadsheetResource(ModelResource):
    """A resource whose rows go through a bulk import service and export as plain rows.

    Subclasses set ``import_columns`` / ``export_columns`` and implement ``run_import`` and
    ``export_values``.
    """

    import_columns: tuple[str, ...] = ()
    export_columns: tuple[str, ...] = ()
    #: Columns exported as numbers (numeric XLSX cells); all others are text.
    numeric_columns: frozenset[str] = frozenset()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.options = kwargs

    def get_user_visible_fields(self) -> list[Field]:
        return [Field(column_name=c) for c in self.import_columns]

    # import

    def run_import(
        self, *, table: Table, dry_run: bool, user: Any, file_name: str | None
    ) -> ImportReport:
        raise NotImplementedError

    def import_data(self, dataset: Any, dry_run: bool = False, **kwargs: Any) -> Result:
        result = Result()
        table = Table.from_rows(dataset.headers or [], dataset._data)
        try:
            report = self.run_import(
                table=table,
                dry_run=dry_run,
                user=kwargs.get("user"),
                file_name=kwargs.get("file_name"),
            )
        except DomainError as exc:
            result.append_base_error(Error(exc))
            result.report = None
            return result
        return report_to_result(report, table)

    # export

    def export_values(self, queryset: models.QuerySet) -> Iterator[Sequence[Any]]:
        raise NotImplementedError

    def export_cells(self, queryset: models.QuerySet, *, text_only: bool) -> Iterator[list[Any]]:
        zone = timezone.get_current_timezone()
        prefixes = FORMULA_PREFIXES

        def text(value: Any) -> str:
            if type(value) is not str:
                if value is None:
                    return ""
                if isinstance(value, dt.datetime):
                    value = value.astimezone(zone).isoformat()
                else:
                    value = str(value)
            # escape_formula, inlined: this runs for every text cell of the export.
            return "'" + value if value and value[0] in prefixes else value

        def number(value: Any) -> Any:
            if value is None:
                return ""
            return str(value) if text_only else value

        convert = [number if c in self.numeric_columns else text for c in self.export_columns]
        for values in self.export_values(queryset):
            yield [f(v) for f, v in zip(convert, values, strict=True)]


def report_to_result(report: ImportReport, table: Table) -> Result:
    """The import-export ``Result`` the admin pages render, from our report."""
    result = Result()
    result.report = report
    result.diff_headers = list(report.columns)
    result.totals[RowResult.IMPORT_TYPE_NEW] = report.new
    result.totals[RowResult.IMPORT_TYPE_UPDATE] = report.updated
    result.totals[RowResult.IMPORT_TYPE_SKIP] = report.skipped
    result.totals[RowResult.IMPORT_TYPE_INVALID] = report.invalid
    result.total_rows = report.total
    for preview in report.preview:
        row = RowResult()
        row.import_type = preview.import_type
        row.diff = preview.values
        result.append_row_result(row)
    by_row: dict[int, dict[str, list[str]]] = {}
    for error in report.errors:
        if error.row not in by_row and len(by_row) >= report.preview_limit:
            continue
        by_row.setdefault(error.row, {}).setdefault(error.column or NON_FIELD_ERRORS, []).append(
            error.message
        )
    result.error_lines = [
        (number, column if column != NON_FIELD_ERRORS else "", message)
        for number in sorted(by_row)
        for column, messages_ in by_row[number].items()
        for message in messages_
    ]
    result.error_lines_truncated = report.invalid > len(by_row)
    for number in sorted(by_row):
        raw = table.rows[number - 2] if 0 <= number - 2 < len(table.rows) else ()
        values = dict(zip(table.headers, raw, strict=False))
        result.invalid_rows.append(
            InvalidRow(
                number=number,
                validation_error=ValidationError(by_row[number]),
                values=tuple(_cell(values.get(c)) for c in report.columns),
            )
        )
    return result


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


# Forms -------------------------------------------------------------------------------------


def check_upload(upload: Any) -> type:
    """Refuse files we cannot read, with a message a person can act on; return the format."""
    name = upload.name or ""
    suffix = Path(name).suffix.lower()
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if upload.size == 0:
        raise ValidationError("The file is empty.")
    if upload.size > limit:
        raise ValidationError(
            f"The file is {filesizeformat(upload.size)}; files up to {filesizeformat(limit)} "
            "can be imported. Split it into smaller files."
        )
    if suffix not in EXTENSIONS:
        raise ValidationError(
            f"“{name}” is not a CSV or XLSX file. Save the spreadsheet as CSV UTF-8 (.csv) or "
            "Excel workbook (.xlsx) and upload it again."
        )
    head = upload.read(4)
    upload.seek(0)
    if suffix == ".xlsx":
        if head != ZIP_MAGIC:
            raise ValidationError(
                f"“{name}” is not an Excel workbook (.xlsx), although its name ends in .xlsx."
            )
        return XLSX
    if head == ZIP_MAGIC:
        raise ValidationError(
            f"“{name}” is an Excel workbook, not CSV text: rename it to .xlsx or save it as CSV."
        )
    data = upload.read()
    upload.seek(0)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"The file is not UTF-8 text (unreadable byte at position {exc.start}). In your "
            "spreadsheet choose “Save as” → “CSV UTF-8” and upload it again."
        ) from None
    lines = [line for line in text.splitlines() if line.strip(" ,;\t")]
    if not lines:
        raise ValidationError("The file is empty.")
    if len(lines) == 1:
        raise ValidationError("The file has a header row but no data rows.")
    return CSV


class SpreadsheetImportForm(ImportForm):
    """unfold's import form that checks the file and picks the format from its extension."""

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
            file_format = check_upload(upload)
        except ValidationError as exc:
            self.add_error("import_file", exc)
            return cleaned
        # The extension decides: a mismatched format choice would only produce a parse error.
        cleaned["format"] = str(self.formats.index(file_format))
        return cleaned


class OrderImportForm(SpreadsheetImportForm):
    send_confirmations = forms.BooleanField(
        label="Send SMS confirmations",
        required=False,
        initial=False,
        widget=UnfoldBooleanWidget,
        help_text="Text each customer an order confirmation for every new order in the file.",
    )


class OrderConfirmImportForm(forms.Form):
    import_file_name = forms.CharField(widget=forms.HiddenInput())
    original_file_name = forms.CharField(widget=forms.HiddenInput())
    format = forms.CharField(widget=forms.HiddenInput())
    resource = forms.CharField(widget=forms.HiddenInput(), required=False)
    send_confirmations = forms.BooleanField(required=False, widget=forms.HiddenInput())

    def clean_import_file_name(self) -> str:
        return Path(self.cleaned_data["import_file_name"]).name


# Admin -------------------------------------------------------------------------------------


class SpreadsheetImportExportAdmin(ImportExportModelAdmin):
    """Import/export for a changelist; list it after unfold's ModelAdmin in the bases."""

    formats = [CSV, XLSX]
    import_form_class = SpreadsheetImportForm
    export_form_class = ExportForm
    import_template_name = "admin/imports/import.html"
    #: File names under fixtures/import-templates/ offered on the import page.
    import_template_files: tuple[str, ...] = ()

    def has_import_permission(self, request: HttpRequest) -> bool:
        return (
            super().has_import_permission(request)
            and self.has_add_permission(request)
            and self.has_change_permission(request)
        )

    def has_export_permission(self, request: HttpRequest) -> bool:
        return super().has_export_permission(request) and self.has_view_permission(request)

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

    def get_import_context_data(self, **kwargs: Any) -> dict[str, Any]:
        info = self.get_model_info()
        return {
            "import_templates": [
                (name, reverse("admin:{}_{}_import_template".format(*info), args=[name]))
                for name in self.import_template_files
            ],
            "import_max_bytes": settings.IMPORT_MAX_UPLOAD_BYTES,
        }

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {}

    def add_data_read_fail_error_to_form(self, form: forms.Form, e: Exception) -> None:
        logger.info("unreadable import file: %r", e)
        form.add_error(
            "import_file",
            "The file could not be read as a spreadsheet: it may be damaged, password-protected "
            "or saved in another format. Save it again as CSV UTF-8 or XLSX.",
        )

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            return super().process_import(request, **kwargs)
        except (FileNotFoundError, OSError):
            messages.error(
                request, "The uploaded file is no longer available: upload it again to import it."
            )
            return HttpResponseRedirect(self._import_url())

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        report: ImportReport | None = getattr(result, "report", None)
        if report is None or not report.written:
            problem = (
                str(result.base_errors[0].error)
                if result.base_errors
                else f"{report.invalid if report else 0} rows are invalid now"
            )
            messages.error(
                request, f"Nothing was imported: {problem}. Upload the file again to review it."
            )
            return HttpResponseRedirect(self._import_url())
        return super().process_result(result, request)

    def add_success_message(self, result: Result, request: HttpRequest) -> None:
        report: ImportReport = result.report
        plural = self.model._meta.verbose_name_plural
        messages.success(
            request,
            f"Import finished: {report.new} new, {report.updated} updated and {report.skipped} "
            f"unchanged (skipped) {plural}.",
        )

    def _import_url(self) -> str:
        return reverse("admin:{}_{}_import".format(*self.get_model_info()))

    # export

    def get_export_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {}

    def _do_file_export(
        self, file_format: Any, request: HttpRequest, queryset: models.QuerySet, export_form=None
    ) -> HttpResponse:
        if not self.has_export_permission(request):
            raise PermissionDenied
        resource = self.choose_export_resource_class(export_form, request)()
        file_name = self.get_export_filename(request, queryset, file_format)
        disposition = f'attachment; filename="{file_name}"'
        if isinstance(file_format, XLSX):
            response = HttpResponse(
                xlsx_bytes(resource, queryset), content_type=file_format.get_content_type()
            )
        else:
            response = StreamingHttpResponse(
                csv_chunks(resource, queryset), content_type="text/csv; charset=utf-8"
            )
        response["Content-Disposition"] = disposition
        return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(resource: SpreadsheetResource, queryset: models.QuerySet) -> Iterator[bytes]:
    """CSV in chunks of about 64 kB, so the response streams as rows are read."""
    writer = csv.writer(_Echo())
    buffer: list[str] = ["\ufeff" + writer.writerow(resource.export_columns)]
    size = 0
    for row in resource.export_cells(queryset, text_only=True):
        line = writer.writerow(row)
        buffer.append(line)
        size += len(line)
        if size > 65536:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    yield "".join(buffer).encode()


def xlsx_bytes(resource: SpreadsheetResource, queryset: models.QuerySet) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(resource._meta.model._meta.verbose_name_plural))
    sheet.append(list(resource.export_columns))
    for row in resource.export_cells(queryset, text_only=False):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
