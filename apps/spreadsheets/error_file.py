"""The error file: the fix loop of an import.

It has the upload's own columns, every cell exactly as uploaded (an apostrophe the person typed
stays, a workbook's numbers and dates stay numbers and dates), and an ``error`` column that
imports ignore (an upload that already has one gets it overwritten, not a second one):

- under *only if every row is valid* it is the **whole file**, each invalid row's problems in
  its ``error`` cell: fix the marked rows, upload it, and every row goes in;
- under *skip invalid rows* it holds **only the skipped rows**: fix them, upload it, and they go
  in (the others were imported already).

Written as a stream (CSV, or XLSX through ``xlsx_writer.py``), in the upload's format; no cell
over Excel's 32,767 characters. Problems of a whole-file report are kept in a temporary log, in
row order, while the file is checked; the file is then read a second time to write every row
with its problems.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage

from .formulas import escape_formula
from .limits import cut
from .readers import XLSX, Table, normalize_header
from .row_reading import ERROR_COLUMN
from .xlsx_writer import MAX_CELL_CHARS, XlsxWriter


def problems_text(errors: Mapping[str, str]) -> str:
    """A row's problems as one cell: ``phone_number: “07x” is not a valid phone number; …``."""
    text = "; ".join(
        f"{column}: {message}" if column else message for column, message in errors.items()
    )
    return cut(text, MAX_CELL_CHARS)


class ErrorFile:
    """Rows appended as read, each with its problems (``""`` for a valid row)."""

    def __init__(self, *, file_format: str, raw_headers: Sequence[str]) -> None:
        self.file_format = file_format
        normalized = [normalize_header(h) for h in raw_headers]
        header = list(raw_headers)
        if ERROR_COLUMN in normalized:
            self.error_index = normalized.index(ERROR_COLUMN)
        else:
            self.error_index = len(header)
            header.append(ERROR_COLUMN)
        self.width = len(header)
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by save()/close()
        self.rows = 0
        self.xlsx: XlsxWriter | None = None
        self.text: io.TextIOWrapper | None = None
        if file_format == XLSX:
            self.xlsx = XlsxWriter(self.file, sheet_name="errors", header=header)
        else:
            self.text = io.TextIOWrapper(
                self.file, encoding="utf-8", newline="", write_through=True
            )
            self.text.write("\ufeff")
            self.csv = csv.writer(self.text)
            self.csv.writerow(header)

    def add(self, cells: Sequence[Any], problems: str) -> None:
        values = list(cells)[: self.width]
        values += [None] * (self.width - len(values))
        values[self.error_index] = problems if self.xlsx is not None else escape_formula(problems)
        if self.xlsx is not None:
            self.xlsx.write_row(values)
        else:
            self.csv.writerow(["" if v is None else v for v in values])
        self.rows += 1

    def _finished(self) -> IO[bytes]:
        """The complete file, at its start."""
        if self.xlsx is not None:
            self.xlsx.close()
            self.xlsx = None
        if self.text is not None:
            self.text.flush()
            self.text.detach()
            self.text = None
        self.file.seek(0)
        return self.file

    def save(self, name: str) -> str:
        """Store the file under ``name`` in the default storage; the stored name."""
        try:
            return default_storage.save(name, File(self._finished()))
        finally:
            self.close()

    def write_to(self, target: IO[bytes]) -> None:
        """Copy the complete file into ``target`` (a command's output file)."""
        try:
            shutil.copyfileobj(self._finished(), target)
        finally:
            self.close()

    def close(self) -> None:
        if self.xlsx is not None:
            self.xlsx.close()
            self.xlsx = None
        if self.text is not None:
            self.text.detach()
            self.text = None
        self.file.close()


class ProblemLog:
    """Each invalid row's number and problems, in row order, on disk (a file may have a million
    invalid rows)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self.count = 0

    def add(self, number: int, errors: Mapping[str, str]) -> None:
        self.file.write(json.dumps([number, problems_text(errors)]) + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[tuple[int, str]]:
        self.file.seek(0)
        for line in self.file:
            number, text = json.loads(line)
            yield number, text

    def close(self) -> None:
        self.file.close()


def whole_file_write(table: Table, problems: ProblemLog, out: ErrorFile) -> None:
    """Every row of ``table`` (read again from the start) into ``out``, each with its problems
    from ``problems`` (rows in the same order)."""
    pending = iter(problems)
    next_problem = next(pending, None)
    for number, cells in table.rows:
        text = ""
        while next_problem is not None and next_problem[0] < number:
            next_problem = next(pending, None)
        if next_problem is not None and next_problem[0] == number:
            text = next_problem[1]
        out.add(cells, text)
