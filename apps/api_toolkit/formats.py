"""How /v1 writes timestamps and money in its JSON bodies."""

import datetime as dt
from decimal import Decimal


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z`` (timestamps are stored in UTC)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def money(value: Decimal | None) -> str | None:
    """A decimal string with two places."""
    if value is None:
        return None
    return f"{value:.2f}"
