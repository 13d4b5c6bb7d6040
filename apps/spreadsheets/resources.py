"""django-import-export resources over the engine: the library's public API, our rows.

``SheetResource().export(queryset)`` returns a ``tablib.Dataset`` with exactly the columns and
values of the admin's export, and ``SheetResource().import_data(dataset, dry_run=True)`` runs the
engine over it, so an exported dataset imports back unchanged. Only the public ``export`` and
``import_data`` methods of ``ModelResource`` are overridden.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.results import Error, InvalidRow, Result, RowResult

from .engine import import_rows
from .export_rows import export_values, iso_text
from .formulas import escape_formula
from .limits import ImportFileError
from .plan import ImportReport
from .readers import Table
from .sheets import Sheet


class SheetResource(ModelResource):
    """A resource whose rows go through the one import engine. Subclasses set ``sheet_class``
    (and ``Meta.model``)."""

    sheet_class: ClassVar[type[Sheet]]

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.sheet = self.sheet_class()
        self.options = options

    def get_user_visible_fields(self) -> list[Field]:
        return [Field(column_name=c.name) for c in self.sheet.import_columns()]

    def get_export_headers(self, selected_fields: Any = None) -> list[str]:
        return [c.name for c in self.sheet.columns]

    def export(self, queryset: models.QuerySet | None = None, **kwargs: Any) -> tablib.Dataset:
        """The admin's CSV export as a dataset: numbers stay numbers; text that a spreadsheet
        would run as a formula is escaped, since the dataset may be written in any format
        (django-import-export's XLSX format writes ``=…`` text as a formula)."""
        if queryset is None:
            queryset = self.sheet.model._default_manager.all()
        dataset = tablib.Dataset(headers=self.get_export_headers())
        for row in export_values(self.sheet, queryset):
            dataset.append([_dataset_value(v) for v in row])
        return dataset

    def import_data(
        self,
        dataset: tablib.Dataset,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> Result:
        # A Dataset is a sequence of row tuples: iterating it uses its public __getitem__.
        table = Table.from_rows(dataset.headers or [], dataset)
        try:
            report = import_rows(
                sheet=self.sheet,
                table=table,
                dry_run=dry_run,
                actor=kwargs.get("user"),
                file_name=kwargs.get("file_name"),
                options=self.options,
            )
        except ImportFileError as exc:
            if raise_errors:
                raise
            result = Result()
            result.append_base_error(Error(exc))
            return result
        return report_to_result(report)


def _dataset_value(value: Any) -> Any:
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, dt.datetime):
        return iso_text(value)
    return value


def report_to_result(report: ImportReport) -> Result:
    """The import-export ``Result`` for our report (totals, the preview rows, invalid rows)."""
    result = Result()
    result.diff_headers = list(report.columns)
    result.totals[RowResult.IMPORT_TYPE_NEW] = report.new
    result.totals[RowResult.IMPORT_TYPE_UPDATE] = report.updated
    result.totals[RowResult.IMPORT_TYPE_SKIP] = report.unchanged
    result.totals[RowResult.IMPORT_TYPE_INVALID] = report.invalid
    result.total_rows = report.total
    for preview in report.preview:
        row = RowResult()
        row.import_type = preview.import_type
        row.diff = preview.values
        result.append_row_result(row)
    by_row: dict[int, dict[str, list[str]]] = {}
    for error in report.errors:
        by_row.setdefault(error.row, {}).setdefault(error.column or NON_FIELD_ERRORS, []).append(
            error.message
        )
    values = {r.row: r.values for r in report.invalid_rows}
    for number in sorted(by_row):
        result.invalid_rows.append(
            InvalidRow(
                number=number,
                validation_error=ValidationError(by_row[number]),
                values=tuple(values.get(number, ())),
            )
        )
    return result
