"""Spreadsheet import plumbing shared by the customer, item and order importers.

An importer reads a table (header + rows), validates every row in Python against values looked
up in batches, and writes only when no row is invalid. It returns an :class:`ImportReport` that
the admin turns into its preview page; the same report comes back from the confirmed run.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from apps.core.errors import DomainError

logger = logging.getLogger(__name__)

# A spreadsheet runs a cell that starts with one of these as a formula. Exports put an
# apostrophe in front (the usual spreadsheet escape); imports take it off again, so a phone
# number exported as '+254712345678 comes back as +254712345678.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

NEW = "new"
UPDATE = "update"
SKIP = "skip"

LOOKUP_BATCH = 5000


def escape_formula(value: str) -> str:
    if value and value[0] in FORMULA_PREFIXES:
        return "'" + value
    return value


def unescape_formula(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value


def normalize_header(value: Any) -> str:
    return str(value or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def cell_text(value: Any) -> str:
    """A cell as clean text: XLSX numbers like 3.0 become "3", escaped formulas are restored."""
    if value is None:
        return ""
    if isinstance(value, str):
        return unescape_formula(value.strip())
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_uuid(text: str) -> uuid_module.UUID:
    try:
        return uuid_module.UUID(text)
    except ValueError:
        raise ValueError(f"“{text}” is not a valid uuid") from None


def chunked(values: Sequence[Any], size: int = LOOKUP_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (missing columns, no rows); nothing was read."""


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


@dataclass
class ImportReport:
    """What an import found (dry run) or did (confirmed run)."""

    columns: list[str]
    new: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    written: bool = False
    preview_limit: int = 100

    @property
    def invalid(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def total(self) -> int:
        return self.new + self.updated + self.skipped + self.invalid

    def add_error(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row=row, column=column, message=message))

    def add_preview(self, row: int, import_type: str, values: list[str]) -> None:
        if len(self.preview) < self.preview_limit:
            self.preview.append(PreviewRow(row=row, import_type=import_type, values=values))

    def count(self, import_type: str) -> None:
        if import_type == NEW:
            self.new += 1
        elif import_type == UPDATE:
            self.updated += 1
        else:
            self.skipped += 1


def new_report(columns: Iterable[str]) -> ImportReport:
    return ImportReport(columns=list(columns), preview_limit=settings.IMPORT_PREVIEW_ROWS)


@dataclass
class Table:
    """The rows of a file with normalized column names."""

    headers: list[str]
    rows: Sequence[Sequence[Any]]

    @classmethod
    def from_rows(cls, headers: Iterable[Any], rows: Sequence[Sequence[Any]]) -> Table:
        return cls(headers=[normalize_header(h) for h in headers], rows=rows)

    def require(self, *columns: str, any_of: Sequence[Sequence[str]] = ()) -> None:
        """Refuse the file when required columns are missing (``any_of``: one group suffices)."""
        have = set(self.headers)
        missing = [c for c in columns if c not in have]
        for group in any_of:
            if not any(all(c in have for c in option.split("+")) for option in group):
                missing.append(" or ".join(group))
        if missing:
            raise ImportFileError(
                "The file is missing required column"
                + ("s" if len(missing) > 1 else "")
                + ": "
                + ", ".join(missing)
                + ". The first row must hold the column names (see the template file)."
            )

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(spreadsheet row number, {column: text}) for each row that is not entirely blank."""
        columns = [(i, h) for i, h in enumerate(self.headers) if h]
        prefixes = FORMULA_PREFIXES
        for index, raw in enumerate(self.rows):
            values: dict[str, str] = {}
            blank = True
            for i, h in columns:
                v = raw[i] if i < len(raw) else None
                # Inlined cell_text for the common case (a string cell): this loop runs once
                # per cell of the file.
                if type(v) is str:
                    v = v.strip()
                    if len(v) > 1 and v[0] == "'" and v[1] in prefixes:
                        v = v[1:]
                else:
                    v = cell_text(v)
                if v:
                    blank = False
                values[h] = v
            if not blank:
                yield index + 2, values


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, PhoneNumber):
        return str(value.as_e164)
    return str(value)


def comparable(value: Any) -> Any:
    if isinstance(value, PhoneNumber):
        return value.as_e164
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def plain_messages(exc: ValidationError) -> dict[str, list[str]]:
    """Django's validation messages, worded for a spreadsheet (column names, no field jargon)."""
    out: dict[str, list[str]] = {}
    for name, messages in exc.message_dict.items():
        column = "" if name == "__all__" else name
        out[column] = [
            f"{column.replace('_', ' ') or 'value'} is required"
            if m in ("This field cannot be blank.", "This field cannot be null.")
            else m
            for m in messages
        ]
    return out


@dataclass
class KeyedImport:
    """Import spec for a model matched by ``uuid``, else by its natural key (customers, items).

    ``build`` turns a row's text values into an unsaved instance and a dict of errors it found
    itself; the model's own field validation (``full_clean``) checks the rest.
    """

    model: type[models.Model]
    label: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    fields: tuple[str, ...]
    build: Callable[[dict[str, str]], tuple[models.Model, dict[str, str]]]
    natural_key: Callable[[models.Model], Any]
    natural_key_label: Callable[[Any], str]
    natural_lookup: Callable[[list[Any]], Iterable[models.Model]]


