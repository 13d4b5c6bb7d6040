"""One timeline per order (and per customer, across their orders), newest first.

Three sources, merged: order events (``OrderEvent``: created with its channel, status moves with
their reason, notes), field changes (the order's django-simple-history records) and SMS
messages (``SmsMessage``, one entry per message with its current status). A page reads each
source with one keyset query (``page_size + 1`` rows after the cursor) and merges them, so a
page costs a fixed number of queries however long the timeline is: events, history, the
history records before them (for the diffs), SMS, and the names of customers and items that
changed — at most six.

Entries are ordered by time, then by a key that is unique across sources (``e:<uuid>``,
``h:<history id>``, ``s:<uuid>``); a cursor is the (time, key) of the last entry a page showed.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from apps.core.actors import actor_label, channel_label
from apps.core.cursors import InvalidCursorError, cursor_decode, cursor_encode
from apps.core.money import format_money
from apps.customers.models import Customer
from apps.items.models import Item
from apps.notifications.models import SmsMessage

from .models import Order, OrderEvent, OrderEventKind

MAX_PAGE_SIZE = 200

#: The fields whose changes the timeline shows (status moves are events of their own).
CHANGE_FIELDS = ("customer_id", "item_id", "quantity", "unit_price")
FIELD_LABELS = {
    "customer_id": "customer",
    "item_id": "item",
    "quantity": "quantity",
    "unit_price": "unit price",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a timeline: what happened, when, who did it, through which channel."""

    key: str
    kind: str  # created | status | note | change | sms
    at: dt.datetime
    actor: str  # the person, or "system (<channel>)" (``core.actors.actor_label``)
    channel: str  # core.actors.Channel ("" when not recorded)
    order_uuid: uuid_module.UUID
    order_number: int
    order_pk: int
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


Cursor = tuple[dt.datetime, str]


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
        _key_value(key)
        return (at.astimezone(dt.UTC), key), bool(data.get("r"))
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCursorError("Invalid cursor.") from exc


def _key_value(key: str) -> Any:
    prefix, _, rest = key.partition(":")
    if prefix in ("e", "s"):
        return uuid_module.UUID(hex=rest)
    if prefix == "h" and rest.isdigit() and len(rest) <= 19:
        return int(rest)
    raise ValueError(f"unknown key {key!r}")


# --- sources ----------------------------------------------------------------------------------


@dataclass
class _Row:
    at: dt.datetime
    key: str
    build: Callable[[], TimelineEntry | None]


