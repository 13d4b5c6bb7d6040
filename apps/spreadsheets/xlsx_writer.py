"""XLSX written as a stream: one worksheet, rows appended one at a time, constant memory.

Text goes into inline-string cells (``t="inlineStr"``), which no spreadsheet program evaluates
as a formula, so text needs no escaping; numbers go into number cells. The worksheet's XML is
deflated into the archive as it is produced (``zipfile`` writing to a stream), so memory does not
grow with the rows. Several times faster per row than openpyxl's write-only mode
(``bench/spreadsheet_jobs.py`` measures both in one run; figures in bench/README.md).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
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
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(sheet_name: str) -> str:
    name = escape(sheet_name[:31] or "Sheet1", {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _text_cell(value: str) -> str:
    if _INVALID_XML.search(value):
        value = _INVALID_XML.sub("\ufffd", value)
    text = escape(value)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


class XlsxWriter:
    """``with XlsxWriter(out, sheet_name="Orders", header=[…]) as w: w.write_row([...])``.

    ``numeric[i]`` marks the columns written as number cells (``int``, ``float``, ``Decimal``);
    every other value is written as text.
    """

    def __init__(
        self,
        out: IO[bytes],
        *,
        sheet_name: str,
        header: Sequence[str],
        numeric: Sequence[bool] = (),
        compresslevel: int = 1,
    ) -> None:
        self.archive = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self.archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self.archive.writestr("_rels/.rels", _ROOT_RELS)
        self.archive.writestr("xl/workbook.xml", _workbook(sheet_name))
        self.archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self.archive.writestr("xl/styles.xml", _STYLES)
        self.part = self.archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.numeric = list(numeric) or [False] * len(header)
        self.buffer: list[str] = []
        self.size = 0
        self.rows = 0
        self.buffer.append(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
        )
        cells = "".join(_text_cell(str(name)).replace("<c ", '<c s="1" ', 1) for name in header)
        self._append(f"<row>{cells}</row>")

    def _append(self, xml: str) -> None:
        self.buffer.append(xml)
        self.size += len(xml)
        if self.size > _FLUSH_BYTES:
            self.part.write("".join(self.buffer).encode())
            self.buffer, self.size = [], 0

    def write_row(self, values: Sequence[Any]) -> None:
        cells = []
        for is_number, value in zip(self.numeric, values, strict=True):
            if value is None or value == "":
                cells.append("<c/>")
            elif (
                is_number
                and isinstance(value, int | float | Decimal)
                and not isinstance(value, bool)
            ):
                cells.append(f"<c><v>{value}</v></c>")
            else:
                cells.append(_text_cell(value if type(value) is str else str(value)))
        self._append(f"<row>{''.join(cells)}</row>")
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
