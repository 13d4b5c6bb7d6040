from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.actors import Actor, Channel, actor_user
from apps.core.services import model_delete, model_full_save, model_update
from apps.core.text import text_fields_check
from apps.core.versions import lock_version
from apps.customers.models import Customer
from apps.customers.services import customer_lock
from apps.items.models import Item
from apps.notifications.models import SmsMessage
from apps.notifications.services import (
    SmsError,
    sms_queue,
    sms_queue_bulk,
    sms_resend,
    sms_resend_bulk,
)
from apps.notifications.subjects import SmsDraft

from .models import Order, OrderEvent, OrderEventKind, OrderStatus
from .rules import (
    DuplicateExternalReferenceError,
    OrderLockedError,
    order_fields_locked,
    order_locked_message,
    order_note_clean,
    order_quantity_clean,
    order_unit_price,
)
from .sms import order_sms_draft, order_sms_drafts, order_sms_resend_kind, orders_with_relations
from .stats import customer_order_stats_refresh

#: What an order's update may change; the first three freeze once it is dispatched.
LOCKED_FIELDS = ("customer", "item", "quantity")
ORDER_UPDATE_FIELDS = (*LOCKED_FIELDS, "external_reference")


def _external_reference_free(value: Any, *, order: Order | None = None) -> str:
    """The reference, stripped; ``DuplicateExternalReferenceError`` when another order has it."""
    reference = str(value or "").strip()
    text_fields_check(external_reference=reference)
    if reference:
        others = Order.objects.filter(external_reference=reference)
        if order is not None:
            others = others.exclude(pk=order.pk)
        existing = others.values_list("number", flat=True).first()
        if existing is not None:
            raise DuplicateExternalReferenceError(reference=reference, number=existing)
    return reference


def _quantity(value: Any) -> int:
    try:
        return order_quantity_clean(value)
    except ValueError as exc:
        raise ValidationError({"quantity": str(exc)}) from None


@transaction.atomic
def order_create(
    *,
    customer: Customer,
    item: Item,
    quantity: int,
    uuid: UUID | None = None,
    external_reference: str | None = None,
    date_created: datetime | None = None,
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
    send_confirmation: bool = True,
) -> Order:
    """Create an order (status ``placed``), snapshotting the item's current price.

    Later changes to the item's price never change this order's total. The ``created`` event
    (who, through which path) is written in the same transaction (imported orders, written in
    bulk, show their creation from the audit history record written with them instead). With
    ``send_confirmation`` the SMS confirmation is queued too (if ``placed`` is in
    ``SMS_NOTIFY_STATUSES``; sent after commit, never if the order rolls back).
    """
    external_reference = _external_reference_free(external_reference)
    customer_lock(customer_ids=[customer.pk])
    order = Order(
        customer=customer,
        item=item,
        quantity=_quantity(quantity),
        unit_price=order_unit_price(item_price=item.price, item_changed=True),
        status=OrderStatus.PLACED,
        external_reference=external_reference,
    )
    if uuid is not None:
        order.uuid = uuid
    if date_created is not None:
        order.date_created = date_created
        order._history_date = date_created  # type: ignore[attr-defined]  # simple-history's documented override
    model_full_save(order, actor=actor, channel=channel)
    OrderEvent.objects.create(
        order=order,
        kind=OrderEventKind.CREATED,
        at=order.date_created,
        actor=actor_user(actor),
        channel=channel,
    )
    customer_order_stats_refresh(customer_ids=[customer.pk])
    if send_confirmation:
        order_sms_queue(order=order, status=OrderStatus.PLACED, actor=actor, channel=channel)
    return order


def order_sms_queue(*, order: Order, status: str, actor: Actor, channel: str) -> SmsMessage | None:
    """Queue the customer's message for ``order`` being ``status`` if ``SMS_NOTIFY_STATUSES``
    says that status notifies (``None`` otherwise): in the caller's transaction, sent on
    commit, through the cost guard (``notifications.services.sms_queue``)."""
    if status not in settings.SMS_NOTIFY_STATUSES:
        return None
    return sms_queue(
        draft=order_sms_draft(order=order, status=status), actor=actor, channel=channel
    )


def order_sms_confirmations_queue_bulk(
    *, orders: Sequence[Order], actor: Actor, channel: str
) -> int:
    """The confirmations of new orders written in bulk (imports): all or nothing under the cost
    guard (``SmsCapExceededError``); returns how many were queued."""
    return sms_queue_bulk(
        drafts=order_sms_drafts(orders, status=OrderStatus.PLACED), actor=actor, channel=channel
    )


class NothingToResendError(SmsError):
    """No message applies to the order's status (e.g. delivered without a delivery template)."""

    code = "nothing_to_resend"


