"""PostgreSQL's writer: COPY for new rows and their audit records, one UPDATE per batch.

- New rows go in through ``COPY … FROM STDIN`` with primary keys drawn from the table's sequence
  first, so their historical records go in by a second COPY of the same lines (the record's line
  is the row's plus the history columns) with no read back of the rows just written.
- Updates go through one ``UPDATE … FROM (VALUES …)`` per batch, conditional on each row's
  version, and their historical records by ``INSERT … SELECT`` from the rows just written.

simple-history's signals do not fire for rows that never went through ``save``: the records are
written here, with the same columns simple-history would write.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid as uuid_module
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, models

from apps.core.versions import VERSION_FIELD

from .writers import ConcurrentChangeError, Update, Writer, db_value

_MISSING = object()
#: Characters of COPY data handed to the connection at a time.
COPY_CHUNK = 1024 * 1024


class PreparedRows(NamedTuple):
    """A batch of new rows as COPY lines, and its history records' lines (when the rows' ids
    were drawn first)."""

    lines: io.StringIO
    history: io.StringIO | None
    uuids: list[Any]


def uuid4_texts(count: int) -> list[str]:
    """``count`` random (version 4) uuids as text, from one read of the system's randomness:
    what ``str(uuid.uuid4())`` gives, several times faster for a batch of new rows."""
    random = bytearray(os.urandom(16 * count))
    out = []
    for start in range(0, 16 * count, 16):
        random[start + 6] = (random[start + 6] & 0x0F) | 0x40  # version 4
        random[start + 8] = (random[start + 8] & 0x3F) | 0x80  # RFC 4122 variant
        h = random[start : start + 16].hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | Decimal | uuid_module.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    as_e164 = getattr(value, "as_e164", None)
    if as_e164 is not None:
        return str(as_e164)
    return _copy_text(str(value))


def _constant(text: str) -> Callable[[], str]:
    return lambda: text


def _made(make: Callable[[], Any]) -> Callable[[], str]:
    return lambda: _copy_text(make())


class CopyWriter(Writer):
    """PostgreSQL: COPY for inserts, one UPDATE … FROM (VALUES …) per batch for updates."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        quote = connection.ops.quote_name
        self.table = quote(self.model._meta.db_table)
        historical = self.model.history.model  # type: ignore[attr-defined]  # added by HistoricalRecords
        history_columns = {f.column for f in historical._meta.concrete_fields}
        # The fields the history keeps first (it may leave some out, e.g. ``date_modified``):
        # a new row's historical record is then the start of the row's COPY line.
        self.fields = sorted(self.fields, key=lambda f: f.column not in history_columns)
        self.history_kept = sum(1 for f in self.fields if f.column in history_columns)
        self.columns = [f.attname for f in self.fields]
        self.copy_sql = (
            f"COPY {self.table} ({', '.join(quote(f.column) for f in self.fields)}) FROM STDIN"
        )
        tracked = [
            quote(f.column)
            for f in historical._meta.concrete_fields
            if not f.name.startswith("history_")
        ]
        # The history's own columns beyond simple-history's (the channel), and their values.
        custom = self.history.custom_attributes()
        self.custom_names = "".join(f", {quote(name)}" for name in custom)
        self.custom_values = list(custom.values())
        history_names = (
            f"history_date, history_change_reason, history_type, history_user_id{self.custom_names}"
        )
        # Identifiers come from the models' metadata; every value is a query parameter.
        self.history_sql = (
            f"INSERT INTO {quote(historical._meta.db_table)} ({', '.join(tracked)}, "  # noqa: S608
            f"{history_names}) SELECT {', '.join(tracked)}, %s, %s, %s, %s"
            f"{', %s' * len(custom)} FROM {self.table} WHERE {{where}}"
        )
        # New rows: their primary keys are drawn from the table's sequence first, so the rows
        # and their historical records go in by two COPYs of the same lines (the record's line
        # is the row's plus the history columns), with no read back of the rows just written.
        pk = self.model._meta.pk
        assert pk is not None
        self.sequence: str | None = None
        if pk.column in history_columns:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)", [self.model._meta.db_table, pk.column]
                )
                self.sequence = cursor.fetchone()[0]
        listed = ", ".join(quote(c) for c in [pk.column, *(f.column for f in self.fields)])
        kept = ", ".join(
            quote(c) for c in [pk.column, *(f.column for f in self.fields[: self.history_kept])]
        )
        self.copy_with_pk_sql = f"COPY {self.table} ({listed}) FROM STDIN"
        self.history_copy_sql = (
            f"COPY {quote(historical._meta.db_table)} ({kept}, {history_names}) FROM STDIN"
        )
        user = self.history.user
        self.history_suffix = "\t".join(
            [
                "",
                _copy_text(self.now),
                _copy_text(self.history.reason),
                "+",
                _copy_text(user.pk if user is not None else None),
                *(_copy_text(v) for v in self.custom_values),
            ]
        )

    def _history(self, where: str, kind: str, keys: list[Any]) -> None:
        user_id = self.history.user.pk if self.history.user is not None else None
        with connection.cursor() as cursor:
            cursor.execute(
                self.history_sql.replace("{where}", where),
                [self.now, self.history.reason, kind, user_id, *self.custom_values, keys],
            )

    def _default_texts(self) -> dict[str, Callable[[], str]]:
        """Each column's COPY text when a row does not give it: computed once when the default
        is a constant (the import's time, a status), per row when it is a callable (a uuid)."""
        out: dict[str, Callable[[], str]] = {}
        self.varying_defaults: set[str] = set()
        for f in self.fields:
            make = self.defaults[f.attname]
            if f.attname == "date_modified" or (
                isinstance(f, models.DateTimeField) and make() is self.now
            ):
                text = _copy_text(self.now)
                out[f.attname] = _constant(text)
            elif f.has_default() and callable(f.default):
                out[f.attname] = _made(make)
                self.varying_defaults.add(f.attname)
            else:
                out[f.attname] = _constant(_copy_text(make()))
        return out

    def _new_ids(self, count: int) -> list[int]:
        assert self.sequence is not None
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [self.sequence, count])
            return [row[0] for row in cursor.fetchall()]

    def prepare(self, rows: Sequence[dict[str, Any]]) -> PreparedRows | None:
        """The COPY lines of the rows and of their history records (Python's work)."""
        if not rows:
            return None
        rows = self.with_sequence_values(rows)
        ids = iter(self._new_ids(len(rows))) if self.sequence is not None else None
        history = io.StringIO() if ids is not None else None
        suffix = self.history_suffix
        kept = self.history_kept
        buffer = io.StringIO()
        uuids: list[Any] = []
        columns = self.columns
        defaults = self._default_texts()
        convert = _copy_text
        uuid_field = self.by_attname["uuid"]
        if uuid_field.default is uuid_module.uuid4:
            fresh = iter(uuid4_texts(sum(1 for d in rows if d.get("uuid") is None)))
            uuid_default: Callable[[], str] = fresh.__next__
        else:
            uuid_default = defaults["uuid"]
        write = buffer.write
        # The columns no row of the batch gives hold the same text on every line: laid out once
        # in a template, each row then fills in only what it gives.
        given = set().union(*rows) - {"uuid"}
        constant = {
            c: defaults[c]()
            for c in columns
            if c != "uuid" and c not in given and c not in self.varying_defaults
        }
        template = [constant.get(c, "") for c in columns]
        per_row = [(i, c) for i, c in enumerate(columns) if c != "uuid" and c not in constant]
        uuid_at = columns.index("uuid")
        for data in rows:
            cells = template.copy()
            value = data.get("uuid")
            text = uuid_default() if value is None else str(value)
            uuids.append(text)
            cells[uuid_at] = text
            for i, c in per_row:
                value = data.get(c, _MISSING)
                if value is _MISSING:
                    text = defaults[c]()
                elif (kind := type(value)) is int or kind is Decimal:
                    text = str(value)
                elif (
                    kind is str
                    and "\\" not in value
                    and "\t" not in value
                    and ("\n" not in value and "\r" not in value)
                ):
                    text = value
                else:
                    text = convert(value)
                cells[i] = text
            if history is not None and ids is not None:
                head = f"{next(ids)}\t" + "\t".join(cells[:kept])
                history.write(f"{head}{suffix}\n")
                rest = cells[kept:]
                write(f"{head}\t" + "\t".join(rest) + "\n" if rest else f"{head}\n")
            else:
                write("\t".join(cells))
                write("\n")
        return PreparedRows(buffer, history, uuids)

    def insert_prepared(self, prepared: Any) -> list[Any]:
        """The COPYs of lines ``prepare`` made (the database's work)."""
        if prepared is None:
            return []
        buffer, history, uuids = prepared
        buffer.seek(0)
        with connection.cursor() as cursor:
            # psycopg2's copy_expert: Django's cursor wrapper has no COPY of its own. Large
            # chunks: each read of the buffer needs the interpreter, the send does not.
            if history is None:
                cursor.cursor.copy_expert(self.copy_sql, buffer, size=COPY_CHUNK)
            else:
                cursor.cursor.copy_expert(self.copy_with_pk_sql, buffer, size=COPY_CHUNK)
                history.seek(0)
                cursor.cursor.copy_expert(self.history_copy_sql, history, size=COPY_CHUNK)
        if history is None:
            self._history("uuid = ANY(%s::uuid[])", "+", uuids)
        return uuids

    def update(self, rows: Sequence[Update]) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        by_fields: dict[tuple[str, ...], list[Update]] = {}
        for row in rows:
            by_fields.setdefault(tuple(sorted(row[1])), []).append(row)
        pk_field = self.model._meta.pk
        assert pk_field is not None
        pk_column = f"{self.table}.{quote(pk_field.column)}"
        version = quote(VERSION_FIELD)
        for names, group in by_fields.items():
            fields = [self.by_attname[n] for n in names]
            columns = [f.column for f in fields]
            types = [f.db_type(connection) for f in fields]
            pk_type = pk_field.rel_db_type(connection)  # type: ignore[attr-defined]  # django-stubs 5.2.9 lacks Field.rel_db_type
            lead = f"%s::{pk_type}, %s::integer" if self.versioned else f"%s::{pk_type}"
            row_sql = f"({lead}, " + ", ".join(f"%s::{t}" for t in types) + ")"
            assignments = [f"{quote(c)} = v.{quote(c)}" for c in columns]
            if self.has_modified:
                assignments.append(f"{quote('date_modified')} = %s")
            where = f"{pk_column} = v._pk"
            if self.versioned:
                # One statement reads and writes each row: a version that moved on since the
                # engine read it (another writer committed meanwhile) matches nothing.
                assignments.append(f"{version} = {self.table}.{version} + 1")
                where += f" AND {self.table}.{version} = v._version"
            # Parameters in statement order: SET's date_modified, then the VALUES rows.
            params: list[Any] = [self.now] if self.has_modified else []
            for pk, data, read_version in group:
                params.append(pk)
                if self.versioned:
                    params.append(read_version)
                params.extend(db_value(data[n]) for n in names)
            lead_names = "_pk, _version" if self.versioned else "_pk"
            sql = (
                f"UPDATE {self.table} SET {', '.join(assignments)} "  # noqa: S608
                f"FROM (VALUES {', '.join([row_sql] * len(group))}) "
                f"AS v({lead_names}, {', '.join(quote(c) for c in columns)}) "
                f"WHERE {where}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                if cursor.rowcount != len(group):
                    raise ConcurrentChangeError(len(group) - cursor.rowcount)
        self._history(f"{quote(pk_field.column)} = ANY(%s)", "~", [pk for pk, _, _ in rows])
