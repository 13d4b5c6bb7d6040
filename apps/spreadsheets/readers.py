"""Spreadsheet files in, rows out: format detection and streaming CSV/XLSX readers with limits.

A file is read once, front to back, row by row; nothing holds the whole file. The format comes
from the name's extension and is checked against the first bytes (an XLSX is a zip archive).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .limits import ImportFileError, ReadBound, SheetLimitError, SheetLimits
from .xlsx_reader import XlsxReader

CSV = "csv"
XLSX = "xlsx"
FORMATS = {".csv": CSV, ".xlsx": XLSX}
ZIP_MAGIC = b"PK\x03\x04"
_DELIMITERS = (",", ";", "\t")


def normalize_header(value: Any) -> str:
    return str(value or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def detect_format(name: str, head: bytes) -> str:
    """The file's format from its extension, checked against its first bytes."""
    suffix = Path(name or "").suffix.lower()
    if suffix not in FORMATS:
        raise ImportFileError(
            f"“{name}” is not a CSV or XLSX file. Save the spreadsheet as CSV UTF-8 (.csv) or "
            "Excel workbook (.xlsx) and upload it again."
        )
    if not head:
        raise ImportFileError("The file is empty.")
    if FORMATS[suffix] == XLSX and not head.startswith(ZIP_MAGIC):
        raise ImportFileError(
            f"“{name}” is not an Excel workbook (.xlsx), although its name ends in .xlsx."
        )
    if FORMATS[suffix] == CSV and head.startswith(ZIP_MAGIC):
        raise ImportFileError(
            f"“{name}” is an Excel workbook, not CSV text: rename it to .xlsx or save it as CSV."
        )
    return FORMATS[suffix]


@dataclass
class Table:
    """A file's header and its data rows as ``(spreadsheet row number, cells)``.

    The header is row 1. ``position`` reports how far the underlying file has been read (bytes
    read, bytes in all) for progress bars; it is empty for tables built in memory.
    ``formula_escaped``: text cells may carry the apostrophe a CSV export puts before text that
    starts like a formula (``formulas.py``); a workbook's typed text cells never do.
    """

    headers: list[str]
    rows: Iterable[tuple[int, Sequence[Any]]]
    raw_headers: list[str] = field(default_factory=list)
    size: int = 0
    position: Any = None
    #: What ``bytes_read()`` counts up to (the file's size, or an XLSX's inflated worksheet).
    size_hint: int = 0
    formula_escaped: bool = True
    file_format: str = CSV
    #: Every cell is text (a CSV file's rows): the engine reads them without asking each cell.
    all_text: bool = False

    @classmethod
    def from_rows(cls, headers: Iterable[Any], rows: Iterable[Sequence[Any]]) -> Table:
        """A table from a header and rows already in memory (row 2 is the first data row)."""
        raw = [str(h) if h is not None else "" for h in headers]
        return cls(
            headers=[normalize_header(h) for h in raw], rows=_Numbered(rows), raw_headers=raw
        )

    def bytes_read(self) -> int:
        return self.position() if callable(self.position) else 0

    def close(self) -> None:
        """Stop reading (before the underlying file is closed): releases an XLSX archive."""
        close = getattr(self.rows, "close", None)
        if callable(close):
            close()


class _Numbered:
    """Rows in memory, numbered from 2 each time they are read (a table may be read twice)."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[tuple[int, Sequence[Any]]]:
        return ((index + 2, row) for index, row in enumerate(self.rows))


class _CountingReader(io.RawIOBase):
    """A binary stream that remembers how many bytes were read from it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.consumed += n
        return n


def read_table(
    fileobj: IO[bytes],
    *,
    name: str,
    size: int,
    limits: SheetLimits,
    bound: ReadBound | None = None,
) -> Table:
    """Open ``fileobj`` (positioned at its start) as a table; rows are read lazily. With a
    ``bound`` (a read in a web request), reading raises ``ReadBoundReached`` past it."""
    limits.check_size(size)
    head = fileobj.read(4)
    fileobj.seek(0)
    file_format = detect_format(name, head)
    if file_format == XLSX:
        reader = XlsxReader(fileobj, size=size, limits=limits, bound=bound)
        try:
            table = _table_from_stream(
                reader.rows(), size=size, position=lambda: reader.budget.used, limits=limits
            )
        except BaseException:
            reader.close()
            raise
        table.size_hint = reader.inflated_size()
        table.formula_escaped = False
        table.file_format = XLSX
        return table
    counting = _CountingReader(fileobj)
    table = _table_from_stream(
        _csv_rows(counting, limits, bound),
        size=size,
        position=lambda: counting.consumed,
        limits=limits,
    )
    table.all_text = True
    return table


def _table_from_stream(
    rows: Iterator[tuple[int, Sequence[Any]]], *, size: int, position: Any, limits: SheetLimits
) -> Table:
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    raw = [str(h) if h is not None else "" for h in header]
    return Table(
        headers=[normalize_header(h) for h in raw],
        rows=rows,
        raw_headers=raw,
        size=size,
        position=position,
    )


def _csv_rows(
    stream: _CountingReader, limits: SheetLimits, bound: ReadBound | None
) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(
        io.BufferedReader(stream, buffer_size=256 * 1024), encoding="utf-8-sig", newline=""
    )
    number = 0
    try:
        first = text.readline(limits.max_cell_chars * 4)
        delimiter = max(_DELIMITERS, key=first.count) if first else ","
        # One more for the apostrophe a CSV export puts before formula-like text: the cell's
        # text itself is within the limit (checked below).
        max_chars = limits.max_cell_chars
        csv.field_size_limit(max_chars + 1)
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter, strict=False)
        rows = cells = 0
        max_columns = limits.max_columns
        for number, row in enumerate(reader, start=1):
            if max(map(len, row), default=0) > max_chars and any(
                len(c) > max_chars and c[0] != "'" for c in row
            ):
                raise limits.cell_error(f"A cell of row {number}")
            if len(row) > max_columns:
                extra = [c for c in row[max_columns:] if c.strip()]
                if extra:
                    raise limits.column_error(f"Row {number} has a value in a column that")
                row = row[:max_columns]
            # Cells with a value (one of blanks counts too: a limit, not a report).
            filled = len(row) - row.count("")
            if bound is not None:
                bound.check(rows, stream.consumed)
            if not filled or "".join(row).isspace():
                continue
            rows += 1
            cells += filled
            limits.check_row(rows - 1, cells)  # the header row is not a data row
            yield number, row
    except UnicodeDecodeError:
        raise ImportFileError(
            f"The file is not UTF-8 text (unreadable bytes near row {number + 1}). In your "
            "spreadsheet choose “Save as” → “CSV UTF-8” and upload it again."
        ) from None
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise limits.cell_error(f"A cell of row {number + 1}") from None
        raise ImportFileError(f"Row {number + 1} is not valid CSV: {exc}.") from None
    except SheetLimitError:
        raise
