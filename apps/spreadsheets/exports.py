"""Exports: a sheet's rows written as CSV (streamed) or XLSX.

CSV cells that a spreadsheet program would run as formulas get the usual apostrophe
(``formulas.py``). XLSX cells are typed: numbers are numbers, text is text; the only text the XLSX
writer would turn into a formula is text starting with ``=``, which is escaped the same way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO, Any

from django.db import models

from .formulas import FORMULA_PREFIXES
from .sheets import Sheet


class _Echo:
    def write(self, value: str) -> str:
        return value


def _text(value: Any) -> str:
    return value if type(value) is str else "" if value is None else str(value)


def csv_chunks(sheet: Sheet, queryset: models.QuerySet) -> Iterator[bytes]:
    """CSV (UTF-8 with BOM, so spreadsheet programs detect it) in chunks of about 64 kB."""
    writer = csv.writer(_Echo())
    numeric = [c.numeric for c in sheet.columns]
    prefixes = FORMULA_PREFIXES
    buffer: list[str] = ["\ufeff" + writer.writerow([c.name for c in sheet.columns])]
    size = 0
    for row in sheet.export_rows(queryset):
        cells = []
        for is_number, value in zip(numeric, row, strict=True):
            text = _text(value)
            if not is_number and text and text[0] in prefixes:
                text = "'" + text
            cells.append(text)
        line = writer.writerow(cells)
        buffer.append(line)
        size += len(line)
        if size > 65536:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    yield "".join(buffer).encode()


def xlsx_write(sheet: Sheet, queryset: models.QuerySet, out: IO[bytes]) -> None:
    """An XLSX workbook of one sheet, written row by row (openpyxl's write-only mode)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(str(sheet.model._meta.verbose_name_plural))
    worksheet.append([c.name for c in sheet.columns])
    numeric = [c.numeric for c in sheet.columns]
    for row in sheet.export_rows(queryset):
        cells: list[Any] = []
        for is_number, value in zip(numeric, row, strict=True):
            if is_number:
                cells.append(value)
                continue
            text = _text(value)
            cells.append("'" + text if text.startswith("=") else text)
        worksheet.append(cells)
    workbook.save(out)
