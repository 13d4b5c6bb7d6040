"""What the engine knows about a file while it works: each row's plan, and the report.

Kept apart from ``engine.py`` so that sheets (``sheets.py``) and the apps' row rules can name
these types without importing the engine. The report is bounded whatever the file: it keeps the
counts of every row but the cells and problems of the first rows only (the error file holds them
all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .limits import cut

NEW = "new"
UPDATE = "update"
#: An unchanged row (django-import-export's name for it, which its preview template shows).
SKIP = "skip"

#: Characters of one cell kept in a report (the preview and the invalid rows' table).
REPORT_CELL_CHARS = 100
#: Characters of one problem kept in a report.
REPORT_MESSAGE_CHARS = 300


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
    """What an import found (dry run) or did (confirmed run).

    ``skip_invalid``: the row policy — invalid rows are skipped and the valid ones written
    (``True``), or nothing is written unless every row is valid (``False``).
    """

    columns: list[str]
    skip_invalid: bool = False
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    #: New rows that name no key (no uuid, no natural key): importing them again makes more.
    new_without_key: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    #: The cells of the first invalid rows, as read (for the page's table of problems).
    invalid_rows: list[PreviewRow] = field(default_factory=list)
    written: bool = False
    preview_limit: int = 100
    ignored_columns: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    rows_read: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged + self.invalid

    @property
    def valid(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def writes_anything(self) -> bool:
        """Whether confirming would write a row (under the report's policy)."""
        return bool(self.new or self.updated) and (self.skip_invalid or not self.invalid)

    @property
    def errors_truncated(self) -> bool:
        return self.invalid > len(self.invalid_rows)

    def add_row_errors(
        self, row: int, errors: Mapping[str, str], values: Sequence[str] = ()
    ) -> None:
        self.invalid += 1
        if len(self.invalid_rows) >= self.preview_limit:
            return
        room = self.preview_limit - len(self.errors)
        if room <= 0:
            return
        self.invalid_rows.append(
            PreviewRow(row, "invalid", [cut(str(v), REPORT_CELL_CHARS) for v in values])
        )
        self.errors.extend(
            RowError(row, column, cut(message, REPORT_MESSAGE_CHARS))
            for column, message in list(errors.items())[:room]
        )

    def add_preview(self, row: int, import_type: str, values: list[str]) -> None:
        if len(self.preview) < self.preview_limit:
            self.preview.append(
                PreviewRow(row, import_type, [cut(v, REPORT_CELL_CHARS) for v in values])
            )


@dataclass(slots=True)
class Target:
    """The stored object a row names: its keys and the fields the sheet compares or reads."""

    pk: int
    uuid: str
    #: The object's value of each of the sheet's matching keys (``None`` where it has none).
    keys: tuple[tuple | None, ...]
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
        "keys",
        "number",
        "raw",
        "reference_values",
        "refs",
        "rule_breaks",
        "target",
        "text",
        "uuid",
        "values",
    )

    def __init__(self, number: int, raw: Sequence[Any] = ()) -> None:
        self.number = number
        #: The row's cells as read from the file (for the error file).
        self.raw = raw
        self.text: dict[str, str] = {}
        self.cells: dict[str, Any] = {}
        self.values: dict[str, Any] = {}
        self.refs: dict[str, tuple[int, tuple]] = {}
        #: Fields read with each resolved reference (``Reference.read``), by reference field.
        self.reference_values: dict[str, tuple] = {}
        self.errors: dict[str, str] = {}
        #: Free-text cells outside the text rule: an error unless the stored value is the same.
        self.rule_breaks: dict[str, str] = {}
        self.uuid: str | None = None
        #: The row's value of each matching key (``uuid`` first), ``None`` where it gives none.
        self.keys: list[tuple | None] = []
        self.target: Target | None = None
        self.data: dict[str, Any] = {}
        self.action = ""
        self.changed: list[str] = []

    def error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, message)
