"""The timeline's entries and where they come from (``timeline.py`` merges them into pages).

Four sources, each read with one keyset query per page: order events (``OrderEvent``: created
with its channel, status moves with their reason, notes), field changes (the order's
django-simple-history records, diffed against the record before), SMS messages (``SmsMessage``,
one entry per message with its current status) and, on a customer's timeline, the internal
notes on the customer (``CustomerNote``). Each row carries its time and a key unique across
sources (``e:<uuid>``, ``h:<history id>``, ``n:<uuid>``, ``s:<uuid>``) and builds its entry only
when the page shows it.
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
from apps.core.money import format_money
from apps.core.text import is_ascii_digits
from apps.customers.models import Customer, CustomerNote
from apps.items.models import Item
from apps.notifications.models import SmsMessage

from .models import Order, OrderEvent, OrderEventKind
from .rules import reason_text

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
    #: The order it is about; ``None`` for a note on the customer.
    order_uuid: uuid_module.UUID | None
    order_number: int | None
    order_pk: int | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


Cursor = tuple[dt.datetime, str]


def cursor_key_value(key: str) -> Any:
    """The value a cursor's key names in its source (a uuid, or a history record's id);
    ``ValueError`` for a key no source makes."""
    prefix, _, rest = key.partition(":")
    if prefix in ("e", "n", "s"):
        return uuid_module.UUID(hex=rest)
    if prefix == "h" and is_ascii_digits(rest) and len(rest) <= 19:
        return int(rest)
    raise ValueError(f"unknown key {key!r}")


# --- sources ----------------------------------------------------------------------------------


@dataclass
class SourceRow:
    at: dt.datetime
    key: str
    build: Callable[[], TimelineEntry | None]


class TimelineSource:
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
            after |= Q(**{self.at_field: at, f"{self.key_field}__{op}": cursor_key_value(key)})
        elif (self.prefix < prefix) == descending:
            after |= Q(**{self.at_field: at})  # every row of this source sorts after the key
        # The redundant range on the time column keeps the scan on its index.
        return qs.filter(**{f"{self.at_field}__{edge}": at}).filter(after)

    def rows(
        self, scope: TimelineScope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[SourceRow]:
        raise NotImplementedError


@dataclass(frozen=True)
class TimelineScope:
    order: Order | None = None
    customer: Customer | None = None

    def orders_filter(self, prefix: str = "order") -> Q:
        if self.order is not None:
            return Q(**{prefix: self.order.pk})
        return Q(**{f"{prefix}__customer": self.customer})


class _Events(TimelineSource):
    prefix, at_field, key_field = "e", "at", "uuid"

    def rows(
        self, scope: TimelineScope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[SourceRow]:
        qs = OrderEvent.objects.filter(scope.orders_filter()).select_related("actor", "order")
        events = list(self.keyset(qs, cursor, descending)[:limit])
        return [SourceRow(e.at, f"e:{e.uuid.hex}", _event_entry(e)) for e in events]


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
            why = reason_text(code=event.reason_code, words=event.text)
            reason = f": {why}" if why else ""
            return entry(
                "status",
                f"Status {event.from_status} → {event.to_status}{reason}",
                {
                    "from": event.from_status,
                    "to": event.to_status,
                    "reason": event.text or None,
                    "reason_code": event.reason_code or None,
                },
            )
        return entry("note", event.text, {"text": event.text})

    return build


class _History(TimelineSource):
    """Field changes (customer, item, quantity, unit price) from the audit history.

    Status moves are left out (they are events, with their reason), and so is the creation
    record of an order that has a ``created`` event (orders created before events were kept
    show their creation from the history instead).
    """

    prefix, at_field, key_field = "h", "history_date", "history_id"

    def rows(
        self, scope: TimelineScope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[SourceRow]:
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
            SourceRow(
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


class _Sms(TimelineSource):
    prefix, at_field, key_field = "s", "date_created", "uuid"

    def rows(
        self, scope: TimelineScope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[SourceRow]:
        qs = SmsMessage.objects.filter(scope.orders_filter()).select_related(
            "requested_by", "order"
        )
        messages = list(self.keyset(qs, cursor, descending)[:limit])
        return [SourceRow(m.date_created, f"s:{m.uuid.hex}", _sms_entry(m)) for m in messages]


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


class _CustomerNotes(TimelineSource):
    """Internal notes on the customer: in the customer's timeline only."""

    prefix, at_field, key_field = "n", "at", "uuid"

    def rows(
        self, scope: TimelineScope, cursor: Cursor | None, descending: bool, limit: int
    ) -> list[SourceRow]:
        if scope.customer is None:
            return []
        qs = CustomerNote.objects.filter(customer=scope.customer).select_related("actor")
        notes = list(self.keyset(qs, cursor, descending)[:limit])
        return [SourceRow(n.at, f"n:{n.uuid.hex}", _customer_note_entry(n)) for n in notes]


def _customer_note_entry(note: CustomerNote) -> Callable[[], TimelineEntry]:
    def build() -> TimelineEntry:
        return TimelineEntry(
            key=f"n:{note.uuid.hex}",
            kind="note",
            at=note.at,
            actor=actor_label(note.actor, note.channel),
            channel=note.channel,
            order_uuid=None,
            order_number=None,
            order_pk=None,
            summary=note.text,
            details={"text": note.text, "about": "customer"},
        )

    return build


SOURCES: tuple[TimelineSource, ...] = (_Events(), _History(), _CustomerNotes(), _Sms())
