"""Crafted spreadsheet files for the hostile corpus (tests and ``bench/hostile_files.py``).

Each builder returns ``(file name, bytes)``: small files that would cost a naive reader minutes or
gigabytes, and files that lie about what they are. The expected outcome of each is in
``CORPUS``: the phrase of the message it must be refused with.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

HEADER = ("first_name", "last_name", "phone_number")

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def _workbook_rels(shared_strings: bool) -> str:
    sst = (
        '<Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        'Target="sharedStrings.xml"/>'
        if shared_strings
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet1.xml"/>{sst}</Relationships>'
    )


def _sheet(rows: str, *, dimension: str = "A1:C2", prologue: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prologue}'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def inline_row(number: int, values: list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>' for ref, text in values
    )
    return f'<row r="{number}">{cells}</row>'


HEADER_ROW = inline_row(1, [(f"{c}1", name) for c, name in zip("ABC", HEADER, strict=True)])
GOOD_ROW = inline_row(2, [("A2", "Amina"), ("B2", "Wanjiru"), ("C2", "+254711000001")])


def xlsx(
    sheet_xml: str | bytes,
    *,
    shared_strings: str | bytes | None = None,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(shared_strings is not None))
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def _streamed_part(name: str, chunks: Callable[[], Iterator[bytes]]) -> bytes:
    """A workbook whose sheet is written in chunks (for parts of hundreds of megabytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(False))
        with archive.open(name, "w", force_zip64=True) as part:
            for chunk in chunks():
                part.write(chunk)
    return out.getvalue()


# --- the corpus -------------------------------------------------------------------------------


def dimension_bomb_rows() -> bytes:
    """Declares a million rows; one value in the last of them."""
    far = inline_row(1_048_576, [("A1048576", "x")])
    return xlsx(_sheet(HEADER_ROW + GOOD_ROW + far, dimension="A1:C1048576"))


def dimension_bomb_columns() -> bytes:
    """Declares 16,384 columns; one value in the last column of row 2 (the 5 KB attack)."""
    row = inline_row(2, [("A2", "Amina"), ("B2", "W"), ("C2", "+254711000001"), ("XFD2", "x")])
    return xlsx(_sheet(HEADER_ROW + row, dimension="A1:XFD10000"))


def dimension_bomb_both() -> bytes:
    far = inline_row(1_048_576, [("XFD1048576", "x")])
    return xlsx(_sheet(HEADER_ROW + GOOD_ROW + far, dimension="A1:XFD1048576"))


def shared_strings_bomb(count: int = 3_000_000) -> bytes:
    """Millions of distinct shared strings in a file of a few megabytes."""
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(f"<si><t>{i}</t></si>" for i in range(count))
        + "</sst>"
    )
    return xlsx(_sheet(HEADER_ROW + GOOD_ROW), shared_strings=sst)


def whitespace_padding(megabytes: int = 200) -> bytes:
    """A sheet padded with hundreds of megabytes of blanks: ~200 KB compressed."""
    pad = b" " * (1024 * 1024)

    def chunks():
        head, tail = _sheet(HEADER_ROW + "@@PAD@@" + GOOD_ROW).encode().split(b"@@PAD@@")
        yield head
        for _ in range(megabytes):
            yield pad
        yield tail

    return _streamed_part("xl/worksheets/sheet1.xml", chunks)


def empty_cells_in_one_row(count: int = 2_000_000) -> bytes:
    """Millions of empty styled cells in one row (no value: they must cost nothing)."""

    def chunks():
        head, tail = _sheet(HEADER_ROW + "@@ROW@@").encode().split(b"@@ROW@@")
        yield head + b'<row r="2">'
        block = b'<c r="A2" s="1"/>' * 10_000
        for _ in range(count // 10_000):
            yield block
        yield b"</row>" + tail

    return _streamed_part("xl/worksheets/sheet1.xml", chunks)


def entity_expansion() -> bytes:
    """A "billion laughs" document type in the sheet."""
    prologue = (
        '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + "]>"
    )
    row = inline_row(2, [("A2", "&j;"), ("B2", "W"), ("C2", "+254711000001")])
    return xlsx(_sheet(HEADER_ROW + row, prologue=prologue))


def external_entity() -> bytes:
    prologue = '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    row = inline_row(2, [("A2", "&x;"), ("B2", "W"), ("C2", "+254711000001")])
    return xlsx(_sheet(HEADER_ROW + row, prologue=prologue))


def deep_nesting(depth: int = 100_000) -> bytes:
    inner = "<x>" * depth + "</x>" * depth
    return xlsx(_sheet(HEADER_ROW + f'<row r="2"><c r="A2">{inner}</c></row>'))


def zip_bomb(megabytes: int = 2048) -> bytes:
    """A sheet of gigabytes of zeros: a few megabytes compressed."""
    zeros = b"0" * (1024 * 1024)

    def chunks():
        yield b"<worksheet><sheetData><row><c><v>"
        for _ in range(megabytes):
            yield zeros
        yield b"</v></c></row></sheetData></worksheet>"

    return _streamed_part("xl/worksheets/sheet1.xml", chunks)


def many_parts(count: int = 5_000) -> bytes:
    return xlsx(
        _sheet(HEADER_ROW + GOOD_ROW),
        extra={f"xl/media/image{i}.png": b"" for i in range(count)},
    )


def huge_cell(chars: int = 40_000) -> bytes:
    row = inline_row(2, [("A2", "A" * chars), ("B2", "W"), ("C2", "+254711000001")])
    return xlsx(_sheet(HEADER_ROW + row))


def missing_shared_string() -> bytes:
    row = '<row r="2"><c r="A2" t="s"><v>99</v></c></row>'
    return xlsx(_sheet(HEADER_ROW + row))


def no_worksheet() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.replace('r:id="rId1"', 'r:id="rId9"'))
    return out.getvalue()


