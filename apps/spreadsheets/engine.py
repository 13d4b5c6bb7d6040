"""The one import engine: parse → resolve references in batches → validate every row → write.

``import_rows(sheet=…, table=…)`` runs a :class:`~apps.spreadsheets.sheets.Sheet` over a
:class:`~apps.spreadsheets.readers.Table`, ``BATCH_ROWS`` rows at a time, so memory stays flat
whatever the file's length:

1. **parse** each row's cells with its columns' parsers (clean text, numbers, phones, uuids);
2. **resolve** the batch's references (customers, items) and the objects its rows name (by uuid
   or natural key) with one query per kind of key;
3. **validate** each row: duplicates within the file, keys that belong to another object, the
   sheet's row rules; decide *new*, *update* or *unchanged*;
4. **write** (unless ``dry_run``): the batch's inserts and updates through the database's fastest
   writer (``writers.py``), with history records naming the importer and the file.

Everything runs in one transaction: a file with any invalid row is checked to the end (so the
report lists every problem) and then rolled back — nothing is written. A dry run ("preview")
returns a digest of what it planned per batch; a confirmed run given those digests refuses with
:class:`PreviewOutdatedError`, and writes nothing, as soon as its plan differs (someone changed
the data in between).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from apps.core.actors import Actor
from apps.core.text import CONTROL_CHARACTER, control_character_message, find_control_character
from apps.core.versions import VERSION_FIELD, is_versioned

from .cells import cell_text
from .formulas import FORMULA_PREFIXES
from .limits import ImportFileError
from .plan import NEW, SKIP, UPDATE, ImportReport, PlannedRow, RowError, Target
from .readers import Table
from .sheets import Column, Reference, Sheet, stored_value
from .writers import ConcurrentChangeError, History, writer_for

logger = logging.getLogger(__name__)

BATCH_ROWS = 5000
LOOKUP_CHUNK = 5000
_REF_CACHE_MAX = 200_000


class Observer(Protocol):
    """Follows a run: called after each batch, and for each invalid row (with its cells as read,
    for an error report). A job's observer stores progress and stops the run when cancelled."""

    def progress(self, report: ImportReport, table: Table) -> None: ...

    def invalid_row(self, number: int, cells: Sequence[Any], errors: Mapping[str, str]) -> None: ...


class PreviewOutdatedError(ImportFileError):
    """The data changed between the preview and the confirmed import; nothing was written."""

    def __init__(self, row: int | None = None, *, why: str | None = None) -> None:
        where = f" (first difference near row {row})" if row else ""
        super().__init__(
            (why or "The data changed since the preview" + where)
            + ": nothing was imported. Review the new preview and confirm again."
        )


