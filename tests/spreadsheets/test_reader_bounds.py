"""The bounded reader: numbers no column can hold stay text, damaged archives are a message,
and only what Excel shows is read (the first visible sheet, the worksheet's own rows, texts
without their phonetic guides, one value per cell)."""

import io
import time
import zipfile

import pytest

from apps.customers.models import Customer
from apps.items.models import Item
from apps.items.resources import item_import_rows
from apps.orders.resources import order_import_rows
from apps.spreadsheets.limits import ImportFileError, SheetLimits
from apps.spreadsheets.readers import Table, read_table
from tests.factories import CustomerFactory, ItemFactory

from . import hostile
from .conftest import page_text, upload

pytestmark = pytest.mark.django_db

ITEM_HEADER = hostile.inline_row(1, [("A1", "name"), ("B1", "size"), ("C1", "price")])


def _rows(data: bytes, name: str = "x.xlsx") -> list:
    table = read_table(
        io.BytesIO(data), name=name, size=len(data), limits=SheetLimits.from_settings()
    )
    try:
        return [(table.headers, None), *list(table.rows)]
    finally:
        table.close()


def _item_with_price(raw: str) -> bytes:
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Cap</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>M</t></is></c>'
        f'<c r="C2"><v>{raw}</v></c></row>'
    )
    return hostile.xlsx(hostile._sheet(ITEM_HEADER + row))


def _named(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1E+1000000", "price is not a number"),
        ("1E+5000", "price is not a number"),
        ("-1E+1000000", "price is not a number"),
        ("1E-1000000", "price is not a number"),
        ("1E+30", "price is too large"),
        ("123456789012", "price is too large"),
    ],
)
def test_number_cells_beyond_any_column_are_text_and_cost_nothing(raw, message):
    data = _item_with_price(raw)
    start = time.perf_counter()
    table = read_table(
        io.BytesIO(data), name="p.xlsx", size=len(data), limits=SheetLimits.from_settings()
    )
    report = item_import_rows(table=table, dry_run=True)
    assert time.perf_counter() - start < 2
    assert [(e.column, e.message) for e in report.errors] == [("price", message)]


def test_a_huge_exponent_in_an_order_quantity_is_a_row_error():
    customer, item = CustomerFactory(), ItemFactory()
    header = hostile.inline_row(
        1, [("A1", "customer_uuid"), ("B1", "item_uuid"), ("C1", "quantity")]
    )
    row = (
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{customer.uuid}</t></is></c>'
        f'<c r="B2" t="inlineStr"><is><t>{item.uuid}</t></is></c>'
        '<c r="C2"><v>1E+1000000</v></c></row>'
    )
    data = hostile.xlsx(hostile._sheet(header + row))
    start = time.perf_counter()
    report = order_import_rows(
        table=read_table(
            io.BytesIO(data), name="o.xlsx", size=len(data), limits=SheetLimits.from_settings()
        ),
        dry_run=True,
    )
    assert time.perf_counter() - start < 2
    assert [(e.column, e.message) for e in report.errors] == [
        ("quantity", "quantity must be a whole number")
    ]


def test_a_huge_number_in_a_csv_price_is_not_a_number():
    table = Table.from_rows(["name", "size", "price"], [["Cap", "M", "1E+1000000"]])
    report = item_import_rows(table=table, dry_run=True)
    assert report.errors[0].message == "price is not a number"


# --- damaged archives --------------------------------------------------------------------------


