"""How the engine writes a batch of checked rows: inserts and updates, with their audit records.

Two strategies behind one interface:

- :class:`~apps.spreadsheets.copy_writer.CopyWriter` (PostgreSQL): new rows through
  ``COPY … FROM STDIN`` with their historical records from the same lines, updates through one
  ``UPDATE … FROM (VALUES …)`` per batch (``copy_writer.py``).
- :class:`~apps.spreadsheets.bulk_writer.BulkWriter` (any database):
  ``bulk_create_with_history`` / ``bulk_update_with_history`` (``bulk_writer.py``).

Both run inside the engine's transaction and write the same rows and the same history: each
historical record names the importing user and the channel (``import``, or the command's), the
file in its change reason. On a
versioned model (``apps/core/versions.py``) an update bumps each row's version and is conditional
on the version the engine read: a row changed meanwhile by someone else is not overwritten, the
writer raises :class:`ConcurrentChangeError` instead (and the engine's transaction rolls back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import models

from apps.core.actors import Actor, actor_user
from apps.core.sequences import SequenceField, sequence_values
from apps.core.versions import is_versioned

# An update: the row's primary key, the fields to set, the version it was read at (or None).
Update = tuple[int, Mapping[str, Any], "int | None"]


class ConcurrentChangeError(Exception):
    """Rows to update were changed by another writer after the engine read them (their version
    moved on): the import must not overwrite them. ``count`` says how many."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} rows changed since they were read")
        self.count = count


class History:
    """Who, through which channel and from which file, for the historical records of imported
    rows (``core.audit``: the columns every history row carries)."""

    def __init__(self, actor: Actor, *, channel: str, file_name: str | None) -> None:
        self.user = actor_user(actor)
        self.channel = channel
        self.reason = file_name or ""

    def custom_attributes(self) -> dict[str, Any]:
        """The history's columns beyond simple-history's own (``core.audit.AuditedHistory``)."""
        return {"history_channel": self.channel}


def _concrete_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _defaults(model: type[models.Model], now: dt.datetime) -> dict[str, Callable[[], Any]]:
    """Each concrete field's value when a new row does not give one."""
    out: dict[str, Callable[[], Any]] = {}
    for f in _concrete_fields(model):
        if isinstance(f, models.DateTimeField) and (
            getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) or f.has_default()
        ):
            out[f.attname] = lambda: now
        elif f.has_default():
            out[f.attname] = f.get_default
        else:
            out[f.attname] = lambda: None
    return out


class Writer:
    def __init__(self, model: type[models.Model], *, history: History, now: dt.datetime) -> None:
        self.model = model
        self.history = history
        self.now = now
        self.fields = _concrete_fields(model)
        self.defaults = _defaults(model, now)
        self.by_attname = {f.attname: f for f in self.fields}
        self.has_modified = "date_modified" in self.by_attname
        self.versioned = is_versioned(model)
        # Numbers the database allocates (an order's number): drawn for a batch at once.
        self.sequence_fields = [f for f in self.fields if isinstance(f, SequenceField)]

    def with_sequence_values(self, rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
        """The rows, each given a fresh number for every sequence field it does not give (set
        in place: the rows are the engine's own, made for this write)."""
        for field in self.sequence_fields:
            missing = [row for row in rows if row.get(field.attname) is None]
            numbers = sequence_values(field, len(missing))
            for row, number in zip(missing, numbers, strict=True):
                row[field.attname] = number
        return rows

    def complete(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A new row's values for every concrete field (defaults filled in)."""
        row = {
            name: (data[name] if name in data else make()) for name, make in self.defaults.items()
        }
        if self.has_modified:
            row["date_modified"] = self.now
        return row

    def prepare(self, rows: Sequence[dict[str, Any]]) -> Any:
        """New rows made ready to write (what costs Python work, not the database's): done by
        the checking thread when a second one writes (``batch_writing.py``)."""
        return self.with_sequence_values(rows)

    def insert_prepared(self, prepared: Any) -> list[Any]:
        """Write rows ``prepare`` made ready; their uuids."""
        raise NotImplementedError

    def insert(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Write new rows (with their history); their uuids."""
        return self.insert_prepared(self.prepare(rows)) if rows else []

    def update(self, rows: Sequence[Update]) -> None:
        raise NotImplementedError


def db_value(value: Any) -> Any:
    as_e164 = getattr(value, "as_e164", None)
    if as_e164 is not None:
        return str(as_e164)
    return value