def comparable(value: Any) -> Any:
    if isinstance(value, PhoneNumber):
        return value.as_e164
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, PhoneNumber):
        return str(value.as_e164)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _chunks(values: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _batches(iterable: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(iterable, size)):
        yield batch


class _Run:
    """One pass of a sheet over a table (state that spans batches)."""

    def __init__(
        self,
        *,
        sheet: Sheet,
        table: Table,
        dry_run: bool,
        actor: Actor,
        file_name: str | None,
        options: Mapping[str, Any],
        expected_digests: Sequence[str] | None,
        observer: Observer | None,
    ) -> None:
        self.sheet = sheet
        self.table = table
        self.dry_run = dry_run
        self.actor = actor
        self.options = {**sheet.options, **options}
        self.expected = list(expected_digests) if expected_digests is not None else None
        # What each batch would do is fingerprinted for a preview (its digests bind the
        # confirmation) and for the confirmation that checks them; a write without a preview
        # (the command line) has nothing to compare them with.
        self.fingerprints = dry_run or self.expected is not None
        self.observer = observer
        self.model = sheet.model
        self.import_columns = sheet.import_columns()
        self.report = ImportReport(
            columns=[c.name for c in self.import_columns if not c.new_only],
            preview_limit=settings.IMPORT_PREVIEW_ROWS,
        )
        self.now = timezone.now()
        self.writer = (
            None
            if dry_run
            else writer_for(self.model, history=History(actor, file_name), now=self.now)
        )
        self.seen_uuid: dict[str, int] = {}
        self.seen_key: dict[tuple, int] = {}
        self.matched: dict[int, int] = {}
        self.vacated: dict[tuple, tuple[int, str]] = {}
        self.ref_cache: dict[tuple[str, int], dict[tuple, tuple | None]] = {}
        self.attnames = {
            ref.field: self.model._meta.get_field(ref.field).attname  # type: ignore[union-attr]
            for ref in sheet.references
        }
        self._check_header()

    # --- header -----------------------------------------------------------------------------

    def _check_header(self) -> None:
        headers = self.table.headers
        seen: set[str] = set()
        for header in headers:
            if header and header in seen:
                raise ImportFileError(
                    f"The column “{header}” appears twice in the first row: keep one of them."
                )
            seen.add(header)
        have = set(headers)
        missing = [c.name for c in self.sheet.columns if c.required and c.name not in have]
        for ref in self.sheet.references:
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
        known = {c.name for c in self.sheet.columns}
        self.report.ignored_columns = [
            raw or f"(column {i + 1})"
            for i, (h, raw) in enumerate(
                zip(headers, self.table.raw_headers or headers, strict=False)
            )
            if (h or raw) and h not in known
        ]
        # Only the columns the file has, each with its position in the row.
        self.positions = [(c, headers.index(c.name)) for c in self.import_columns if c.name in have]
        self.parsed_columns = [c for c, _ in self.positions]
        self.natural_key = self.sheet.natural_key
        self.ref_keys_present = {
            ref.field: [
                (index, key)
                for index, key in enumerate(ref.keys)
                if all(c in have for c in key.columns)
            ]
            for ref in self.sheet.references
        }

    # --- the pass ---------------------------------------------------------------------------

    def run(self) -> ImportReport:
        report = self.report
        records = self._records()
        try:
            for batch_index, batch in enumerate(_batches(records, BATCH_ROWS)):
                digest = self._batch(batch)
                report.digests.append(digest)
                if self.expected is not None and (
                    batch_index >= len(self.expected) or self.expected[batch_index] != digest
                ):
                    raise PreviewOutdatedError(batch[0].number if batch else None)
                if self.observer is not None:
                    self.observer.progress(report, self.table)
        except IntegrityError as exc:
            # A concurrent change took a uuid or natural key since the rows were checked.
            raise ImportFileError(
                f"Another change saved a conflicting {self.sheet.label} while this file was "
                "being imported; nothing was imported. Upload the file again."
            ) from exc
        if self.expected is not None and len(self.expected) != len(report.digests):
            raise PreviewOutdatedError()
        if report.total == 0:
            raise ImportFileError("The file has a header row but no data rows.")
        self.sheet.check_plan(report, options=self.options)
        return report

    def _records(self) -> Iterator[PlannedRow]:
        positions = [(c.name, index) for c, index in self.positions]
        prefixes = FORMULA_PREFIXES
        has_control = CONTROL_CHARACTER.search
        for number, cells in iter(self.table.rows):
            self.report.rows_read += 1
            row = PlannedRow(number, cells)
            texts = row.text
            width = len(cells)
            # The common case inlined (a string cell): this loop runs once per cell of the file.
            for name, index in positions:
                raw = cells[index] if index < width else None
                if type(raw) is str:
                    text = raw.strip()
                    if len(text) > 1 and text[0] == "'" and text[1] in prefixes:
                        text = text[1:]
                elif raw is None:
                    continue
                else:
                    try:
                        text = cell_text(raw)
                    except ValueError as exc:
                        row.error(name, f"{name.replace('_', ' ')} {exc}")
                        continue
                if text:
                    texts[name] = text
            if not texts and not row.errors:
                continue
            if has_control("\uffff".join(texts.values())):
                for name, text in list(texts.items()):
                    char = find_control_character(text)
                    if char is not None:
                        row.error(
                            name, f"{name.replace('_', ' ')} {control_character_message(char)}"
                        )
                        del texts[name]
            yield row

    def _batch(self, rows: list[PlannedRow]) -> str:
        for row in rows:
            self._parse(row)
        self._resolve_references(rows)
        by_uuid, by_key = self._targets(rows)
        digest = hashlib.sha256()
        inserts: list[dict[str, Any]] = []
        updates: list[tuple[int, dict[str, Any], int | None]] = []
        for row in rows:
            self._decide(row, by_uuid, by_key)
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
                digest.update(self._fingerprint(row))
            if row.action == NEW:
                inserts.append(row.data)
            elif row.action == UPDATE:
                assert row.target is not None
                updates.append((row.target.pk, row.data, row.target.version))
        if self.writer is not None and not self.report.invalid:
            created = self.writer.insert(inserts)
            try:
                self.writer.update(updates)
            except ConcurrentChangeError as exc:
                raise PreviewOutdatedError(
                    why=f"{exc.count:,} of the {self.sheet.label}s this file changes near row "
                    f"{rows[0].number:,} were changed by someone else while it was being imported"
                ) from exc
            if created or updates:
                self.sheet.after_write(created, options=self.options, actor=self.actor)
        return digest.hexdigest()

    # --- 1. parse ---------------------------------------------------------------------------

    def _parse(self, row: PlannedRow) -> None:
        texts, errors, cells, values = row.text, row.errors, row.cells, row.values
        for column in self.parsed_columns:
            name = column.name
            text = texts.get(name)
            if not text:
                if column.required and name not in errors:
                    row.error(name, f"{name.replace('_', ' ')} is required")
                continue
            try:
                value = column.parse(text)  # type: ignore[misc]  # parsed_columns have a parser
            except ValueError as exc:
                row.error(name, str(exc))
                continue
            cells[name] = value
            if name == "uuid":
                row.uuid = value
            elif column.target:
                values[column.target] = value
        for ref in self.sheet.references:
            self._parse_reference(row, ref)
        if self.natural_key:
            key = tuple(values.get(f) for f in self.natural_key)
            if None not in key:
                row.key = key

    def _parse_reference(self, row: PlannedRow, ref: Reference) -> None:
        cells = row.cells
        for index, key in self.ref_keys_present[ref.field]:
            columns = key.columns
            if len(columns) == 1:
                if columns[0] not in row.text:
                    continue
                if columns[0] not in cells:
                    return  # the cell's own error says what is wrong
                row.refs[ref.field] = (index, (cells[columns[0]],))
                return
            texts = row.text
            if any([c not in texts for c in columns]):
                continue
            if any([c not in cells for c in columns]):
                return
            row.refs[ref.field] = (index, tuple([cells[c] for c in columns]))
            return
        row.error(ref.error_column, ref.required)

    # --- 2. resolve ---------------------------------------------------------------------------

    def _resolve_references(self, rows: list[PlannedRow]) -> None:
        for ref in self.sheet.references:
            field_name = ref.field
            wanted_by_key: list[set[tuple]] = [set() for _ in ref.keys]
            for row in rows:
                given = row.refs.get(field_name)
                if given is not None:
                    wanted_by_key[given[0]].add(given[1])
            for index, key in enumerate(ref.keys):
                cache = self.ref_cache.setdefault((field_name, index), {})
                wanted = wanted_by_key[index]
                missing = [k for k in wanted if k not in cache]
                if len(cache) + len(missing) > _REF_CACHE_MAX:
                    cache.clear()
                    missing = list(wanted)
                for found_key, stored in self._lookup(ref.model, key.fields, ref.fetch, missing):
                    cache[found_key] = stored
                for k in missing:
                    cache.setdefault(k, None)
            for row in rows:
                if ref.field not in row.refs:
                    continue
                index, values = row.refs[ref.field]
                found = self.ref_cache[(ref.field, index)].get(values)
                if found is None:
                    key = ref.keys[index]
                    row.error(key.error_column, key.missing.format(*values))
                    continue
                row.values[self.attnames[ref.field]] = found[0]
                row.fetched[ref.field] = found[1:]

    def _lookup(
        self,
        model: Any,
        fields: tuple[str, ...],
        fetch: tuple[str, ...],
        keys: Sequence[tuple],
    ) -> Iterator[tuple[tuple, tuple]]:
        """``(key, (pk, *fetched))`` for each stored object whose ``fields`` equal a key."""
        if not keys:
            return
        annotations = {f"_k{i}": stored_value(model, f) for i, f in enumerate(fields)}
        names = list(annotations)
        first = sorted({k[0] for k in keys}, key=str)
        wanted = set(keys)
        qs = model._default_manager.annotate(**annotations).order_by()
        for chunk in _chunks(first):
            for values in qs.filter(_k0__in=chunk).values_list(*names, "pk", *fetch):
                key = tuple(values[: len(fields)])
                if key in wanted:
                    yield key, tuple(values[len(fields) :])

    def _targets(self, rows: list[PlannedRow]) -> tuple[dict[Any, Target], dict[tuple, Target]]:
        sheet = self.sheet
        names = [*sheet.natural_key, *sheet.compared, *sheet.state]
        annotations = {f"_t{i}": stored_value(self.model, n) for i, n in enumerate(names)}
        qs = self.model._default_manager.annotate(
            _uuid=stored_value(self.model, "uuid"), **annotations
        ).order_by()
        # A versioned model's version is read with the row: the update is conditional on it,
        # and it is part of the row's fingerprint (a change since the preview is noticed).
        versioned = is_versioned(self.model)
        columns = ["pk", VERSION_FIELD if versioned else "pk", "_uuid", *annotations]
        nk = len(sheet.natural_key)

        def build(values: tuple) -> Target:
            rest = values[3:]
            return Target(
                pk=values[0],
                uuid=values[2],
                key=tuple(rest[:nk]) if nk else None,
                values=dict(zip(names, rest, strict=True)),
                version=values[1] if versioned else None,
            )

        by_uuid: dict[Any, Target] = {}
        uuids = [row.uuid for row in rows if row.uuid is not None and not row.errors]
        for chunk in _chunks(uuids):
            for values in qs.filter(uuid__in=chunk).values_list(*columns):
                by_uuid[values[2]] = build(values)
        by_key: dict[tuple, Target] = {}
        keys = [row.key for row in rows if row.key is not None and not row.errors]
        if keys:
            wanted = set(keys)
            for chunk in _chunks(sorted({k[0] for k in keys}, key=str)):
                for values in qs.filter(_t0__in=chunk).values_list(*columns):
                    target = build(values)
                    if target.key in wanted:
                        by_key[target.key] = target
        return by_uuid, by_key

    # --- 3. validate --------------------------------------------------------------------------

    def _key_label(self, key: tuple) -> str:
        return self.sheet.natural_key_label.format(*key)

    def _decide(
        self, row: PlannedRow, by_uuid: dict[Any, Target], by_key: dict[tuple, Target]
    ) -> None:
        if row.errors:
            return
        sheet = self.sheet
        label = sheet.label
        number = row.number
        if row.uuid is not None:
            first = self.seen_uuid.get(row.uuid)
            if first is not None:
                row.error("uuid", f"uuid {row.uuid} is also on row {first}")
                return
        if row.key is not None:
            first = self.seen_key.get(row.key)
            if first is not None:
                row.error("", f"{self._key_label(row.key)} is also on row {first}")
                return
        if row.uuid is not None:
            self.seen_uuid[row.uuid] = number
        if row.key is not None:
            self.seen_key[row.key] = number

        holder = by_key.get(row.key) if row.key is not None else None
        target = by_uuid.get(row.uuid) if row.uuid is not None else holder
        if target is not None:
            if target.pk in self.matched:
                row.error("", f"this {label} is also changed on row {self.matched[target.pk]}")
                return
            self.matched[target.pk] = number
        row.target = target
        if target is None:
            if holder is not None:
                row.error(
                    "uuid",
                    f"{self._key_label(row.key)} belongs to another {label} "  # type: ignore[arg-type]
                    f"(uuid {holder.uuid})",
                )
                return
            if row.key is not None and row.key in self.vacated:
                moved_at, owner = self.vacated[row.key]
                row.error(
                    "",
                    f"{self._key_label(row.key)} belongs to {label} {owner}, which row {moved_at} "
                    "changes: one file cannot move it to another "
                    f"{label}. Import the two changes in separate files.",
                )
                return
            row.action = NEW
            row.data = {f: row.values.get(f) for f in sheet.compared}
            for column in self.import_columns:
                if column.new_only and column.target in row.values:
                    row.data[column.target] = row.values[column.target]
            if row.uuid is not None:
                row.data["uuid"] = row.uuid
        else:
            if holder is not None and holder.pk != target.pk:
                row.error(
                    "",
                    f"{self._key_label(row.key)} belongs to another {label} "  # type: ignore[arg-type]
                    f"(uuid {holder.uuid})",
                )
                return
            row.changed = [
                f
                for f in sheet.compared
                if f in row.values and comparable(target.values[f]) != comparable(row.values[f])
            ]
            row.action = UPDATE if row.changed else SKIP
            row.data = {f: row.values[f] for f in row.changed}
            if target.key is not None and row.key is not None and target.key != row.key:
                self.vacated[target.key] = (number, target.uuid)
        sheet.row_rules(row, options=self.options)
        if row.action == SKIP and row.data:
            row.action = UPDATE  # a rule derived a value to store

    def _count(self, row: PlannedRow) -> None:
        report = self.report
        if row.action == NEW:
            report.new += 1
        elif row.action == UPDATE:
            report.updated += 1
        else:
            report.skipped += 1
        if len(report.preview) < report.preview_limit:
            report.add_preview(row.number, row.action, self._shown(row))

    def _shown(self, row: PlannedRow) -> list[str]:
        shown = []
        target = row.target
        for column in self.import_columns:
            if column.new_only:
                continue
            if column.name == "uuid":
                shown.append(display(row.uuid or (target.uuid if target else "")))
                continue
            text = row.text.get(column.name, "")
            name = column.target
            if target is not None and name in row.changed and name in row.values:
                text = f"{display(target.values[name])} → {display(row.values[name])}"
            elif name in row.values:
                text = display(row.values[name])
            shown.append(text)
        return shown

    def _fingerprint(self, row: PlannedRow) -> bytes:
        """What the row would do, against what state: equal fingerprints, equal writes."""
        target = row.target
        state = (
            f"{target.pk}v{target.version}{list(target.values.values())!r}"
            if target is not None
            else "-"
        )
        return f"{row.number}{row.action}{state}{list(row.data.items())!r}\n".encode()


def import_rows(
    *,
    sheet: Sheet,
    table: Table,
    dry_run: bool = False,
    actor: Actor = None,
    file_name: str | None = None,
    options: Mapping[str, Any] | None = None,
    expected_digests: Sequence[str] | None = None,
    observer: Observer | None = None,
) -> ImportReport:
    """Check every row of ``table`` against ``sheet``; unless ``dry_run`` or a row is invalid,
    write them all in one transaction. ``expected_digests`` (from a dry run's report) makes the
    write refuse with :class:`PreviewOutdatedError` if the plan changed since."""
    run = _Run(
        sheet=sheet,
        table=table,
        dry_run=dry_run,
        actor=actor,
        file_name=file_name,
        options=options or {},
        expected_digests=expected_digests,
        observer=observer,
    )
    if dry_run:
        report = run.run()
    else:
        with transaction.atomic():
            report = run.run()
            if report.invalid:
                transaction.set_rollback(True)
            else:
                report.written = True
    logger.info(
        "%s import %s%s by %s: %s new, %s updated, %s skipped, %s invalid rows",
        sheet.label,
        file_name or "(no file name)",
        "" if report.written else " (not written)",
        getattr(actor, "pk", None),
        report.new,
        report.updated,
        report.skipped,
        report.invalid,
    )
    return report


__all__ = [
    "NEW",
    "SKIP",
    "UPDATE",
    "Column",
    "ImportFileError",
    "ImportReport",
    "PreviewOutdatedError",
    "RowError",
    "Table",
    "import_rows",
]
