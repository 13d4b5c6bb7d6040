"""The first visible worksheet of an XLSX file, one row at a time, reading only what Excel shows.

openpyxl's read-only mode trusts a sheet's ``<dimension ref=…>`` and pads every row to the declared
width (a 5 KB file declaring ``A1:XFD1048576`` asks for ~100 GB), and it loads the shared-string
table whole. This reader walks the worksheet's XML with ``lxml.etree.iterparse`` (the archive:
``xlsx_archive.py``), frees every element once read, and counts as it goes: shared strings
(``IMPORT_XLSX_MAX_SHARED_STRINGS``), characters per cell, rows, cells with a value and the column
of each cell (``IMPORT_MAX_COLUMNS``), whatever ``<dimension>`` claims.

What Excel would not show is not read: rows and cells outside the worksheet's ``sheetData`` (in
``extLst`` or another namespace), phonetic guides (``rPh``) of a text. A shared-text index must
name an existing text; a cell written twice in a row makes that row an error (Excel keeps one of
them); rows must come in order. Numbers are kept as exact text, or as written when they have
more digits than any column holds (``cells.number_text``); text is unescaped (``_xHHHH_``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from lxml import etree
from openpyxl.utils.datetime import from_excel

from apps.core.text import is_ascii_digits

from .cells import FlaggedRow, NumberText, number_text
from .limits import ImportFileError, ReadBound, SheetLimitError, SheetLimits
from .xlsx_archive import MAIN_NAMESPACES, Budget, XlsxArchive, refuse_doctype
from .xlsx_escape import xlsx_unescape

_CELL_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})$")
#: Excel's last row.
MAX_ROW = 1_048_576
#: Elements one cell or one shared text may hold (runs, properties): Excel writes a handful.
_MAX_PARTS_PER_CELL = 10_000


def _tags(name: str) -> frozenset[str]:
    return frozenset(f"{{{ns}}}{name}" for ns in MAIN_NAMESPACES)


_C, _ROW, _SHEET_DATA, _V, _IS, _T, _R, _SI = (
    _tags(n) for n in ("c", "row", "sheetData", "v", "is", "t", "r", "si")
)
#: Parents whose children belong to a cell or a text still being read.
_CELL_PARTS = _C | _IS | _R | _SI | _tags("rPr") | _tags("rPh")


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


def _text_of(el: Any) -> str:
    """A text's characters: its ``t``, or the ``t`` of each rich-text run; never a phonetic
    guide."""
    parts = []
    for child in el:
        if child.tag in _T:
            parts.append(child.text or "")
        elif child.tag in _R:
            parts.extend(t.text or "" for t in child if t.tag in _T)
    return xlsx_unescape("".join(parts))


def _damaged(what: str) -> ImportFileError:
    return ImportFileError(f"The workbook is damaged ({what}).")


class XlsxReader:
    """``rows()`` yields ``(row number, values)``: text (str), numbers as exact decimal text
    (:class:`NumberText`), booleans, or datetimes for cells formatted as dates; ``None`` for an
    empty cell. A row Excel would not show as written is a :class:`FlaggedRow`."""

    def __init__(
        self,
        fileobj: IO[bytes],
        *,
        size: int,
        limits: SheetLimits,
        bound: ReadBound | None = None,
    ) -> None:
        self.limits = limits
        self.bound = bound
        self.archive = XlsxArchive(fileobj, size=size, limits=limits, bound=bound)

    @property
    def budget(self) -> Budget:
        return self.archive.budget

    def close(self) -> None:
        self.archive.close()

    def inflated_size(self) -> int:
        return self.archive.inflated_size()

    def _iterparse(self, part: str, budget: Budget | None = None) -> Iterator[Any]:
        """Every element of ``part`` at its end, freed once its parent no longer needs it."""
        stream = self.archive.open(part, budget)
        context = etree.iterparse(
            stream,
            events=("end",),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_blank_text=False,
        )
        checked = False
        inside = 0
        try:
            for _, el in context:
                if not checked:
                    refuse_doctype(el.getroottree(), part)
                    checked = True
                parent = el.getparent()
                if parent is not None and parent.tag in _CELL_PARTS and el.tag not in _C:
                    inside += 1
                    if inside > _MAX_PARTS_PER_CELL:
                        raise _damaged(f"{part} has a cell of {inside:,} parts")
                    continue  # read with its cell or text
                inside = 0
                yield el
                el.clear()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
        except etree.LxmlError as exc:
            raise _damaged(f"{part} is not valid XML") from exc
        finally:
            stream.close()

    # --- shared strings ---------------------------------------------------------------------

    def _string_cells_in_sheet(self) -> int:
        """How many cells of the sheet name a shared string (a quick scan of its bytes).

        A workbook holds no more distinct texts than it has text cells: counted first, this bounds
        the shared-string table before it is read, so a table of millions of strings behind a
        sheet of two rows is refused after a few, not after seconds of parsing.
        """
        count = 0
        tail = b""
        scan = Budget(self.budget.limit, self.bound)
        with self.archive.open(self.archive.sheet_part, scan) as raw:
            while chunk := raw.read(1024 * 1024):
                data = tail + chunk
                count += data.count(b't="s"') + data.count(b"t='s'")
                tail = data[-4:]
                # A marker split over the boundary is in ``tail`` and counted with the next
                # chunk; one wholly inside the tail was counted already, so drop it from it.
                if b't="s"' in tail or b"t='s'" in tail:
                    tail = b""
        return count

    def _shared_strings(self) -> list[str]:
        part = self.archive.shared_strings_part
        if part is None or part not in self.archive.names:
            return []
        strings: list[str] = []
        limit = min(self.limits.xlsx_max_shared_strings, self._string_cells_in_sheet() + 1000)
        max_chars = self.limits.max_cell_chars
        for el in self._iterparse(part):
            if el.tag not in _SI:
                continue
            text = _text_of(el)
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
        values: list[Any] = []
        problem = ""
        row_number = 0
        next_column = 0
        rows = cells = 0
        for el in self._iterparse(self.archive.sheet_part):
            tag = el.tag
            parent = el.getparent()
            if tag in _C:
                if parent is None or parent.tag not in _ROW or not _in_sheet_data(parent):
                    continue
                ref = el.get("r")
                if ref:
                    match = _CELL_REF.match(ref)
                    if match is None:
                        raise _damaged(f"cell reference {ref[:20]!r}")
                    column = column_index(match.group(1))
                    row_of_cell = parent.get("r")
                    if row_of_cell is not None and row_of_cell != match.group(2):
                        problem = problem or f"cell {ref} is written inside row {row_of_cell[:8]}"
                else:
                    column = next_column
                if column < next_column and not problem:
                    where = ref or column_letters(column)
                    problem = (
                        f"cell {where} is written twice in the workbook (Excel shows only one "
                        "of the two values): save the file again from your spreadsheet program"
                    )
                next_column = max(next_column, column + 1)
                value = self._cell_value(el, strings, max_chars)
                if value is None or value == "":
                    continue
                if column >= max_columns:
                    raise limits.column_error(f"Cell {ref or column_letters(column)}")
                if isinstance(value, str) and len(value) > max_chars:
                    raise limits.cell_error(f"Cell {ref or column_letters(column)}")
                cells += 1
                if column >= len(values):
                    values.extend([None] * (column + 1 - len(values)))
                if values[column] is None:
                    values[column] = value
                continue
            if tag not in _ROW or parent is None or not _in_sheet_data(el):
                continue
            number = el.get("r")
            if number is None:
                number_value = row_number + 1
            elif is_ascii_digits(number) and len(number) <= 7:
                number_value = int(number)
            else:
                raise _damaged(f"row number {number[:20]!r}")
            if number_value <= row_number or number_value > MAX_ROW:
                raise _damaged(f"row {number_value} is out of order or repeated")
            row_number = number_value
            next_column = 0
            if values or problem:
                rows += 1
                limits.check_row(rows - 1, cells)  # the header row is not a data row
                if self.bound is not None:
                    self.bound.check(rows - 1, 0)
                yield row_number, (FlaggedRow(values, problem) if problem else values)
                values = []
                problem = ""

    def _cell_value(self, el: Any, strings: list[str], max_chars: int) -> Any:
        kind = el.get("t", "n")
        if kind == "inlineStr":
            for child in el:
                if child.tag in _IS:
                    return _text_of(child)
            return None
        raw = None
        for child in el:
            if child.tag in _V:
                raw = child.text
                break
        if raw is None:
            return None
        if len(raw) > max_chars:
            raise self.limits.cell_error(f"Cell {el.get('r') or ''}".strip())
        if kind == "s":
            if not is_ascii_digits(raw) or int(raw) >= len(strings):
                raise _damaged("a cell points at a missing shared text")
            return strings[int(raw)]
        if kind in ("str", "e"):
            return xlsx_unescape(raw)
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            return raw
        try:
            text = number_text(Decimal(raw))
        except InvalidOperation:
            return raw
        if text is None:
            return raw  # beyond any column: text for validation ("not a number")
        style = el.get("s")
        if style is not None and is_ascii_digits(style) and int(style) in self.archive.date_styles:
            try:
                value = from_excel(float(text), self.archive.epoch)
            except (OverflowError, ValueError):
                return raw
            if isinstance(value, dt.datetime | dt.date | dt.time):
                return value
            return raw
        return NumberText(text)


def _in_sheet_data(row: Any) -> bool:
    """Whether a row element is a row of the worksheet's ``sheetData`` (not of an extension)."""
    sheet_data = row.getparent()
    if sheet_data is None or sheet_data.tag not in _SHEET_DATA:
        return False
    worksheet = sheet_data.getparent()
    return worksheet is not None and worksheet.getparent() is None
