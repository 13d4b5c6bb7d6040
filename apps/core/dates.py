"""One way to show a date and time: ``DATETIME_DISPLAY_FORMAT`` in the configured time zone.

The project's format module (``FORMAT_MODULE_PATH``) gives Django the same format, so what Django
renders by itself (list columns, read-only fields, the history page) and what the code renders
with :func:`format_datetime` (timeline, dashboard, job pages) read alike.
"""

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format


def format_datetime(value: dt.datetime | None, empty: str = "—") -> str:
    """``2026-12-07 01:55`` in the configured time zone (``empty`` for ``None``)."""
    if value is None:
        return empty
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATETIME_FORMAT")


def format_date(value: dt.date | None, empty: str = "—") -> str:
    if value is None:
        return empty
    if isinstance(value, dt.datetime):
        return format_datetime(value, empty)
    return date_format(value, "DATE_FORMAT")
