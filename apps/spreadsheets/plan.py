"""What the engine knows about a file while it works: each row's plan, and the report.

Kept apart from ``engine.py`` so that sheets (``sheets.py``) and the apps' row rules can name
these types without importing the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NEW = "new"
UPDATE = "update"
SKIP = "skip"


@dataclass(frozen=True)
class RowError:
    """A problem with one cell (``column``) or one row (``column`` empty) of the file.

    ``row`` is the spreadsheet's row number: the header is row 1, the first data row is row 2.
    """

    row: int
    column: str
    message: str


@dataclass
class PreviewRow:
    row: int
    import_type: str
    values: list[str]

    @property
    def diff(self) -> list[str]:
        """The values as django-import-export's preview template names them."""
        return self.values


@dataclass
class ImportReport:
    """What an import found (dry run) or did (confirmed run)."""

    columns: list[str]
    new: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    #: The cells of the first invalid rows, as read (for the error table and error files).
    invalid_rows: list[PreviewRow] = field(default_factory=list)
    written: bool = False
    preview_limit: int = 100
    ignored_columns: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    rows_read: int = 0
    _error_rows: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated + self.skipped + self.invalid

    #: Set on a report read back from storage, where the rows behind the count are gone.
    truncated: bool = False

    @property
    def errors_truncated(self) -> bool:
        return self.truncated or self.invalid > self._error_rows

    def add_row_errors(
        self, row: int, errors: Mapping[str, str], values: list[str] | None = None
    ) -> None:
        self.invalid += 1
        if self._error_rows < self.preview_limit:
            self._error_rows += 1
            self.errors.extend(RowError(row, column, message) for column, message in errors.items())
            self.invalid_rows.append(
                PreviewRow(row=row, import_type="invalid", values=values or [])
            )

    def add_error(self, row: int, column: str, message: str) -> None:
        self.add_row_errors(row, {column: message})

    def add_preview(self, row: int, import_type: str, values: list[str]) -> None:
        if len(self.preview) < self.preview_limit:
            self.preview.append(PreviewRow(row=row, import_type=import_type, values=values))


@dataclass(slots=True)
class Target:
    """The stored object a row names: its key and the fields the sheet compares or reads."""

    pk: int
    uuid: str
    key: tuple | None
    values: dict[str, Any]
    # The row's version when it was read (versioned models): its update is conditional on it.
    version: int | None = None


class PlannedRow:
    """One data row on its way through the engine."""

    __slots__ = (
        "action",
        "cells",
        "changed",
        "data",
        "errors",
        "fetched",
        "key",
        "number",
        "raw",
        "refs",
        "target",
        "text",
        "uuid",
        "values",
    )

    def __init__(self, number: int, raw: Sequence[Any] = ()) -> None:
        self.number = number
        #: The row's cells as read from the file (for error reports).
        self.raw = raw
        self.text: dict[str, str] = {}
        self.cells: dict[str, Any] = {}
        self.values: dict[str, Any] = {}
        self.refs: dict[str, tuple[int, tuple]] = {}
        self.fetched: dict[str, tuple] = {}
        self.errors: dict[str, str] = {}
        self.uuid: str | None = None
        self.key: tuple | None = None
        self.target: Target | None = None
        self.data: dict[str, Any] = {}
        self.action = ""
        self.changed: list[str] = []

    def error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, message)
