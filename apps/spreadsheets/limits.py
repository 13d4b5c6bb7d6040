"""How much work one spreadsheet may cause, checked while the file is read (never after).

Every limit has a setting and a message a person can act on. A file over a limit is refused as a
whole: nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from apps.core.errors import DomainError
from apps.core.text import text_visible


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (unreadable, over a limit, missing columns)."""


class SheetLimitError(ImportFileError):
    """The file goes over one of the configured limits."""


class ReadBoundReached(Exception):
    """A read made in a web request reached the rows or inflated bytes a request may read: the
    worker takes the job over (``jobs/run.py``)."""


@dataclass(frozen=True)
class ReadBound:
    """How much a read made in a web request may do (``SPREADSHEET_REQUEST_MAX_ROWS``,
    ``SPREADSHEET_REQUEST_MAX_BYTES``: bytes read, inflated for a workbook)."""

    rows: int
    bytes: int

    @classmethod
    def from_settings(cls) -> ReadBound:
        return cls(
            rows=settings.SPREADSHEET_REQUEST_MAX_ROWS,
            bytes=settings.SPREADSHEET_REQUEST_MAX_BYTES,
        )

    def check(self, rows: int, read: int) -> None:
        if rows > self.rows or read > self.bytes:
            raise ReadBoundReached


@dataclass(frozen=True)
class SheetLimits:
    max_bytes: int
    max_rows: int
    max_columns: int
    max_cells: int
    max_cell_chars: int
    xlsx_max_expanded_bytes: int
    xlsx_max_ratio: int
    xlsx_max_shared_strings: int

    @classmethod
    def from_settings(cls) -> SheetLimits:
        return cls(
            max_bytes=settings.IMPORT_MAX_UPLOAD_BYTES,
            max_rows=settings.IMPORT_MAX_ROWS,
            max_columns=settings.IMPORT_MAX_COLUMNS,
            max_cells=settings.IMPORT_MAX_CELLS,
            max_cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            xlsx_max_expanded_bytes=settings.IMPORT_XLSX_MAX_EXPANDED_BYTES,
            xlsx_max_ratio=settings.IMPORT_XLSX_MAX_RATIO,
            xlsx_max_shared_strings=settings.IMPORT_XLSX_MAX_SHARED_STRINGS,
        )

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise SheetLimitError(
                f"The file is {filesizeformat(size)}; files up to "
                f"{filesizeformat(self.max_bytes)} can be imported. Split it into smaller files."
            )

    def check_row(self, rows: int, cells: int) -> None:
        if rows > self.max_rows:
            raise SheetLimitError(
                f"The file has more than {self.max_rows:,} rows, the most one file may hold. "
                "Split it into smaller files."
            )
        if cells > self.max_cells:
            raise SheetLimitError(
                f"The file has more than {self.max_cells:,} cells, the most one file may hold. "
                "Remove unused columns or split it into smaller files."
            )

    def column_error(self, where: str) -> SheetLimitError:
        return SheetLimitError(
            f"{where} is beyond column {self.max_columns}, the last one read. Remove the "
            "columns the import does not use and save the file again."
        )

    def cell_error(self, where: str) -> SheetLimitError:
        return SheetLimitError(
            f"{where} holds more than {self.max_cell_chars:,} characters, the most one cell may "
            "hold."
        )


#: Characters of a cell's value quoted in a message ("“…” is not a valid phone number").
QUOTED_CHARS = 40


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, an ellipsis marking what was cut; characters the
    text rule refuses are shown by their code (``<U+0000>``), never stored as they are."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text_visible(text)


def quoted(value: object) -> str:
    """A value as a message quotes it: in quotation marks, cut to a few dozen characters."""
    return f"“{cut(str(value), QUOTED_CHARS)}”"
