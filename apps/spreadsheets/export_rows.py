"""A sheet's export columns read from a queryset: one annotation per column, typed values.

Values keep their types (numbers, money as ``Decimal`` with the column's places, datetimes in
the configured time zone): each file format writes them its own way (CSV as text, XLSX as number
and date cells with formats). Uuids and phone numbers are read as text. A column written for
people only (a customer's full name on an order) is cut to a spreadsheet cell's 32,767
characters; the import ignores it anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from .sheets import Sheet
from .stored import UUIDText, field_at_path, stored_text

CHUNK_ROWS = 2000
#: Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32_767


def export_queryset(sheet: Sheet, queryset: models.QuerySet) -> tuple[models.QuerySet, list[str]]:
    """``queryset`` annotated with one expression per export column, and their names."""
    names: list[str] = []
    annotations: dict[str, Any] = {}
    for index, column in enumerate(sheet.columns):
        source = column.export if column.export is not None else column.target or column.name
        if isinstance(source, str):
            field = field_at_path(sheet.model, source)
            if isinstance(field, models.UUIDField):
                source = UUIDText(source)
            elif isinstance(field, PhoneNumberField):
                source = stored_text(source)
            else:
                source = F(source)
        name = f"_x{index}"
        annotations[name] = source
        names.append(name)
    return queryset.annotate(**annotations), names


def export_values(sheet: Sheet, queryset: models.QuerySet) -> Iterator[tuple[Any, ...]]:
    """The export columns' values of each object: numbers stay numbers, money is a ``Decimal``
    with the column's places, datetimes are aware in the configured time zone."""
    annotated, names = export_queryset(sheet, queryset)
    rows = annotated.values_list(*names).iterator(chunk_size=CHUNK_ROWS)
    zone = timezone.get_current_timezone()
    cents = [Decimal(1).scaleb(-c.places) if c.places is not None else None for c in sheet.columns]
    informative = [not c.imported for c in sheet.columns]
    converters: list[Callable[[Any], Any] | None] | None = None
    for row in rows:
        if converters is None:
            # Decided on the first row: each column's values are of one type.
            converters = [
                _converter(v, cent, zone, cut)
                for v, cent, cut in zip(row, cents, informative, strict=True)
            ]
            if not any(converters):
                converters = []
        if not converters:
            yield row
            continue
        yield tuple(
            value if f is None or value is None else f(value)
            for f, value in zip(converters, row, strict=True)
        )


def _converter(
    value: Any, cent: Decimal | None, zone: Any, cut: bool
) -> Callable[[Any], Any] | None:
    if cut and isinstance(value, str):
        return lambda v: v[:MAX_CELL_CHARS]
    if cent is not None:
        # SQLite drops the scale of a product: 200 instead of 200.00.
        return lambda v: Decimal(v).quantize(cent)
    if isinstance(value, dt.datetime):
        return lambda v: v.astimezone(zone)
    return None


def iso_text(value: dt.datetime) -> str:
    """How CSV writes a datetime: ISO 8601 with its offset, to the microsecond."""
    return value.isoformat(timespec="microseconds")
