"""How much work one spreadsheet may cause, checked while the file is read (never after).

Every limit has a setting and a message a person can act on. A file over a limit is refused as a
whole: nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from apps.core.errors import DomainError


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (unreadable, over a limit, missing columns)."""


class SheetLimitError(ImportFileError):
    """The file goes over one of the configured limits."""


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