def _good_workbook(stored: bool = False) -> bytes:
    sheet = hostile._sheet(hostile.HEADER_ROW + hostile.GOOD_ROW * 1).encode()
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", method) as archive:
        archive.writestr("[Content_Types].xml", hostile._CONTENT_TYPES)
        archive.writestr("_rels/.rels", hostile._ROOT_RELS)
        archive.writestr("xl/workbook.xml", hostile._WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", hostile._workbook_rels(False))
        archive.writestr("xl/worksheets/sheet1.xml", sheet + b" " * 4000)
    return out.getvalue()


def _flip_in_member(data: bytes, member: str, offset: int) -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(member)
    # The member's data start: its local header (30 bytes + name + extra) from header_offset.
    header = data[info.header_offset : info.header_offset + 30]
    start = (
        info.header_offset
        + 30
        + int.from_bytes(header[26:28], "little")
        + int.from_bytes(header[28:30], "little")
    )
    position = start + offset
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


def _flip_header(data: bytes, member: str) -> bytes:
    """The first byte of a member's local header signature flipped."""
    position = zipfile.ZipFile(io.BytesIO(data)).getinfo(member).header_offset
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


def _duplicate_parts() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", hostile._CONTENT_TYPES)
        archive.writestr("_rels/.rels", hostile._ROOT_RELS)
        archive.writestr("xl/workbook.xml", hostile._WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", hostile._workbook_rels(False))
        archive.writestr("xl/worksheets/sheet1.xml", hostile._sheet(hostile.HEADER_ROW))
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr(
                "xl/worksheets/sheet1.xml", hostile._sheet(hostile.HEADER_ROW + hostile.GOOD_ROW)
            )
    return out.getvalue()


DAMAGED = {
    "flipped deflate byte": lambda: _flip_in_member(
        _good_workbook(), "xl/worksheets/sheet1.xml", 5
    ),
    "bad CRC (stored)": lambda: _flip_in_member(
        _good_workbook(stored=True), "xl/worksheets/sheet1.xml", 120
    ),
    "truncated": lambda: _good_workbook()[: len(_good_workbook()) // 2],
    "central directory cut": lambda: _good_workbook()[:-30],
    "flipped local header": lambda: _flip_header(_good_workbook(), "xl/workbook.xml"),
    "duplicate parts": _duplicate_parts,
}


@pytest.mark.parametrize("name", list(DAMAGED))
def test_damaged_archives_are_a_clear_message_never_a_500(importer_client, name):
    data = DAMAGED[name]()
    with pytest.raises(ImportFileError):
        _rows(data)
    response = upload(importer_client, "customer", _named(data, "damaged.xlsx"))
    assert response.status_code == 200
    text = page_text(response)
    assert "damaged" in text or "could not be read as a spreadsheet" in text, name
    assert Customer.objects.count() == 0


# --- what Excel shows -------------------------------------------------------------------------


def _two_sheets(first_state: str) -> bytes:
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        f'<sheet name="Secret" sheetId="1" state="{first_state}" r:id="rId1"/>'
        '<sheet name="Shown" sheetId="2" r:id="rId3"/></sheets></workbook>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>'
    )
    hidden = hostile.inline_row(2, [("A2", "Hidden"), ("B2", "Row"), ("C2", "+254711000099")])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", hostile._CONTENT_TYPES)
        archive.writestr("_rels/.rels", hostile._ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        archive.writestr("xl/worksheets/sheet1.xml", hostile._sheet(hostile.HEADER_ROW + hidden))
        archive.writestr(
            "xl/worksheets/sheet2.xml", hostile._sheet(hostile.HEADER_ROW + hostile.GOOD_ROW)
        )
    return out.getvalue()


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_the_first_visible_sheet_is_read(state):
    rows = _rows(_two_sheets(state))
    assert [r[1] for r in rows[1:]] == [["Amina", "Wanjiru", "+254711000001"]]


def test_rows_outside_the_worksheet_data_are_not_read():
    evil = hostile.inline_row(3, [("A3", "Evil"), ("B3", "Row"), ("C3", "+254711000666")])
    foreign = evil.replace("<row ", '<x:row xmlns:x="urn:example" ').replace("</row>", "</x:row>")
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{hostile.HEADER_ROW}{hostile.GOOD_ROW}{foreign}</sheetData>"
        f'<extLst><ext uri="{{00000000-0000-0000-0000-000000000000}}"><sheetData>{evil}</sheetData>'
        f"{evil}</ext></extLst></worksheet>"
    )
    rows = _rows(hostile.xlsx(sheet))
    assert [r[1] for r in rows[1:]] == [["Amina", "Wanjiru", "+254711000001"]]


@pytest.mark.parametrize("index", ["-1", "+0", "0.0", " 0", "1"])
def test_a_shared_text_index_must_name_an_existing_text(index):
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>Amina</t></si></sst>"
    )
    row = f'<row r="2"><c r="A2" t="s"><v>{index}</v></c></row>'
    data = hostile.xlsx(hostile._sheet(hostile.HEADER_ROW + row), shared_strings=sst)
    with pytest.raises(ImportFileError, match="missing shared text"):
        _rows(data)


def test_phonetic_guides_are_not_text():
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<si><t>山田</t><rPh sb="0" eb="2"><t>ヤマダ</t></rPh></si>'
        "<si><r><t>Wan</t></r><r><rPr><b/></rPr><t>jiru</t></r>"
        '<rPh sb="0" eb="1"><t>x</t></rPh></si></sst>'
    )
    row = (
        '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c>'
        '<c r="C2" t="inlineStr"><is><t>+254711000001</t><rPh sb="0" eb="1"><t>ignored</t></rPh>'
        "</is></c></row>"
    )
    rows = _rows(hostile.xlsx(hostile._sheet(hostile.HEADER_ROW + row), shared_strings=sst))
    assert rows[1][1] == ["山田", "Wanjiru", "+254711000001"]


def test_a_cell_written_twice_is_a_row_error(importer_client):
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Amina</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>Wanjiru</t></is></c>'
        '<c r="A2" t="inlineStr"><is><t>Mallory</t></is></c>'
        '<c r="C2" t="inlineStr"><is><t>+254711000001</t></is></c></row>'
    )
    row3 = hostile.inline_row(3, [("A3", "Baraka"), ("B3", "Otieno"), ("C3", "+254711000002")])
    data = hostile.xlsx(hostile._sheet(hostile.HEADER_ROW + row + row3))
    response = upload(importer_client, "customer", _named(data, "twice.xlsx"))
    report = response.context["result"].report
    assert (report.invalid, report.new) == (1, 1)
    assert report.errors[0].row == 2
    assert "cell A2 is written twice" in report.errors[0].message
    assert Customer.objects.count() == 0


def test_rows_out_of_order_are_a_damaged_workbook():
    rows = hostile.GOOD_ROW + hostile.inline_row(2, [("A2", "Again")])
    with pytest.raises(ImportFileError, match="row 2 is out of order or repeated"):
        _rows(hostile.xlsx(hostile._sheet(hostile.HEADER_ROW + rows)))


def test_a_cell_of_millions_of_runs_is_refused_in_little_memory():
    runs = "<r><t>a</t></r>" * 20_000
    row = f'<row r="2"><c r="A2" t="inlineStr"><is>{runs}</is></c></row>'
    with pytest.raises(ImportFileError, match="damaged"):
        _rows(hostile.xlsx(hostile._sheet(hostile.HEADER_ROW + row)))


def test_items_still_import_from_a_plain_workbook():
    header = ITEM_HEADER
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Cap</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>M</t></is></c><c r="C2"><v>2500.5</v></c></row>'
    )
    data = hostile.xlsx(hostile._sheet(header + row))
    table = read_table(
        io.BytesIO(data), name="i.xlsx", size=len(data), limits=SheetLimits.from_settings()
    )
    assert item_import_rows(table=table).new == 1
    assert str(Item.objects.get().price) == "2500.50"
