"""The one import engine: read → parse → resolve in batches → decide every row → write.

``import_rows(sheet=…, table=…)`` runs a :class:`~apps.spreadsheets.sheets.Sheet` over a
:class:`~apps.spreadsheets.readers.Table`, ``BATCH_ROWS`` rows at a time, so memory stays flat
whatever the file's length:

1. **read** each row's cells as text (``row_reading.py``: the text rule, the CSV escape);
2. **parse** them with their columns' parsers (numbers, phones, uuids…);
3. **resolve** the batch's references and the objects its rows name, one query per kind of key
   (``matching.py``);
4. **decide** each row: new, update, unchanged or invalid (``row_decision.py``, then the sheet's
   row rules);
5. **write** (unless ``dry_run``): the batch's inserts and updates through the database's fastest
   writer (``writers.py``), with the audit records naming who imported it and through which
   channel.

Two row policies: by default nothing is written unless every row is valid (a file with an
invalid row is still checked to the end, so the report lists every problem, then rolled back);
with ``skip_invalid`` the valid rows are written and the invalid ones skipped. Either way the
whole file is one transaction. A dry run ("preview") returns a digest of what it planned per
batch; a confirmed run given those digests refuses with :class:`PreviewOutdatedError`, and
writes nothing, as soon as its plan differs (someone changed the data in between).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models
from django.utils import timezone

from apps.core.actors import Actor, Channel

from .batch_writing import DirectBatches, ThreadedBatches, batches_for
from .bulk_writer import BulkWriter
from .copy_writer import CopyWriter
from .limits import ImportFileError
from .matching import Matcher
from .plan import NEW, UPDATE, ImportReport, PlannedRow
from .preview import row_fingerprint, row_shown
from .progress import Observer
from .readers import Table
from .row_decision import RowDecider
from .row_reading import FileColumns, column_label, planned_rows
from .sheets import Sheet
from .writers import History, Update, Writer

logger = logging.getLogger(__name__)

BATCH_ROWS = 5000


class PreviewOutdatedError(ImportFileError):
    """The data changed between the preview and the confirmed import; nothing was written."""

    def __init__(self, row: int | None = None, *, why: str | None = None) -> None:
        where = f" (first difference near row {row})" if row else ""
        super().__init__(
            (why or "The data changed since the preview" + where)
            + ": nothing was imported. Review the new preview and confirm again."
        )


def writer_for(model: type[models.Model], *, history: History, now: dt.datetime) -> Writer:
    """The fastest writer the database offers."""
    if connection.vendor == "postgresql":
        return CopyWriter(model, history=history, now=now)
    return BulkWriter(model, history=history, now=now)


def _batches(iterable: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(iterable, size)):
        yield batch


class SheetImport:
    """One pass of a sheet over a table: its state spans the batches."""

    def __init__(
        self,
        *,
        sheet: Sheet,
        table: Table,
        dry_run: bool,
        skip_invalid: bool,
        actor: Actor,
        channel: str,
        file_name: str | None,
        options: Mapping[str, Any],
        expected_digests: Sequence[str] | None,
        observer: Observer | None,
    ) -> None:
        self.sheet = sheet
        self.table = table
        self.skip_invalid = skip_invalid
        self.actor = actor
        self.options = {**sheet.options, **options}
        self.expected = list(expected_digests) if expected_digests is not None else None
        # What each batch would do is fingerprinted for a preview (its digests bind the
        # confirmation) and for the confirmation that checks them; a write without a preview
        # (the command line) has nothing to compare them with.
        self.fingerprints = dry_run or self.expected is not None
        self.observer = observer
        self.import_columns = sheet.import_columns()
        self.columns = FileColumns(sheet, table)
        self.matcher = Matcher(sheet, self.columns)
        self.decider = RowDecider(sheet, self.columns, self.options)
        self.report = ImportReport(
            columns=[c.name for c in self.import_columns if not c.new_only],
            skip_invalid=skip_invalid,
            preview_limit=settings.IMPORT_PREVIEW_ROWS,
            ignored_columns=self.columns.ignored,
        )
        self.writer = (
            None
            if dry_run
            else writer_for(
                sheet.model,
                history=History(actor, channel=channel, file_name=file_name),
                now=timezone.now(),
            )
        )
        self.has_key_column = self.columns.has_key_column()
        #: Where checked batches are written (set by ``import_rows`` for a write).
        self.batches: DirectBatches | ThreadedBatches | None = None

    def check_and_write(self) -> ImportReport:
        """Every row read, checked and (unless a dry run, or a row is invalid under the default
        policy) written; the report of it all."""
        report = self.report
        rows = planned_rows(self.table, self.columns, report)
        try:
            for index, batch in enumerate(_batches(rows, BATCH_ROWS)):
                digest = self._batch(batch)
                report.digests.append(digest)
                if self.expected is not None and (
                    index >= len(self.expected) or self.expected[index] != digest
                ):
                    raise PreviewOutdatedError(batch[0].number if batch else None)
                if self.observer is not None:
                    self.observer.progress(report, self.table)
        except IntegrityError as exc:
            # A concurrent change took a uuid or key since the rows were checked.
            raise self.conflict() from exc
        if self.expected is not None and len(self.expected) != len(report.digests):
            raise PreviewOutdatedError()
        if report.total == 0:
            raise ImportFileError("The file has a header row but no data rows.")
        self.sheet.check_plan(report, options=self.options, actor=self.actor)
        return report

    @property
    def writing(self) -> bool:
        return self.writer is not None and (self.skip_invalid or not self.report.invalid)

    def _batch(self, rows: list[PlannedRow]) -> str:
        for row in rows:
            self._parse(row)
        self.matcher.resolve_references(rows)
        found = self.matcher.find_targets(rows)
        digest = hashlib.sha256()
        inserts: list[dict[str, Any]] = []
        updates: list[Update] = []
        for row in rows:
            self.decider.decide(row, found)
            if row.errors:
                self.report.add_row_errors(
                    row.number, row.errors, [row.text.get(c, "") for c in self.report.columns]
                )
                if self.observer is not None:
                    self.observer.invalid_row(row.number, row.raw, row.errors)
                digest.update(f"{row.number}:invalid\n".encode())
                continue
            self._count(row)
            if self.fingerprints:
                digest.update(row_fingerprint(row))
            if row.action == NEW:
                inserts.append(row.data)
            elif row.action == UPDATE:
                assert row.target is not None
                updates.append((row.target.pk, row.data, row.target.version))
        if self.writing:
            assert self.batches is not None
            assert self.writer is not None
            self.batches.write((self.writer.prepare(inserts), updates, rows[0].number))
        return digest.hexdigest()

    # --- the write's own hooks (run where the write runs: ``batch_writing.py``) -----------------

    def written(self, created: list[Any]) -> None:
        self.sheet.after_write(created, options=self.options, actor=self.actor)

    def outdated(self, count: int, first_row: int) -> Exception:
        return PreviewOutdatedError(
            why=f"{count:,} of the {self.sheet.label}s this file changes near row "
            f"{first_row:,} were changed by someone else while it was being imported"
        )

    def before_commit(self) -> None:
        self.sheet.after_import(self.report, options=self.options, actor=self.actor)
        if self.observer is not None:
            self.observer.before_commit(self.report)

    def conflict(self) -> ImportFileError:
        return ImportFileError(
            f"Another change saved a conflicting {self.sheet.label} while this file was being "
            "imported; nothing was imported. Upload the file again."
        )

    def _parse(self, row: PlannedRow) -> None:
        texts, cells, values = row.text, row.cells, row.values
        for column in self.columns.parsed:
            name = column.name
            text = texts.get(name)
            if not text:
                if column.required and name not in row.errors:
                    row.error(name, f"{column_label(name)} is required")
                continue
            try:
                value = column.parse(text)  # type: ignore[misc]  # parsed columns have a parser
            except ValueError as exc:
                message = str(exc)
                # "is longer than 250 characters": the column says what is.
                if message.startswith("is "):
                    message = f"{column_label(name)} {message}"
                if name not in self.columns.free_text:
                    row.error(name, message)
                    continue
                # Free text stored before today's rules (longer, say) is compared as written.
                row.rule_breaks.setdefault(name, message)
                value = self.columns.literal(row, name)
            cells[name] = value
            if name == "uuid":
                row.uuid = value
            elif column.target:
                values[column.target] = value
        for ref in self.sheet.references:
            self.matcher.parse_reference(row, ref)
        row.keys = self.matcher.row_keys(row)

    def _count(self, row: PlannedRow) -> None:
        report = self.report
        if row.action == NEW:
            report.new += 1
            if not any(row.keys):
                report.new_without_key += 1
        elif row.action == UPDATE:
            report.updated += 1
        else:
            report.unchanged += 1
        if len(report.preview) < report.preview_limit:
            report.add_preview(row.number, row.action, row_shown(row, self.import_columns))


def import_rows(
    *,
    sheet: Sheet,
    table: Table,
    dry_run: bool = False,
    skip_invalid: bool = False,
    actor: Actor = None,
    channel: str = Channel.IMPORT,
    file_name: str | None = None,
    options: Mapping[str, Any] | None = None,
    expected_digests: Sequence[str] | None = None,
    observer: Observer | None = None,
) -> ImportReport:
    """Check every row of ``table`` against ``sheet``; unless ``dry_run``, write them in one
    transaction — all of them only if every row is valid, or the valid ones with
    ``skip_invalid``. ``expected_digests`` (from a dry run's report) makes the write refuse
    with :class:`PreviewOutdatedError` if the plan changed since. ``actor`` and ``channel`` are
    recorded in the audit records of every row written."""
    run = SheetImport(
        sheet=sheet,
        table=table,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        actor=actor,
        channel=channel,
        file_name=file_name,
        options=options or {},
        expected_digests=expected_digests,
        observer=observer,
    )
    if dry_run:
        report = run.check_and_write()
    else:
        assert run.writer is not None
        with batches_for(run.writer, written=run.written, outdated=run.outdated) as batches:
            run.batches = batches
            report = run.check_and_write()
            try:
                batches.finish(commit=run.writing, before_commit=run.before_commit)
            except IntegrityError as exc:
                raise run.conflict() from exc
        report.written = run.writing
    logger.info(
        "%s import %s%s by %s: %s new, %s updated, %s unchanged, %s invalid rows%s",
        sheet.label,
        file_name or "(no file name)",
        "" if report.written else " (not written)",
        getattr(actor, "pk", None),
        report.new,
        report.updated,
        report.unchanged,
        report.invalid,
        " (skipped)" if skip_invalid else "",
    )
    return report