def import_keyed_rows(
    *,
    spec: KeyedImport,
    table: Table,
    dry_run: bool,
    actor: Any = None,
    file_name: str | None = None,
) -> ImportReport:
    table.require(*spec.required)
    report = new_report(spec.columns)
    parsed: list[tuple[int, uuid_module.UUID | None, models.Model]] = []
    seen_uuid: dict[uuid_module.UUID, int] = {}
    seen_key: dict[Any, int] = {}
    for number, values in table.records():
        row_errors: dict[str, str] = {}
        row_uuid = None
        if values.get("uuid"):
            try:
                row_uuid = parse_uuid(values["uuid"])
            except ValueError as exc:
                row_errors["uuid"] = str(exc)
        instance, build_errors = spec.build(values)
        row_errors.update(build_errors)
        try:
            instance.full_clean(
                exclude=["uuid", *row_errors], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for column, messages in plain_messages(exc).items():
                row_errors.setdefault(column, messages[0])
        if not row_errors:
            key = spec.natural_key(instance)
            if row_uuid is not None and row_uuid in seen_uuid:
                row_errors["uuid"] = f"uuid {row_uuid} is also on row {seen_uuid[row_uuid]}"
            elif key in seen_key:
                row_errors[""] = f"{spec.natural_key_label(key)} is also on row {seen_key[key]}"
            else:
                if row_uuid is not None:
                    seen_uuid[row_uuid] = number
                seen_key[key] = number
        for column, message in row_errors.items():
            report.add_error(number, column, message)
        if not row_errors:
            parsed.append((number, row_uuid, instance))

    manager = spec.model._default_manager
    uuids = [u for _, u, _ in parsed if u is not None]
    by_uuid: dict[uuid_module.UUID, models.Model] = {}
    for chunk in chunked(uuids):
        by_uuid.update({o.uuid: o for o in manager.filter(uuid__in=chunk)})
    keys = [spec.natural_key(inst) for _, _, inst in parsed]
    by_key: dict[Any, models.Model] = {}
    for chunk in chunked(keys):
        by_key.update({spec.natural_key(o): o for o in spec.natural_lookup(list(chunk))})

    to_create: list[models.Model] = []
    to_update: list[models.Model] = []
    matched: dict[Any, int] = {}
    for number, row_uuid, instance in parsed:
        key = spec.natural_key(instance)
        holder = by_key.get(key)
        target = by_uuid.get(row_uuid) if row_uuid is not None else holder
        if target is not None:
            if target.pk in matched:
                report.add_error(
                    number, "", f"this {spec.label} is also changed on row {matched[target.pk]}"
                )
                continue
            matched[target.pk] = number
        if target is None:
            if holder is not None:
                report.add_error(
                    number,
                    "uuid",
                    f"{spec.natural_key_label(key)} belongs to another {spec.label} "
                    f"(uuid {holder.uuid})",
                )
                continue
            if row_uuid is not None:
                instance.uuid = row_uuid
            to_create.append(instance)
            report.count(NEW)
            report.add_preview(number, NEW, [display(instance.uuid), *_values(spec, instance)])
            continue
        if holder is not None and holder.pk != target.pk:
            report.add_error(
                number,
                "",
                f"{spec.natural_key_label(key)} belongs to another {spec.label} "
                f"(uuid {holder.uuid})",
            )
            continue
        changed = [
            f
            for f in spec.fields
            if comparable(getattr(target, f)) != comparable(getattr(instance, f))
        ]
        if not changed:
            report.count(SKIP)
            report.add_preview(number, SKIP, [display(target.uuid), *_values(spec, target)])
            continue
        shown = [display(target.uuid)]
        for f in spec.fields:
            old, new = display(getattr(target, f)), display(getattr(instance, f))
            shown.append(f"{old} → {new}" if f in changed else new)
            setattr(target, f, getattr(instance, f))
        to_update.append(target)
        report.count(UPDATE)
        report.add_preview(number, UPDATE, shown)

    if report.errors or dry_run:
        return report
    try:
        with transaction.atomic():
            # The audit trail records each row with who imported it and from which file.
            user = actor if getattr(actor, "is_authenticated", False) else None
            reason = f"import: {file_name or 'file'}"
            now = timezone.now()
            if to_create:
                bulk_create_with_history(
                    to_create,
                    spec.model,
                    batch_size=1000,
                    default_user=user,
                    default_change_reason=reason,
                    default_date=now,
                )
            if to_update:
                for obj in to_update:
                    obj.date_modified = now
                bulk_update_with_history(
                    to_update,
                    spec.model,
                    [*spec.fields, "date_modified"],
                    batch_size=500,
                    default_user=user,
                    default_change_reason=reason,
                    default_date=now,
                )
    except IntegrityError as exc:
        # A concurrent change took a uuid or natural key since the rows were checked.
        raise ImportFileError(
            f"Another change saved a conflicting {spec.label} while this file was being "
            "imported; nothing was imported. Upload the file again."
        ) from exc
    report.written = True
    return report


def _values(spec: KeyedImport, instance: models.Model) -> list[str]:
    return [display(getattr(instance, f)) for f in spec.fields]


def log_import(report: ImportReport, *, model: str, actor: Any, file_name: str | None) -> None:
    logger.info(
        "%s import %s%s by %s: %s new, %s updated, %s skipped, %s invalid rows",
        model,
        file_name or "(no file name)",
        "" if report.written else " (not written)",
        getattr(actor, "pk", None),
        report.new,
        report.updated,
        report.skipped,
        report.invalid,
    )
