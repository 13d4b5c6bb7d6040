"""The SMS an order sends: which message for which status, its text, and the order as the
notifications app sees it (an ``SmsDraft``; notifications never imports orders).

- Moving to a status in ``SMS_NOTIFY_STATUSES`` queues that status's message (``placed``: the
  confirmation, ``SMS_CONFIRMATION_TEMPLATE``; the others ``SMS_TEMPLATE_<STATUS>``).
- A resend sends the message of the order's *current* state (:func:`order_sms_resend_kind`):
  the confirmation while placed or confirmed, the dispatch notice once dispatched, the delivery
  notice once delivered (only if its template is set), the cancellation notice once cancelled.
"""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.core.money import format_money
from apps.notifications.models import SmsKind
from apps.notifications.subjects import SmsDraft, SmsSubject

from .models import Order, OrderStatus

#: The kind of message each status sends.
STATUS_KINDS: Mapping[str, str] = {
    OrderStatus.PLACED: SmsKind.CONFIRMATION,
    OrderStatus.CONFIRMED: SmsKind.CONFIRMED,
    OrderStatus.DISPATCHED: SmsKind.DISPATCHED,
    OrderStatus.DELIVERED: SmsKind.DELIVERED,
    OrderStatus.CANCELLED: SmsKind.CANCELLED,
}
#: What a resend sends in each status (``None``: nothing applies).
RESEND_KINDS: Mapping[str, str] = {
    OrderStatus.PLACED: OrderStatus.PLACED,
    OrderStatus.CONFIRMED: OrderStatus.PLACED,
    OrderStatus.DISPATCHED: OrderStatus.DISPATCHED,
    OrderStatus.DELIVERED: OrderStatus.DELIVERED,
    OrderStatus.CANCELLED: OrderStatus.CANCELLED,
}

#: Example values of every field a template may use: the start-up check renders each template
#: with them (``checks.py``).
TEMPLATE_EXAMPLE = {
    "first_name": "Amina",
    "last_name": "Odhiambo",
    "number": 100234,
    "reference": 100234,
    "item": "Tee (M)",
    "item_name": "Tee",
    "size": "M",
    "quantity": 2,
    "total": "KES 200.00",
    "currency": "KES",
}


def order_sms_template(status: str) -> str:
    """The template of the message for ``status`` ("" when none is set)."""
    if status == OrderStatus.PLACED:
        return str(settings.SMS_CONFIRMATION_TEMPLATE)
    return str(settings.SMS_STATUS_TEMPLATES.get(status) or "")


def order_sms_values(*, order: Order) -> dict[str, Any]:
    """The fields every template may use (``TEMPLATE_EXAMPLE`` names them); ``reference`` is
    the number too, for templates written before orders had numbers."""
    customer, item = order.customer, order.item
    total = Decimal(order.unit_price) * order.quantity
    return {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "number": order.number,
        "reference": order.number,
        "item": str(item),
        "item_name": item.name,
        "size": item.size,
        "quantity": order.quantity,
        "total": format_money(total),
        "currency": settings.CURRENCY,
    }


def order_sms_text(*, order: Order, status: str) -> str:
    return order_sms_template(status).format_map(order_sms_values(order=order))


def order_sms_subject(order: Order) -> SmsSubject:
    return SmsSubject(pk=order.pk, label=str(order), phone=str(order.customer.phone_number))


def order_sms_draft(*, order: Order, status: str) -> SmsDraft:
    """The message telling the customer ``order`` is ``status`` (customer and item loaded)."""
    return SmsDraft(
        subject=order_sms_subject(order),
        kind=STATUS_KINDS[status],
        text=order_sms_text(order=order, status=status),
    )


def order_sms_resend_kind(status: str) -> str | None:
    """The status whose message a resend sends for an order in ``status``; ``None`` when no
    message applies (a status without a template)."""
    kind = RESEND_KINDS.get(status)
    if kind is None or not order_sms_template(kind).strip():
        return None
    return kind


def order_sms_resend_draft(order: Order) -> SmsDraft | None:
    """What "Resend SMS" sends for ``order`` now, or ``None``."""
    kind = order_sms_resend_kind(order.status)
    return order_sms_draft(order=order, status=kind) if kind is not None else None


def orders_with_relations(orders: Iterable[Order]) -> list[Order]:
    """The orders with customer and item loaded, fetching the missing ones in one query."""
    orders = list(orders)
    missing = [
        o.pk for o in orders if not (Order.customer.is_cached(o) and Order.item.is_cached(o))
    ]
    if missing:
        loaded = Order.objects.select_related("customer", "item").in_bulk(missing)
        orders = [loaded.get(o.pk, o) for o in orders]
    return orders


def order_sms_drafts(orders: Sequence[Order], *, status: str) -> list[SmsDraft]:
    return [order_sms_draft(order=o, status=status) for o in orders_with_relations(orders)]
