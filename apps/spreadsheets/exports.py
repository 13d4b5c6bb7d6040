"""Exports: a sheet's rows written as CSV or XLSX, streamed, in constant memory.

- ``csv_chunks``: CSV as a stream of byte chunks, for a download answered while rows are read.
- ``csv_write``: CSV into a file, for export jobs. On PostgreSQL the database writes it itself
  (``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)``) from the same expressions, formatted in SQL
  exactly as the Python path formats them; elsewhere ``csv_chunks``.
- ``xlsx_write``: XLSX into a file (``xlsx_writer.py``: typed cells — numbers, money with a
  number format, dates in the configured time zone — streamed).

CSV cells that a spreadsheet program would run as formulas get the usual apostrophe
(``formulas.py``); datetimes are ISO 8601 text in the configured time zone. XLSX cells are
typed: text is never evaluated, so it is written as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import DateTimeField, DecimalField, Func, IntegerField

from .export_rows import export_queryset, export_values, iso_text
from .formulas import escape_formula
from .sheets import Sheet
from .xlsx_writer import XlsxWriter

#: Called with the number of rows written so far; may raise to stop the export.
RowProgress = Callable[[int], None]
PROGRESS_EVERY = 10_000
BOM = "\ufeff"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> str:
    if type(value) is str:
        return escape_formula(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return iso_text(value)
    return str(value)


def csv_chunks(
    sheet: Sheet, queryset: models.QuerySet, progress: RowProgress | None = None
) -> Iterator[bytes]:
    """CSV (UTF-8 with BOM, so spreadsheet programs detect it) in chunks of about 64 kB."""
    writer = csv.writer(_Echo())
    buffer: list[str] = [BOM + writer.writerow([c.name for c in sheet.columns])]
    size = rows = 0
    for row in export_values(sheet, queryset):
        line = writer.writerow([_csv_cell(value) for value in row])
        buffer.append(line)
        size += len(line)
        rows += 1
        if progress is not None and rows % PROGRESS_EVERY == 0:
            progress(rows)
        if size > 65536:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    yield "".join(buffer).encode()
    if progress is not None:
        progress(rows)


class _FormulaEscaped(Func):
    """SQL twin of the CSV formula escape: an apostrophe before text that starts like a
    formula."""

    output_field = models.TextField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **kwargs: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        starts = f"left(({sql})::text, 1) IN ('=', '+', '-', '@', chr(9), chr(13), chr(39))"
        return (
            f"CASE WHEN {starts} THEN '''' || ({sql})::text ELSE ({sql})::text END",
            [*params, *params, *params],
        )


class _IsoLocal(Func):
    """SQL twin of ``datetime.isoformat(timespec="microseconds")`` in the session time zone."""

    output_field = models.TextField()
    template = "to_char(%(expressions)s, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM')"


class _CountingFile:
    """What COPY writes into: the target file, counting rows (one ``write`` per row)."""

    def __init__(self, out: IO[bytes], progress: RowProgress | None) -> None:
        self.out = out
        self.progress = progress
        self.rows = 0

    def write(self, data: bytes | str) -> int:
        if isinstance(data, str):
            data = data.encode()
        self.out.write(data)
        self.rows += data.count(b"\n")
        if self.progress is not None and self.rows % PROGRESS_EVERY == 0:
            self.progress(self.rows)
        return len(data)


def _copy_csv(
    sheet: Sheet, queryset: models.QuerySet, out: IO[bytes], progress: RowProgress | None
) -> int:
    annotated, names = export_queryset(sheet, queryset)
    formatted: dict[str, Any] = {}
    for column, name in zip(sheet.columns, names, strict=True):
        output = annotated.query.annotations[name].output_field
        expression = annotated.query.annotations[name]
        if isinstance(output, DateTimeField):
            formatted[f"{name}_t"] = _IsoLocal(expression)
        elif column.numeric or isinstance(output, DecimalField | IntegerField):
            formatted[f"{name}_t"] = expression
        else:
            formatted[f"{name}_t"] = _FormulaEscaped(expression)
    query = annotated.annotate(**formatted).values_list(*formatted)
    sql, params = query.query.sql_with_params()
    header = ",".join(c.name for c in sheet.columns)
    out.write(f"{BOM}{header}\n".encode())
    target = _CountingFile(out, progress)
    # The database the router chose for this read: the replica inside replica_reads().
    alias = query.db
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        raw = cursor.cursor  # psycopg2's cursor: mogrify and copy_expert are not on Django's
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [settings.TIME_ZONE])
        select = raw.mogrify(sql, params).decode()
        raw.copy_expert(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", target)
    if progress is not None:
        progress(target.rows)
    return target.rows


def csv_write(
    sheet: Sheet, queryset: models.QuerySet, out: IO[bytes], progress: RowProgress | None = None
) -> int:
    """CSV of the export into ``out``; returns the number of rows."""
    if connections[queryset.db].vendor == "postgresql":
        return _copy_csv(sheet, queryset, out, progress)
    rows = 0

    def count(n: int) -> None:
        nonlocal rows
        rows = n
        if progress is not None:
            progress(n)

    for chunk in csv_chunks(sheet, queryset, count):
        out.write(chunk)
    return rows


def xlsx_write(
    sheet: Sheet, queryset: models.QuerySet, out: IO[bytes], progress: RowProgress | None = None
) -> int:
    """An XLSX workbook of one worksheet into ``out``; returns the number of rows."""
    with XlsxWriter(
        out,
        sheet_name=str(sheet.model._meta.verbose_name_plural),
        header=[c.name for c in sheet.columns],
        money=[c.places is not None for c in sheet.columns],
    ) as writer:
        for row in export_values(sheet, queryset):
            writer.write_row(row)
            if progress is not None and writer.rows % PROGRESS_EVERY == 0:
                progress(writer.rows)
        rows = writer.rows
    if progress is not None:
        progress(rows)
    return rows
