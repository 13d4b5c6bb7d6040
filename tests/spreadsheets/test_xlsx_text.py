"""Text in workbooks: every text the writer writes reads back exactly (ECMA-376 escapes), and no
cell over Excel's 32,767 characters is ever written."""

import io
import zipfile

import pytest

from apps.spreadsheets.limits import SheetLimits
from apps.spreadsheets.readers import read_table
from apps.spreadsheets.xlsx_escape import xlsx_escape, xlsx_unescape
from apps.spreadsheets.xlsx_writer import CellTooLongError, XlsxWriter

from . import hostile

HOSTILE_TEXTS = [
    "_x0041_",
    "_X0041_",
    "_x005F_",
    "__x0041__",
    "A\x01B",
    "tab\tinside",
    "line\nbreak",
    "carriage\rreturn",
    "\r\n",
    "NUL\x00",
    "C1\x85\x9f",
    "\ufffe\uffff",
    '=HYPERLINK("http://example.com")',
    "'=1+1",
    "+254711000001",
    "@SUM(1)",
    "-2",
    "😀 emoji 👍🏽",
    "مرحبا بالعالم",
    "עִבְרִית \u202eRTL override\u202c",
    "  surrounding blanks  ",
    "<tag>&amp;</tag>",
    "x" * 32_767,
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_escape_round_trips(text):
    assert xlsx_unescape(xlsx_escape(text)) == text


def test_escapes_as_excel_writes_them():
    assert xlsx_escape("A\x01B") == "A_x0001_B"
    assert xlsx_escape("a\rb") == "a_x000D_b"
    assert xlsx_escape("_x0041_") == "_x005F_x0041_"
    assert xlsx_escape("plain_text x0041") == "plain_text x0041"
    # Excel writes a character beyond the first plane that needs escaping as two halves.
    assert xlsx_unescape("_xD83D__xDE00_") == "😀"
    assert xlsx_unescape("_x0041_") == "A"


def _written_and_read(values: list) -> list:
    out = io.BytesIO()
    with XlsxWriter(out, sheet_name="t", header=[f"c{i}" for i in range(len(values))]) as w:
        w.write_row(values)
    data = out.getvalue()
    table = read_table(
        io.BytesIO(data), name="t.xlsx", size=len(data), limits=SheetLimits.from_settings()
    )
    rows = list(table.rows)
    assert len(rows) == 1
    return list(rows[0][1])


def test_every_text_the_writer_writes_reads_back_exactly():
    # NUL has no place in XML at all; escaped, it survives too.
    assert _written_and_read(HOSTILE_TEXTS) == HOSTILE_TEXTS


def test_no_cell_over_excels_limit_is_written():
    with pytest.raises(CellTooLongError, match="32,767 per cell"):
        _written_and_read(["x" * 32_768])


def test_the_worksheet_xml_holds_no_character_xml_cannot_carry():
    out = io.BytesIO()
    with XlsxWriter(out, sheet_name="t", header=["a"]) as w:
        w.write_row(["A\x01B\rC\ufffe"])
    xml = zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet1.xml").decode()
    assert "A_x0001_B_x000D_C_xFFFE_" in xml
    assert not any(c in xml for c in "\x01\r\ufffe")


def test_shared_strings_are_unescaped_too():
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>A_x0001_B</t></si><si><t>_x005F_x0041_</t></si></sst>"
    )
    row = '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
    data = hostile.xlsx(hostile._sheet(hostile.HEADER_ROW + row), shared_strings=sst)
    table = read_table(
        io.BytesIO(data), name="s.xlsx", size=len(data), limits=SheetLimits.from_settings()
    )
    assert next(iter(table.rows))[1][:2] == ["A\x01B", "_x0041_"]
