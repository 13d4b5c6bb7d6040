"""XLSX read as a stream, with limits, trusting nothing the file says about itself.

openpyxl's read-only mode trusts a sheet's ``<dimension ref=…>`` and pads every row to the declared
width (a 5 KB file declaring ``A1:XFD1048576`` asks for ~100 GB), and it loads the shared-string
table whole. This reader walks the first worksheet's XML with ``lxml.etree.iterparse`` and counts
as it goes:

- bytes inflated from the archive, against ``IMPORT_XLSX_MAX_EXPANDED_BYTES`` and a compression
  ratio (``IMPORT_XLSX_MAX_RATIO``) — whitespace padding and zip bombs stop there;
- shared strings (``IMPORT_XLSX_MAX_SHARED_STRINGS``) and characters per cell;
- rows, cells with a value, and the column of each cell (``IMPORT_MAX_COLUMNS``): a cell far to
  the right is refused where it is met, whatever ``<dimension>`` claims;
- XML with a document type declaration (entity definitions) is refused: Excel never writes one,
  and no entity is ever expanded.

Only openpyxl's public helpers for number formats and Excel serial dates are used.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel

from .limits import ImportFileError, SheetLimitError, SheetLimits

_MAX_ENTRIES = 2_000
_SMALL_PART_BYTES = 16 * 1024 * 1024  # workbook.xml, rels, styles: read whole, within the budget
_MIN_BUDGET = 1024 * 1024
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)$")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def column_index(letters: str) -> int:
    """``A`` → 0, ``Z`` → 25, ``AA`` → 26, ``XFD`` → 16383."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - 64)
    return index - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Budget:
    """Bytes that may still be inflated from the archive."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise SheetLimitError(
                "The workbook expands to more data than a spreadsheet of its size can hold "
                f"(over {self.limit:,} bytes of XML): it is padded or damaged. Open it in your "
                "spreadsheet program and save it again, or export it as CSV."
            )


class _MeteredPart(io.RawIOBase):
    """A member of the archive, read in chunks that are charged to the budget."""

    def __init__(self, raw: IO[bytes], budget: _Budget) -> None:
        self.raw = raw
        self.budget = budget

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(65536 if size is None or size < 0 else min(size, 65536))
        self.budget.spend(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class XlsxReader:
    """The first worksheet of an XLSX file, one row at a time.

    ``rows()`` yields ``(row number, values)``; values are text (str), numbers as exact decimal
    text, booleans, or datetimes for cells formatted as dates; ``None`` for an empty cell.
    """

    def __init__(self, fileobj: IO[bytes], *, size: int, limits: SheetLimits) -> None:
        self.limits = limits
        try:
            self.archive = zipfile.ZipFile(fileobj)
            members = self.archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            if hasattr(self, "archive"):
                self.archive.close()
            raise ImportFileError(
                "The file could not be read as a spreadsheet: it may be damaged, "
                "password-protected or saved in another format. Save it again as CSV UTF-8 or "
                "XLSX."
            ) from exc
        if len(members) > _MAX_ENTRIES:
            raise SheetLimitError("The workbook has too many parts to be a spreadsheet export.")
        limit = max(
            _MIN_BUDGET, min(limits.xlsx_max_expanded_bytes, limits.xlsx_max_ratio * max(size, 1))
        )
        declared = sum(m.file_size for m in members)
        self.budget = _Budget(limit)
        if declared > limit:
            self.budget.spend(declared)  # refuses with the budget's message
        self.names = {m.filename.lstrip("/"): m for m in members}
        try:
            self._locate_parts()
        except BaseException:
            self.archive.close()
            raise

    def close(self) -> None:
        self.archive.close()

    def inflated_size(self) -> int:
        """What the worksheet and its texts say they inflate to (for progress estimates)."""
        parts = [self.sheet_part, self.shared_strings_part]
        return sum(self.names[p].file_size for p in parts if p and p in self.names)

    # --- parts ------------------------------------------------------------------------------

    def _open(self, name: str) -> IO[bytes]:
        member = self.names.get(name)
        if member is None:
            raise ImportFileError(f"The workbook is incomplete: its part {name} is missing.")
        try:
            return io.BufferedReader(_MeteredPart(self.archive.open(member), self.budget))
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError) as exc:
            raise ImportFileError(
                "The workbook is damaged or encrypted (password-protected workbooks cannot be "
                "imported). Save it again without a password."
            ) from exc

    def _parse_small(self, name: str) -> Any:
        member = self.names.get(name)
        if member is None:
            raise ImportFileError(f"The workbook is incomplete: its part {name} is missing.")
        with self._open(name) as part:
            data = part.read(_SMALL_PART_BYTES + 1)
        if len(data) > _SMALL_PART_BYTES:
            raise SheetLimitError(f"The workbook's part {name} is too large.")
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise ImportFileError(f"The workbook is damaged ({name} is not valid XML).") from exc
        self._refuse_doctype(root.getroottree(), name)
        return root

    @staticmethod
    def _refuse_doctype(tree: Any, name: str) -> None:
        docinfo = tree.docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise ImportFileError(
                f"The workbook's {name} declares a document type (XML entities), which "
                "spreadsheet programs never write: the file was refused."
            )

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """``{rId: (type suffix, target path)}`` of a part's relationships, if it has any."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", base + ".rels")
        if rels not in self.names:
            return {}
        out: dict[str, tuple[str, str]] = {}
        for rel in self._parse_small(rels):
            if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            out[rel.get("Id", "")] = (
                rel.get("Type", "").rsplit("/", 1)[-1],
                posixpath.normpath(path),
            )
        return out

    def _locate_parts(self) -> None:
        workbook = next(
            (p for t, p in self._relationships("").values() if t == "officeDocument"),
            "xl/workbook.xml",
        )
        root = self._parse_small(workbook)
        rels = self._relationships(workbook)
        sheet_rid = None
        self.epoch = WINDOWS_EPOCH
        for el in root.iter():
            name = _local(el.tag)
            if name == "workbookPr" and el.get("date1904") in ("1", "true"):
                self.epoch = MAC_EPOCH
            elif name == "sheet" and sheet_rid is None:
                sheet_rid = el.get(f"{{{_REL_NS}}}id") or el.get(f"{{{_STRICT_REL_NS}}}id")
        if sheet_rid is None or sheet_rid not in rels:
            raise ImportFileError("The workbook has no worksheet.")
        self.sheet_part = rels[sheet_rid][1]
        by_type = {t: p for t, p in rels.values()}
        self.shared_strings_part = by_type.get("sharedStrings")
        self.date_styles = self._date_styles(by_type.get("styles"))

    def _date_styles(self, part: str | None) -> frozenset[int]:
        """Indexes of the cell formats that show numbers as dates."""
        if part is None or part not in self.names:
            return frozenset()
        root = self._parse_small(part)
        custom: dict[int, str] = {}
        formats: list[int] = []
        for el in root.iter():
            name = _local(el.tag)
            if name == "numFmt":
                try:
                    custom[int(el.get("numFmtId", ""))] = el.get("formatCode", "")
                except ValueError:
                    continue
            elif name == "cellXfs":
                for xf in el:
                    if _local(xf.tag) == "xf":
                        try:
                            formats.append(int(xf.get("numFmtId", "0")))
                        except ValueError:
                            formats.append(0)
        dates = set()
        for index, fmt_id in enumerate(formats):
            code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "")
            if code and is_date_format(code):
                dates.add(index)
        return frozenset(dates)

    def _iterparse(self, part: str, tags: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        stream = self._open(part)
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=tags,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_blank_text=False,
        )
        checked = False
        try:
            for event, el in context:
                if not checked:
                    self._refuse_doctype(el.getroottree(), part)
                    checked = True
                yield event, el
        except etree.XMLSyntaxError as exc:
            raise ImportFileError(f"The workbook is damaged ({part} is not valid XML).") from exc
        finally:
            stream.close()

    def _string_cells_in_sheet(self) -> int:
        """How many cells of the sheet name a shared string (a quick scan of its bytes).

        A workbook holds no more distinct texts than it has text cells: counted first, this bounds
        the shared-string table before it is read, so a table of millions of strings behind a
        sheet of two rows is refused after a few, not after seconds of parsing.
        """
        member = self.names.get(self.sheet_part)
        if member is None:
            return 0
        budget = _Budget(self.budget.limit)
        count = 0
        tail = b""
        with self.archive.open(member) as raw:
            while chunk := raw.read(1024 * 1024):
                budget.spend(len(chunk))
                data = tail + chunk
                count += data.count(b't="s"') + data.count(b"t='s'")
                tail = data[-4:]
                # A marker split over the boundary is in ``tail`` and counted with the next
                # chunk; one wholly inside the tail was counted already, so drop it from it.
                if b't="s"' in tail or b"t='s'" in tail:
                    tail = b""
        return count

    def _shared_strings(self) -> list[str]:
        if self.shared_strings_part is None or self.shared_strings_part not in self.names:
            return []
        strings: list[str] = []
        limit = min(self.limits.xlsx_max_shared_strings, self._string_cells_in_sheet() + 1000)
        max_chars = self.limits.max_cell_chars
        for _, si in self._iterparse(self.shared_strings_part, ("{*}si",)):
            text = "".join(
                t.text or "" for t in si.iter("{*}t") if _local(t.getparent().tag) != "rPh"
            )
            if len(text) > max_chars:
                raise self.limits.cell_error(f"Shared string {len(strings) + 1}")
            strings.append(text)
            if len(strings) > limit:
                if limit < self.limits.xlsx_max_shared_strings:
                    raise SheetLimitError(
                        "The workbook's table of texts holds more entries than its sheet has "
                        "text cells: it is padded or damaged. Save it again from your "
                        "spreadsheet program, or export it as CSV."
                    )
                raise SheetLimitError(
                    f"The workbook holds more than {limit:,} distinct texts, the most one import "
                    "reads. Split it into smaller files."
                )
            si.clear()
            while si.getprevious() is not None:
                del si.getparent()[0]
        return strings

    # --- rows -------------------------------------------------------------------------------

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from self._rows()
        finally:
            self.archive.close()

    def _rows(self) -> Iterator[tuple[int, list[Any]]]:
        strings = self._shared_strings()
        limits = self.limits
        max_columns = limits.max_columns
        max_chars = limits.max_cell_chars
        date_styles = self.date_styles
        values: list[Any] = []
        row_number = 0
        next_column = 0
        rows = cells = 0
        for _, el in self._iterparse(self.sheet_part, ("{*}c", "{*}row")):
            tag = _local(el.tag)
            if tag == "c":
                ref = el.get("r")
                if ref:
                    match = _CELL_REF.match(ref)
                    if match is None:
                        raise ImportFileError(f"The workbook is damaged (cell reference {ref!r}).")
                    column = column_index(match.group(1))
                else:
                    column = next_column
                next_column = column + 1
                value = self._cell_value(el, strings, date_styles)
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
                if value is None or value == "":
                    continue
                if column >= max_columns:
                    raise limits.column_error(f"Cell {ref or column_letters(column)}")
                if isinstance(value, str) and len(value) > max_chars:
                    raise limits.cell_error(f"Cell {ref or column_letters(column)}")
                cells += 1
                if column >= len(values):
                    values.extend([None] * (column + 1 - len(values)))
                values[column] = value
                continue
            # end of a row
            number = el.get("r")
            row_number = int(number) if number and number.isdigit() else row_number + 1
            next_column = 0
            el.clear()
            while el.getprevious() is not None:
                del el.getparent()[0]
            if values:
                rows += 1
                limits.check_row(rows - 1, cells)  # the header row is not a data row
                yield row_number, values
                values = []

    def _cell_value(self, el: Any, strings: list[str], date_styles: frozenset[int]) -> Any:
        kind = el.get("t", "n")
        if kind == "inlineStr":
            return "".join(t.text or "" for t in el.iter("{*}t"))
        raw = None
        for child in el:
            if _local(child.tag) == "v":
                raw = child.text
                break
        if raw is None:
            return None
        if kind == "s":
            try:
                return strings[int(raw)]
            except (ValueError, IndexError):
                raise ImportFileError(
                    "The workbook is damaged (a cell points at a missing shared text)."
                ) from None
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            return raw
        try:
            number = Decimal(raw)
        except InvalidOperation:
            return raw
        if not number.is_finite():
            return raw
        style = el.get("s")
        if style is not None and style.isdigit() and int(style) in date_styles:
            try:
                value = from_excel(float(number), self.epoch)
            except (OverflowError, ValueError):
                return raw
            if isinstance(value, dt.datetime | dt.date | dt.time):
                return value
            return raw
        if number == number.to_integral_value():
            return str(int(number))
        return format(number.normalize(), "f")
