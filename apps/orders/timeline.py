"""One timeline per order (and per customer, across their orders), newest first.

The sources (``timeline_sources.py``), merged: order events, field changes from the audit
history, SMS messages and, on a customer's timeline, the notes on the customer. A page reads
each source with one keyset query (``page_size + 1`` rows after the cursor) and merges them, so
a page costs a fixed number of queries however long the timeline is: events, history, the
history records before them (for the diffs), SMS, the customer's notes, and the names of
customers and items that changed — at most seven.

Entries are ordered by time, then by a key that is unique across sources (``e:<uuid>``,
``h:<history id>``, ``n:<uuid>``, ``s:<uuid>``); a cursor is the (time, key) of the last entry
a page showed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from apps.core.cursors import InvalidCursorError, cursor_decode, cursor_encode
from apps.customers.models import Customer

from .models import Order
from .timeline_sources import (
    SOURCES,
    Cursor,
    SourceRow,
    TimelineEntry,
    TimelineScope,
    cursor_key_value,
)

MAX_PAGE_SIZE = 200


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    #: Where the next (older) page starts, and the previous (newer) one; ``None`` at an end.
    next: Cursor | None = None
    previous: Cursor | None = None


def timeline_cursor_encode(cursor: Cursor, *, reverse: bool = False) -> str:
    return cursor_encode({"a": cursor[0].isoformat(), "k": cursor[1], "r": reverse})


def timeline_cursor_decode(token: str) -> tuple[Cursor, bool]:
    """``((at, key), reverse)`` from a token; ``InvalidCursorError`` for anything else."""
    data = cursor_decode(token)
    try:
        at = dt.datetime.fromisoformat(data["a"])
        key = data["k"]
        if at.tzinfo is None or not isinstance(key, str):
            raise ValueError("naive time or no key")
        cursor_key_value(key)
        return (at.astimezone(dt.UTC), key), bool(data.get("r"))
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCursorError("Invalid cursor.") from exc


# --- the merge ----------------------------------------------------------------------------------


def _timeline(
    scope: TimelineScope, *, page_size: int, cursor: Cursor | None, reverse: bool
) -> TimelinePage:
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    descending = not reverse
    limit = size + 1
    rows: list[SourceRow] = []
    boundary: SourceRow | None = None

    def order_key(row: SourceRow) -> tuple[dt.datetime, str]:
        return (row.at, row.key)

    for source in SOURCES:
        found = source.rows(scope, cursor, descending, limit)
        rows.extend(found)
        if len(found) == limit:
            # Rows beyond this source's ``size``-th are unknown: the page stops there at the
            # latest (its ``limit``-th row proves there is more).
            edge = found[size - 1]
            if boundary is None or (
                order_key(edge) > order_key(boundary)
                if descending
                else order_key(edge) < order_key(boundary)
            ):
                boundary = edge
    rows.sort(key=order_key, reverse=descending)

    consumed: list[SourceRow] = []
    entries: list[TimelineEntry] = []
    for row in rows:
        if len(entries) == size:
            break
        consumed.append(row)
        entry = row.build()
        if entry is not None:
            entries.append(entry)
        if row is boundary:
            break
    more = len(consumed) < len(rows)

    page = TimelinePage(entries=entries if descending else entries[::-1])
    first = (consumed[0].at, consumed[0].key) if consumed else None
    last = (consumed[-1].at, consumed[-1].key) if consumed else None
    if descending:
        page.next = last if more else None
        page.previous = first if cursor is not None else None
    else:
        page.previous = last if more else None
        page.next = first if cursor is not None else None
    if not consumed and cursor is not None:
        # Past either end: the way back starts where the cursor pointed.
        if descending:
            page.previous = cursor
        else:
            page.next = cursor
    return page


def order_timeline(
    *,
    order: Order,
    page_size: int = 50,
    cursor: Cursor | None = None,
    reverse: bool = False,
) -> TimelinePage:
    """The order's timeline, newest first; ``cursor`` continues after a page's ``next``
    (older entries) or, with ``reverse``, before its ``previous`` (newer entries)."""
    return _timeline(
        TimelineScope(order=order), page_size=page_size, cursor=cursor, reverse=reverse
    )


def customer_timeline(
    *,
    customer: Customer,
    page_size: int = 50,
    cursor: Cursor | None = None,
    reverse: bool = False,
) -> TimelinePage:
    """The same timeline across all of ``customer``'s orders."""
    return _timeline(
        TimelineScope(customer=customer), page_size=page_size, cursor=cursor, reverse=reverse
    )


def timeline_jsonable(value: Any) -> Any:
    """``details`` with datetimes as ISO 8601 UTC text (for JSON)."""
    if isinstance(value, dict):
        return {k: timeline_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [timeline_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


__all__ = [
    "InvalidCursorError",
    "TimelinePage",
    "customer_timeline",
    "order_timeline",
    "timeline_cursor_decode",
    "timeline_cursor_encode",
    "timeline_jsonable",
]