class _Source:
    prefix: str
    at_field: str
    key_field: str

    def keyset(self, qs: QuerySet, cursor: Cursor | None, descending: bool) -> QuerySet:
        """Rows strictly after ``cursor`` in scan order, in scan order."""
        sign = "-" if descending else ""
        qs = qs.order_by(f"{sign}{self.at_field}", f"{sign}{self.key_field}")
        if cursor is None:
            return qs
        at, key = cursor
        op = "lt" if descending else "gt"
        edge = "lte" if descending else "gte"
        prefix = key.partition(":")[0]
        after = Q(**{f"{self.at_field}__{op}": at})
        if prefix == self.prefix:
            after |= Q(**{self.at_field: at, f"{self.key_field}__{op}": _key_value(key)})
        elif (self.prefix < prefix) == descending:
            after |= Q(**{self.at_field: at})  # every row of this source sorts after the key
        # The redundant range on the time column keeps the scan on its index.
        return qs.filter(**{f"{self.at_field}__{edge}": at}).filter(after)

    def rows(
        self, scope: _Scope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[_Row]:
        raise NotImplementedError


@dataclass(frozen=True)
class _Scope:
    order: Order | None = None
    customer: Customer | None = None

    def orders_filter(self, prefix: str = "order") -> Q:
        if self.order is not None:
            return Q(**{prefix: self.order.pk})
        return Q(**{f"{prefix}__customer": self.customer})


class _Events(_Source):
    prefix, at_field, key_field = "e", "at", "uuid"

    def rows(
        self, scope: _Scope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[_Row]:
        qs = OrderEvent.objects.filter(scope.orders_filter()).select_related("actor", "order")
        events = list(self.keyset(qs, cursor, descending)[:limit])
        return [_Row(e.at, f"e:{e.uuid.hex}", _event_entry(e)) for e in events]


def _event_entry(event: OrderEvent) -> Callable[[], TimelineEntry]:
    def entry(kind: str, summary: str, details: dict[str, Any]) -> TimelineEntry:
        return TimelineEntry(
            key=f"e:{event.uuid.hex}",
            kind=kind,
            at=event.at,
            actor=actor_label(event.actor, event.channel),
            channel=event.channel,
            order_uuid=event.order.uuid,
            order_number=event.order.number,
            order_pk=event.order_id,
            summary=summary,
            details=details,
        )

    def build() -> TimelineEntry:
        if event.kind == OrderEventKind.CREATED:
            return entry("created", f"Order created through {channel_label(event.channel)}", {})
        if event.kind == OrderEventKind.STATUS:
            reason = f": {event.text}" if event.text else ""
            return entry(
                "status",
                f"Status {event.from_status} → {event.to_status}{reason}",
                {"from": event.from_status, "to": event.to_status, "reason": event.text or None},
            )
        return entry("note", event.text, {"text": event.text})

    return build


class _History(_Source):
    """Field changes (customer, item, quantity, unit price) from the audit history.

    Status moves are left out (they are events, with their reason), and so is the creation
    record of an order that has a ``created`` event (orders created before events were kept
    show their creation from the history instead).
    """

    prefix, at_field, key_field = "h", "history_date", "history_id"

    def rows(
        self, scope: _Scope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[_Row]:
        historical = Order.history.model
        if scope.order is not None:
            qs = historical.objects.filter(id=scope.order.pk)
        else:
            qs = historical.objects.filter(
                id__in=Order.objects.filter(customer=scope.customer).values("pk")
            )
        earlier = (
            historical.objects.filter(id=OuterRef("id"))
            .filter(
                Q(history_date__lt=OuterRef("history_date"))
                | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
            )
            .order_by("-history_date", "-history_id")
        )
        qs = (
            qs.annotate(
                prev_id=Subquery(earlier.values("history_id")[:1]),
                prev_status=Subquery(earlier.values("status")[:1]),
                has_created_event=Exists(
                    OrderEvent.objects.filter(order_id=OuterRef("id"), kind=OrderEventKind.CREATED)
                ),
            )
            .exclude(history_type="-")
            .exclude(history_type="+", has_created_event=True)
            # A record whose status differs from the one before is a move (an event already).
            .exclude(Q(history_type="~", prev_status__isnull=False) & ~Q(status=F("prev_status")))
            .select_related("history_user")
        )
        records = list(self.keyset(qs, cursor, descending)[:limit])
        previous = historical.objects.in_bulk([r.prev_id for r in records if r.prev_id])
        names = _Names(records, previous.values())
        return [
            _Row(
                r.history_date,
                f"h:{r.history_id:019d}",
                _history_entry(r, previous.get(r.prev_id), names),
            )
            for r in records
        ]


class _Names:
    """Customer and item labels for the ids a page of changes mentions (two queries at most)."""

    def __init__(self, records: Iterable[Any], previous: Iterable[Any]) -> None:
        self.records = [*records, *previous]
        self._customers: dict[int, str] | None = None
        self._items: dict[int, str] | None = None

    def customer(self, pk: int | None) -> str:
        if self._customers is None:
            ids = {r.customer_id for r in self.records}
            self._customers = {
                c.pk: f"{c.full_name} ({c.phone_number})"
                for c in Customer.objects.filter(pk__in=ids)
            }
        return self._customers.get(pk, f"#{pk}") if pk is not None else "—"

    def item(self, pk: int | None) -> str:
        if self._items is None:
            ids = {r.item_id for r in self.records}
            self._items = {i.pk: str(i) for i in Item.objects.filter(pk__in=ids)}
        return self._items.get(pk, f"#{pk}") if pk is not None else "—"


def _history_entry(record: Any, previous: Any, names: _Names) -> Callable[[], TimelineEntry | None]:
    def show(name: str, value: Any) -> str:
        if name == "customer_id":
            return names.customer(value)
        if name == "item_id":
            return names.item(value)
        if name == "unit_price" and value is not None:
            return format_money(Decimal(value))
        return str(value)

    channel = record.history_channel

    def entry(kind: str, summary: str, details: dict[str, Any]) -> TimelineEntry:
        return TimelineEntry(
            key=f"h:{record.history_id:019d}",
            kind=kind,
            at=record.history_date,
            actor=actor_label(record.history_user, channel),
            channel=channel,
            order_uuid=record.uuid,
            order_number=record.number,
            order_pk=record.id,
            summary=summary,
            details=details,
        )

    def build() -> TimelineEntry | None:
        if record.history_type == "+":
            source = f" ({record.history_change_reason})" if record.history_change_reason else ""
            return entry("created", f"Order created through {channel_label(channel)}{source}", {})
        if previous is None:
            return None
        changes = [
            {
                "field": FIELD_LABELS[name],
                "from": show(name, getattr(previous, name)),
                "to": show(name, getattr(record, name)),
            }
            for name in CHANGE_FIELDS
            if getattr(previous, name) != getattr(record, name)
        ]
        if not changes:
            return None
        return entry(
            "change",
            "; ".join(f"{c['field']} {c['from']} → {c['to']}" for c in changes),
            {"changes": changes},
        )

    return build


class _Sms(_Source):
    prefix, at_field, key_field = "s", "date_created", "uuid"

    def rows(
        self, scope: _Scope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[_Row]:
        qs = SmsMessage.objects.filter(scope.orders_filter()).select_related(
            "requested_by", "order"
        )
        messages = list(self.keyset(qs, cursor, descending)[:limit])
        return [_Row(m.date_created, f"s:{m.uuid.hex}", _sms_entry(m)) for m in messages]


def _sms_entry(message: SmsMessage) -> Callable[[], TimelineEntry]:
    def build() -> TimelineEntry:
        reason = f" — {message.error}" if message.error else ""
        return TimelineEntry(
            key=f"s:{message.uuid.hex}",
            kind="sms",
            at=message.date_created,
            actor=actor_label(message.requested_by, message.channel),
            channel=message.channel,
            order_uuid=message.order.uuid,
            order_number=message.order.number,
            order_pk=message.order_id,
            summary=(
                f"SMS {message.get_kind_display()} to {message.phone}: {message.status}{reason}"
            ),
            details={
                "id": str(message.uuid),
                "kind": message.kind,
                "status": message.status,
                "phone": message.phone,
                "text": message.text,
                "attempts": message.attempts,
                "sent_at": message.sent_at,
                "delivered_at": message.delivered_at,
                "provider_status_code": message.provider_status_code or None,
                "error": message.error or None,
            },
        )

    return build


SOURCES: tuple[_Source, ...] = (_Events(), _History(), _Sms())


# --- the merge ----------------------------------------------------------------------------------


def _timeline(
    scope: _Scope, *, page_size: int, cursor: Cursor | None, reverse: bool
) -> TimelinePage:
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    descending = not reverse
    limit = size + 1
    rows: list[_Row] = []
    boundary: _Row | None = None

    def order_key(row: _Row) -> tuple[dt.datetime, str]:
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

    consumed: list[_Row] = []
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
    return _timeline(_Scope(order=order), page_size=page_size, cursor=cursor, reverse=reverse)


def customer_timeline(
    *,
    customer: Customer,
    page_size: int = 50,
    cursor: Cursor | None = None,
    reverse: bool = False,
) -> TimelinePage:
    """The same timeline across all of ``customer``'s orders."""
    return _timeline(_Scope(customer=customer), page_size=page_size, cursor=cursor, reverse=reverse)


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
    "Cursor",
    "InvalidCursorError",
    "TimelineEntry",
    "TimelinePage",
    "customer_timeline",
    "order_timeline",
    "timeline_cursor_decode",
    "timeline_cursor_encode",
    "timeline_jsonable",
]
