"""Numbers drawn from a database sequence: short, unique, never reused (order numbers).

:class:`SequenceField` is a ``bigint`` whose value the database allocates on every creation
path:

- **PostgreSQL**: a real sequence; the column's default is ``nextval(<sequence>)``, so a plain
  ``INSERT`` (the ORM's, a ``bulk_create``) takes the next number and returns it, and concurrent
  inserts never wait for each other. A rolled-back insert leaves a gap; a number is never given
  twice.
- **SQLite** (``make run``, tests): no sequences, and a column default cannot read a table. The
  field draws its number when the row is inserted from a one-row-per-sequence table
  (:class:`apps.core.models.Sequence`) in the same transaction; SQLite has one writer at a time,
  so two inserts cannot draw the same number.

Writers that insert rows themselves (the spreadsheet engine's COPY and bulk writers) draw a
batch of numbers with :func:`sequence_values` — one statement for the whole batch.
"""

from typing import Any

from django.db import connections, models, router
from django.db.models.expressions import DatabaseDefault
from django.db.models.sql.compiler import SQLInsertCompiler


class NextValue(models.Func):
    """The next value of a sequence, as a column default (PostgreSQL's ``nextval``).

    On SQLite it compiles to ``NULL`` in table definitions (a default cannot read a table);
    the field's ``pre_save`` has given the value before any insert.
    """

    output_field = models.BigIntegerField()

    def __init__(self, sequence: str) -> None:
        self.sequence = sequence
        super().__init__()

    def deconstruct(self) -> Any:
        return ("apps.core.sequences.NextValue", (self.sequence,), {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NextValue) and other.sequence == self.sequence

    def __hash__(self) -> int:
        return hash(("NextValue", self.sequence))

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        return "nextval(%s)", [self.sequence]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        # A literal: column defaults take no parameters.
        return f"nextval('{self.sequence}')", []

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        if isinstance(compiler, SQLInsertCompiler):
            raise RuntimeError(f"{self.sequence}: the value should have been drawn by pre_save")
        return "NULL", []


class SequenceField(models.BigIntegerField):
    """A number from the sequence ``sequence``, the first being ``start`` (see the module
    docstring)."""

    def __init__(self, *args: Any, sequence: str, start: int = 1, **kwargs: Any) -> None:
        self.sequence = sequence
        self.start = start
        kwargs["db_default"] = NextValue(sequence)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("db_default", None)
        kwargs.pop("editable", None)
        kwargs["sequence"] = self.sequence
        if self.start != 1:
            kwargs["start"] = self.start
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if add and isinstance(value, DatabaseDefault):
            using = model_instance._state.db or router.db_for_write(type(model_instance))
            if connections[using].vendor != "postgresql":
                value = sequence_values(self, 1, using=using)[0]
                setattr(model_instance, self.attname, value)
        return value


def sequence_values(field: SequenceField, count: int, *, using: str = "default") -> list[int]:
    """``count`` new numbers of ``field``'s sequence, in the caller's transaction."""
    if count <= 0:
        return []
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [field.sequence, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # The counter row continues after the highest number stored (created on first use, so
        # a database emptied by a test's flush starts again after what it still holds).
        quote = connection.ops.quote_name
        cursor.execute(
            "INSERT INTO core_sequence (name, last_value) "  # noqa: S608  (identifiers from the model)
            f"SELECT %s, COALESCE(MAX({quote(field.column)}), %s) "
            f"FROM {quote(field.model._meta.db_table)} WHERE true "
            "ON CONFLICT (name) DO NOTHING",
            [field.sequence, field.start - 1],
        )
        cursor.execute(
            "UPDATE core_sequence SET last_value = last_value + %s WHERE name = %s "
            "RETURNING last_value",
            [count, field.sequence],
        )
        last = int(cursor.fetchone()[0])
    return list(range(last - count + 1, last + 1))
