"""XLSX written as a stream: one worksheet, rows appended one at a time, constant memory.

Cells are typed by their values: text goes into inline-string cells (``t="inlineStr"``), which no
spreadsheet program evaluates as a formula, escaped as ECMA-376 says (``xlsx_escape.py``);
integers and decimals into number cells, money columns with a ``#,##0.00`` format; datetimes
into date cells (Excel's serial days, in the configured time zone) formatted
``yyyy-mm-dd hh:mm:ss``; booleans into boolean cells. A number read from a workbook
(``cells.NumberText``) goes back as a number. No cell is written over Excel's 32,767 characters.

The worksheet's XML is deflated into the archive as it is produced (``zipfile`` writing to a
stream), so memory does not grow with the rows. Several times faster per row than openpyxl's
write-only mode (``bench/spreadsheet_jobs.py`` measures both in one run).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape

from django.utils import timezone
from openpyxl.utils.datetime import to_excel

from .cells import NumberText
from .xlsx_escape import xlsx_escape

#: Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32_767
_FLUSH_BYTES = 256 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
# Cell formats (cellXfs), by index: 0 plain, 1 bold (the header), 2 money (built-in format 4,
# "#,##0.00"), 3 date and time, 4 date.
_HEADER, _MONEY, _DATETIME, _DATE = 1, 2, 3, 4
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATETIME_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATE_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


class CellTooLongError(ValueError):
    """A text over Excel's limit: no spreadsheet program could hold it."""


def _workbook(sheet_name: str) -> str:
    name = escape(sheet_name[:31] or "Sheet1", {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def text_cell(value: str, style: int = 0) -> str:
    if len(value) > MAX_CELL_CHARS:
        raise CellTooLongError(
            f"A text of {len(value):,} characters cannot be written: Excel holds "
            f"{MAX_CELL_CHARS:,} per cell."
        )
    text = escape(xlsx_escape(value))
    s = f' s="{style}"' if style else ""
    if value[:1].isspace() or value[-1:].isspace():
        return f'<c{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c{s} t="inlineStr"><is><t>{text}</t></is></c>'


class XlsxWriter:
    """``with XlsxWriter(out, sheet_name="Orders", header=[…]) as w: w.write_row([...])``.

    ``money[i]`` marks the columns whose numbers are amounts of money (shown with two decimals
    and thousands separators).
    """

    def __init__(
        self,
        out: IO[bytes],
        *,
        sheet_name: str,
        header: Sequence[str],
        money: Sequence[bool] = (),
        compresslevel: int = 1,
    ) -> None:
        self.archive = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self.archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self.archive.writestr("_rels/.rels", _ROOT_RELS)
        self.archive.writestr("xl/workbook.xml", _workbook(sheet_name))
        self.archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self.archive.writestr("xl/styles.xml", _STYLES)
        self.part = self.archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.money = list(money) or [False] * len(header)
        self.zone = timezone.get_current_timezone()
        self.buffer: list[str] = []
        self.size = 0
        self.rows = 0
        self.buffer.append(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
        )
        self._append("<row>" + "".join(text_cell(str(n), _HEADER) for n in header) + "</row>")

    def _append(self, xml: str) -> None:
        self.buffer.append(xml)
        self.size += len(xml)
        if self.size > _FLUSH_BYTES:
            self.part.write("".join(self.buffer).encode())
            self.buffer, self.size = [], 0

    def _cell(self, value: Any, money: bool) -> str:
        kind = type(value)
        if kind is str:
            return text_cell(value) if value else "<c/>"
        if value is None:
            return "<c/>"
        if kind is int or kind is Decimal or kind is float:
            return f'<c s="{_MONEY}"><v>{value}</v></c>' if money else f"<c><v>{value}</v></c>"
        if kind is NumberText:
            return f"<c><v>{value}</v></c>"
        if kind is bool:
            return f'<c t="b"><v>{int(value)}</v></c>'
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.make_naive(value, self.zone)
            return f'<c s="{_DATETIME}"><v>{to_excel(value)!r}</v></c>'
        if isinstance(value, dt.date):
            return f'<c s="{_DATE}"><v>{to_excel(value)!r}</v></c>'
        return text_cell(str(value))

    def write_row(self, values: Sequence[Any]) -> None:
        cell = self._cell
        cells = "".join([cell(v, m) for v, m in zip(values, self.money, strict=True)])
        self._append(f"<row>{cells}</row>")
        self.rows += 1

    def close(self) -> None:
        self.buffer.append("</sheetData></worksheet>")
        self.part.write("".join(self.buffer).encode())
        self.buffer = []
        self.part.close()
        self.archive.close()

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
