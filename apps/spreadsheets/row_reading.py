"""From a file's rows to planned rows: which columns the file has, and each cell's text.

:class:`FileColumns` checks the header (a column named twice, required columns missing) and
knows where each of the sheet's columns is. :func:`planned_rows` is the loop that runs once per
cell of the file: a cell's text is stripped and, in CSV, loses the apostrophe an export put
before formula-like text (``formulas.py``); a cell outside the text rule (``apps/core/text.py``)
is an error on the spot, except in a free-text column, where it waits for the stored value: the
same text stored before the rule held is unchanged, anything else is an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from apps.core.text import FORBIDDEN, text_problem

from .cells import FlaggedRow, cell_text
from .formulas import unescape_formula
from .limits import ImportFileError, cut
from .plan import ImportReport, PlannedRow
from .readers import Table
from .sheets import Sheet

#: The column an error file adds; an import ignores it (and does not list it as ignored).
ERROR_COLUMN = "error"
_ESCAPED = ("=", "+", "-", "@", "\t", "\r", "'")


def column_label(name: str) -> str:
    return name.replace("_", " ")


class FileColumns:
    """The sheet's columns as this file has them."""

    def __init__(self, sheet: Sheet, table: Table) -> None:
        self.sheet = sheet
        headers = table.headers
        seen: set[str] = set()
        for header in headers:
            if header and header in seen:
                raise ImportFileError(
                    f"The column “{cut(header, 40)}” appears twice in the first row: keep one of "
                    "them."
                )
            seen.add(header)
        have = set(headers)
        missing = [c.name for c in sheet.columns if c.required and c.name not in have]
        for ref in sheet.references:
            if not any(all(c in have for c in key.columns) for key in ref.keys):
                missing.append(" or ".join("+".join(key.columns) for key in ref.keys))
        if missing:
            raise ImportFileError(
                "The file is missing required column"
                + ("s" if len(missing) > 1 else "")
                + ": "
                + ", ".join(missing)
                + ". The first row must hold the column names (see the template file)."
            )
        known = {c.name for c in sheet.columns} | {ERROR_COLUMN}
        self.ignored = [
            cut(raw or f"(column {i + 1})", 40)
            for i, (h, raw) in enumerate(zip(headers, table.raw_headers or headers, strict=False))
            if (h or raw) and h not in known
        ]
        #: Only the columns the file has, each with its position in the row.
        self.positions = [
            (c, headers.index(c.name)) for c in sheet.import_columns() if c.name in have
        ]
        self.parsed = [c for c, _ in self.positions]
        self.position_of = {c.name: index for c, index in self.positions}
        self.free_text = {c.name for c in self.parsed if c.free_text}
        self.names = have
        self.formula_escaped = table.formula_escaped
        #: Per reference, the keys the file can give it: ``(index in ref.keys, key)``.
        self.reference_keys = {
            ref.field: [
                (index, key)
                for index, key in enumerate(ref.keys)
                if all(c in have for c in key.columns)
            ]
            for ref in sheet.references
        }

    def has_key_column(self) -> bool:
        return bool(self.sheet.key_columns() & self.names)

    def literal(self, row: PlannedRow, name: str) -> str:
        """A cell's text exactly as the file holds it (no blanks stripped), CSV escape undone."""
        index = self.position_of[name]
        raw = row.raw[index] if index < len(row.raw) else None
        if raw is None:
            return ""
        if isinstance(raw, str):
            text = str(raw)
            return unescape_formula(text) if self.formula_escaped else text
        return cell_text(raw)


def planned_rows(table: Table, columns: FileColumns, report: ImportReport) -> Iterator[PlannedRow]:
    """Each data row with the text of the sheet's columns; rows with none of them are left out."""
    positions = [(c.name, index) for c, index in columns.positions]
    widest = max((index for _, index in positions), default=-1)
    labels = {c.name: column_label(c.name) for c in columns.parsed}
    escaped = columns.formula_escaped
    free_text = columns.free_text
    forbidden = FORBIDDEN.search
    all_text = table.all_text and escaped
    for number, cells in iter(table.rows):
        report.rows_read += 1
        row = PlannedRow(number, cells)
        if all_text and len(cells) > widest:
            # A CSV row (text in every cell): this runs once per row of the file.
            stripped = {name: cells[index].strip() for name, index in positions}
            texts = {name: text for name, text in stripped.items() if text}
            if any(text[0] == "'" for text in texts.values()):
                texts = {name: _unescaped(text) for name, text in texts.items()}
            row.text = texts
        else:
            texts = row.text
            width = len(cells)
            for name, index in positions:
                raw = cells[index] if index < width else None
                if raw is None:
                    continue
                if isinstance(raw, str):
                    text = str.strip(raw)
                    if escaped:
                        text = _unescaped(text)
                else:
                    text = cell_text(raw)
                if text:
                    texts[name] = text
        if type(cells) is FlaggedRow:
            row.error("", cells.problem)
        elif not texts:
            continue
        joined = " ".join(texts.values())
        # Every character the rule refuses is unprintable: most rows are settled by one test.
        if not joined.isprintable() and forbidden(joined):
            _apply_text_rule(row, columns, labels, free_text)
        yield row


def _unescaped(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1] in _ESCAPED:
        return text[1:]
    return text


def _apply_text_rule(
    row: PlannedRow, columns: FileColumns, labels: dict[str, str], free_text: set[str]
) -> None:
    texts = row.text
    for name, text in list(texts.items()):
        problem = text_problem(text)
        if problem is None:
            continue
        if name in free_text:
            # Kept as written: equal to the stored value it is unchanged (decided on matching).
            row.rule_breaks[name] = f"{labels[name]} {problem}"
            texts[name] = columns.literal(row, name)
        else:
            row.error(name, f"{labels[name]} {problem}")
            del texts[name]