def ole_encrypted() -> bytes:
    """What Excel saves for a password-protected workbook: an OLE compound file, not a zip."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096


def csv_named_xlsx() -> bytes:
    return b"first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001\n"


def csv_too_many_columns() -> bytes:
    return b"first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001" + b",x" * 60 + b"\n"


def csv_huge_field() -> bytes:
    return b"first_name,last_name,phone_number\n" + b"A" * 200_000 + b",W,+254711000001\n"


def csv_nul_bytes() -> bytes:
    return b"first_name,last_name,phone_number\nAm\x00ina,Wanjiru,+254711000001\n"


def csv_many_rows(rows: int) -> bytes:
    body = b"".join(b"A,B,+2547%08d\n" % i for i in range(rows))
    return b"first_name,last_name,phone_number\n" + body


def number_bomb() -> bytes:
    """A ten-character number cell that written out is a million digits long."""
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Amina</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>W</t></is></c><c r="C2"><v>1E+1000000</v></c></row>'
    )
    return xlsx(_sheet(HEADER_ROW + row))


def bad_crc() -> bytes:
    """A stored (not deflated) sheet one byte of which changed after its checksum was taken."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(False))
        archive.writestr("xl/worksheets/sheet1.xml", _sheet(HEADER_ROW + GOOD_ROW))
    data = bytearray(out.getvalue())
    data[data.index(b"Amina")] ^= 0x20  # "amina": the CRC no longer matches
    return bytes(data)


def duplicate_sheet_part() -> bytes:
    """Two parts of the same name: which one a reader takes is up to it."""
    import warnings

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(False))
        archive.writestr("xl/worksheets/sheet1.xml", _sheet(HEADER_ROW))
        archive.writestr("xl/worksheets/sheet1.xml", _sheet(HEADER_ROW + GOOD_ROW))
    return out.getvalue()


#: name → (builder, file name, words the refusal must contain): a message on the upload field.
CORPUS: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "dimension bomb (columns)": (dimension_bomb_columns, "cols.xlsx", "Cell XFD2 is beyond column"),
    "dimension bomb (both)": (dimension_bomb_both, "both.xlsx", "Cell XFD1048576 is beyond"),
    "shared strings": (shared_strings_bomb, "sst.xlsx", "table of texts holds more entries"),
    "whitespace padding": (whitespace_padding, "pad.xlsx", "expands to more data"),
    "empty cells": (empty_cells_in_one_row, "empty.xlsx", "expands to more data"),
    "entity expansion": (entity_expansion, "laughs.xlsx", "declares a document type"),
    "external entity": (external_entity, "xxe.xlsx", "declares a document type"),
    "deep nesting": (deep_nesting, "deep.xlsx", "damaged"),
    "zip bomb": (zip_bomb, "bomb.xlsx", "expands to more data"),
    "many parts": (many_parts, "parts.xlsx", "too many parts"),
    "huge cell": (huge_cell, "cell.xlsx", "holds more than 32,767 characters"),
    "missing shared string": (missing_shared_string, "sst-ref.xlsx", "missing shared text"),
    "no worksheet": (no_worksheet, "nosheet.xlsx", "has no visible worksheet"),
    "encrypted workbook": (ole_encrypted, "locked.xlsx", "is not an Excel workbook"),
    "CSV named .xlsx": (csv_named_xlsx, "text.xlsx", "is not an Excel workbook"),
    "CSV too many columns": (csv_too_many_columns, "wide.csv", "beyond column 50"),
    "CSV huge field": (csv_huge_field, "field.csv", "holds more than 32,767 characters"),
    "bad CRC": (bad_crc, "crc.xlsx", "The workbook is damaged"),
    "part named twice": (duplicate_sheet_part, "twice.xlsx", "appears twice"),
}

#: Files whose claims are ignored rather than refused: read in a moment, shown with row errors.
ROW_ERRORS: dict[str, tuple[Callable[[], bytes], str, int, str]] = {
    "dimension bomb (rows)": (dimension_bomb_rows, "rows.xlsx", 1_048_576, "last name is required"),
    "NUL in a CSV cell": (csv_nul_bytes, "nul.csv", 2, "contains a NUL (U+0000)"),
    "number bomb": (number_bomb, "number.xlsx", 2, "is not a valid phone number"),
}