def _resend_drafts(orders: Sequence[Order]) -> tuple[list[SmsDraft], list[Order]]:
    drafts: list[SmsDraft] = []
    skipped: list[Order] = []
    for order in orders_with_relations(orders):
        kind = order_sms_resend_kind(order.status)
        if kind is None:
            skipped.append(order)
        else:
            drafts.append(order_sms_draft(order=order, status=kind))
    return drafts, skipped


@transaction.atomic
def order_sms_resend(*, order: Order, actor: Actor, channel: str = Channel.SYSTEM) -> SmsMessage:
    """Send the customer the message of the order's current state again (``sms.RESEND_KINDS``):
    a new message, earlier ones left as they are; ``NothingToResendError`` when none applies."""
    drafts, _ = _resend_drafts([order])
    if not drafts:
        raise NothingToResendError(
            f"{order} is {order.status}: there is no message to send for that status."
        )
    return sms_resend(draft=drafts[0], actor=actor, channel=channel)


@dataclass
class ResendOutcome:
    queued: int
    #: Orders left out because no message applies to their status.
    skipped: list[Order]


@transaction.atomic
def order_sms_resend_many(
    *, orders: Iterable[Order], actor: Actor, channel: str = Channel.SYSTEM
) -> ResendOutcome:
    """``order_sms_resend`` for many orders with bulk inserts, all or nothing under the cost
    guard; orders whose status has no message are skipped and returned."""
    drafts, skipped = _resend_drafts(list(orders))
    queued = sms_resend_bulk(drafts=drafts, actor=actor, channel=channel) if drafts else 0
    return ResendOutcome(queued=queued, skipped=skipped)


def _locked_status(order: Order) -> str:
    """The order's committed status, its row locked until the transaction ends (a move and a
    change of the same order wait for each other instead of both passing their checks)."""
    return Order.objects.select_for_update().values_list("status", flat=True).get(pk=order.pk)


@transaction.atomic
def order_update(
    *,
    order: Order,
    data: Mapping[str, Any],
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
    expected_version: int | None = None,
) -> Order:
    """Change customer, item or quantity (the price follows ``order_unit_price``), or the
    external reference; with ``expected_version``, only if the order is still at that version.

    Customer, item and quantity are refused with ``OrderLockedError`` once the order is
    dispatched (``rules.LOCKED_STATUSES``); the external reference may change in any status.
    """
    data = dict(data)
    if "quantity" in data:
        data["quantity"] = _quantity(data["quantity"])
    if "external_reference" in data:
        data["external_reference"] = _external_reference_free(
            data["external_reference"], order=order
        )
    changes = {k: v for k, v in data.items() if getattr(order, k) != v}
    if changes:
        if expected_version is not None:
            lock_version(order, expected_version=expected_version)  # gone or stale: refused
        status = _locked_status(order)
        if order_fields_locked(status) and set(changes) & set(LOCKED_FIELDS):
            raise OrderLockedError(order_locked_message(number=order.number, status=status))
    new_item = data.get("item")
    if new_item is not None:
        data["unit_price"] = order_unit_price(
            item_price=new_item.price,
            item_changed=new_item.pk != order.item_id,
            current=order.unit_price,
        )
    customers = {order.customer_id, *([data["customer"].pk] if "customer" in data else [])}
    if changes:
        customer_lock(customer_ids=customers)
    order, changed = model_update(
        instance=order,
        fields=(*ORDER_UPDATE_FIELDS, "unit_price"),
        data=data,
        actor=actor,
        channel=channel,
        expected_version=expected_version,
    )
    if changed:
        customer_order_stats_refresh(customer_ids=customers)
    return order


@transaction.atomic
def order_delete(
    *,
    order: Order,
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
    expected_version: int | None = None,
) -> None:
    """Delete a placed or confirmed order (with ``expected_version``, only if the order is still
    at that version); a dispatched, delivered or cancelled one stays."""
    if expected_version is not None:
        lock_version(order, expected_version=expected_version)
    status = _locked_status(order)
    if order_fields_locked(status):
        raise OrderLockedError(f"Order {order.number} is {status}: it cannot be deleted any more.")
    customer_lock(customer_ids=[order.customer_id])
    model_delete(order, actor=actor, channel=channel)
    customer_order_stats_refresh(customer_ids=[order.customer_id])


@transaction.atomic
def order_note_add(
    *, order: Order, text: str, actor: Actor, channel: str = Channel.SYSTEM
) -> OrderEvent:
    """An internal note on the order (never sent to the customer), whatever its status."""
    try:
        cleaned = order_note_clean(text)
    except ValueError as exc:
        raise ValidationError({"text": str(exc)}) from None
    event = OrderEvent(
        order=order,
        kind=OrderEventKind.NOTE,
        actor=actor_user(actor),
        channel=channel,
        text=cleaned,
    )
    model_full_save(event, actor=actor, channel=channel)
    return event
