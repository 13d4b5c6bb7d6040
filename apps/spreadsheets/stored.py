"""Stored values read the way cells are parsed, so the engine compares like with like.

Phone numbers are read as their stored E.164 text and uuids as canonical text with dashes on
every database: building ``PhoneNumber`` or ``UUID`` objects for every row read back costs more
than the query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import CharField, ExpressionWrapper, F, Func
from phonenumber_field.modelfields import PhoneNumberField

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler


class UUIDText(Func):
    """A uuid column as text with dashes on every database (SQLite stores 32 hex digits)."""

    output_field = CharField()

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra: Any,
    ) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS text)", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
        text = " || '-' || ".join(f"substr({sql}, {start}, {length})" for start, length in parts)
        return f"lower({text})", params * len(parts)


def stored_text(name: str) -> ExpressionWrapper:
    """A column read as its stored text, skipping the field's Python conversion."""
    return ExpressionWrapper(F(name), output_field=CharField())


def stored_value(model: type[models.Model], name: str) -> Any:
    """The expression that reads field ``name`` of ``model`` as stored, for comparison with
    parsed cells: phone numbers as their E.164 text, uuids as canonical text."""
    field = model._meta.get_field(name)
    if isinstance(field, PhoneNumberField):
        return stored_text(name)
    if isinstance(field, models.UUIDField):
        return UUIDText(name)
    assert isinstance(field, models.Field)  # a concrete field: sheets name no reverse relation
    return F(field.attname)


def field_at_path(model: type[models.Model], path: str) -> models.Field | None:
    """The field a ``customer__phone_number`` path ends at, or ``None`` when it names none."""
    *relations, last = path.split("__")
    try:
        for name in relations:
            related = model._meta.get_field(name).related_model
            if related is None or isinstance(related, str):
                return None
            model = related
        field = model._meta.get_field(last)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None
