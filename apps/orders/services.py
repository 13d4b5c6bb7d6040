from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.core.actors import Actor, actor_user
from apps.core.audit import channel_for_request
from apps.core.errors import StaleVersionError
from apps.core.services import model_full_save, model_update
from apps.core.versions import lock_version
from apps.customers.models import Customer
from apps.items.models import Item
from apps.notifications.services import sms_status_queue

from .models import Order, OrderEvent, OrderEventKind, OrderStatus
from .rules import (
    TRANSITION_PERMISSIONS,
    InvalidTransitionError,
    OrderLockedError,
    order_fields_locked,
    order_locked_message,
    order_note_clean,
    order_quantity_clean,
    order_status_clean,
    order_transition_allowed,
    order_transition_reason_clean,
    order_unit_price,
)

ORDER_UPDATE_FIELDS = ("customer", "item", "quantity")


def order_channel() -> str:
    """The path of the current write (``admin``, ``api``, ``system``…), as the audit history
    records it (``apps/core/audit.py``)."""
    return channel_for_request(getattr(HistoricalRecords.context, "request", None))


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
    date_created: datetime | None = None,
    actor: Actor = None,
    send_confirmation: bool = True,
) -> Order:
    """Create an order (status ``placed``), snapshotting the item's current price.

    Later changes to the item's price never change this order's total. The ``created`` event
    (who, through which path) is written in the same transaction (imported orders, written in
    bulk, show their creation from the audit history record written with them instead). With
    ``send_confirmation`` the SMS confirmation is queued too (if ``placed`` is in
    ``SMS_NOTIFY_STATUSES``; sent after commit, never if the order rolls back).
    """
    order = Order(
        customer=customer,
        item=item,
        quantity=_quantity(quantity),
        unit_price=order_unit_price(item_price=item.price, item_changed=True),
        status=OrderStatus.PLACED,
    )
    if uuid is not None:
        order.uuid = uuid
    if date_created is not None:
        order.date_created = date_created
    model_full_save(order)
    OrderEvent.objects.create(
        order=order,
        kind=OrderEventKind.CREATED,
        at=order.date_created,
        actor=actor_user(actor),
        channel=order_channel(),
    )
    if send_confirmation:
        sms_status_queue(order=order, status=OrderStatus.PLACED, actor=actor)
    return order


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
    expected_version: int | None = None,
) -> Order:
    """Change customer, item or quantity (the price follows ``order_unit_price``); with
    ``expected_version``, only if the order is still at that version.

    Refused with ``OrderLockedError`` once the order is dispatched (``rules.LOCKED_STATUSES``).
    """
    data = dict(data)
    if "quantity" in data:
        data["quantity"] = _quantity(data["quantity"])
    changes = {k: v for k, v in data.items() if getattr(order, k) != v}
    if changes:
        if expected_version is not None:
            lock_version(order, expected_version=expected_version)  # gone or stale: refused
        status = _locked_status(order)
        if order_fields_locked(status):
            raise OrderLockedError(order_locked_message(reference=order.reference, status=status))
    new_item = data.get("item")
    if new_item is not None:
        data["unit_price"] = order_unit_price(
            item_price=new_item.price,
            item_changed=new_item.pk != order.item_id,
            current=order.unit_price,
        )
    order, _ = model_update(
        instance=order,
        fields=(*ORDER_UPDATE_FIELDS, "unit_price"),
        data=data,
        expected_version=expected_version,
    )
    return order


@transaction.atomic
def order_delete(*, order: Order, actor: Actor = None, expected_version: int | None = None) -> None:
    """Delete a placed or confirmed order (with ``expected_version``, only if the order is still
    at that version); a dispatched, delivered or cancelled one stays."""
    if expected_version is not None:
        lock_version(order, expected_version=expected_version)
    status = _locked_status(order)
    if order_fields_locked(status):
        raise OrderLockedError(
            f"Order {order.reference} is {status}: it cannot be deleted any more."
        )
    order.delete()


# --- status workflow ------------------------------------------------------------------------


def _check_transition_permission(actor: Actor, to: str) -> None:
    permission = TRANSITION_PERMISSIONS.get(to)
    if actor is None or permission is None:
        return  # the system (commands, the worker); moves to ``placed`` are refused later
    if not actor.has_perm(permission):  # type: ignore[union-attr]  # AnonymousUser has it too
        raise PermissionDenied(f"You may not move orders to {to}.")


def _transition_arguments(to: Any, reason: str | None) -> tuple[str, str]:
    try:
        target = order_status_clean(to)
    except ValueError as exc:
        raise ValidationError({"to": str(exc)}) from None
    try:
        text = order_transition_reason_clean(to=target, reason=reason)
    except ValueError as exc:
        raise ValidationError({"reason": str(exc)}) from None
    return target, text


def _transition(
    *, order: Order, to: str, reason: str, actor: Actor, expected_version: int | None = None
) -> Order:
    if expected_version is not None:
        lock_version(order, expected_version=expected_version)
    locked = (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer", "item")
        .get(pk=order.pk)
    )
    current = locked.status
    if not order_transition_allowed(current, to):
        raise InvalidTransitionError(reference=locked.reference, current=current, to=to)
    now = timezone.now()
    user = actor_user(actor)
    if user is not None:
        locked._history_user = user  # type: ignore[attr-defined]  # read by simple-history
    model_update(
        instance=locked,
        fields=("status", "status_changed_at"),
        data={"status": to, "status_changed_at": now},
        expected_version=expected_version,
    )
    OrderEvent.objects.create(
        order=locked,
        kind=OrderEventKind.STATUS,
        at=now,
        actor=user,
        channel=order_channel(),
        from_status=current,
        to_status=to,
        text=reason,
    )
    sms_status_queue(order=locked, status=to, actor=actor)
    for name in ("status", "status_changed_at", "date_modified", "version"):
        setattr(order, name, getattr(locked, name))
    return order


@transaction.atomic
def order_transition(
    *,
    order: Order,
    to: str,
    actor: Actor,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Order:
    """Move ``order`` to status ``to`` if ``rules.TRANSITIONS`` allows it from its current status.

    The one way an order's status changes. The row is locked and its status re-read, so two
    concurrent moves cannot both pass the check. Records who, when, from, to and the reason
    (required to cancel) as an order event, and queues the customer's SMS for the new status
    (``SMS_NOTIFY_STATUSES``) in the same transaction. Raises ``ValidationError`` (unknown
    status, missing reason), ``PermissionDenied`` (the actor lacks the move's permission) or
    ``InvalidTransitionError`` (the move is not allowed from the current status); with
    ``expected_version`` (an ``If-Match``), ``StaleVersionError`` when the order is no longer at
    that version.
    """
    target, text = _transition_arguments(to, reason)
    _check_transition_permission(actor, target)
    return _transition(
        order=order, to=target, reason=text, actor=actor, expected_version=expected_version
    )


@dataclass
class TransitionOutcome:
    """What a bulk move did: the orders moved, the skipped ones by their status, and those left
    alone because they changed after the version the caller saw (``stale``)."""

    to: str
    moved: list[Order] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    stale: list[Order] = field(default_factory=list)

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())


@transaction.atomic
def order_transition_many(
    *,
    orders: Iterable[Order],
    to: str,
    actor: Actor,
    reason: str | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> TransitionOutcome:
    """``order_transition`` for each order that may make the move; the others are skipped and
    counted by their status. Orders are locked in primary-key order (no deadlock between two
    bulk moves); one savepoint per order. ``expected_versions`` (primary key → the version the
    caller's list showed) makes each move conditional on it: an order changed since is left
    alone (``outcome.stale``)."""
    target, text = _transition_arguments(to, reason)
    _check_transition_permission(actor, target)
    outcome = TransitionOutcome(to=target)
    versions = expected_versions or {}
    for order in sorted(orders, key=lambda o: o.pk):
        try:
            with transaction.atomic():
                moved = _transition(
                    order=order,
                    to=target,
                    reason=text,
                    actor=actor,
                    expected_version=versions.get(order.pk),
                )
        except InvalidTransitionError as exc:
            outcome.skipped[exc.current] += 1
        except StaleVersionError:
            outcome.stale.append(order)
        else:
            outcome.moved.append(moved)
    return outcome


@transaction.atomic
def order_note_add(*, order: Order, text: str, actor: Actor) -> OrderEvent:
    """An internal note on the order (never sent to the customer), whatever its status."""
    try:
        cleaned = order_note_clean(text)
    except ValueError as exc:
        raise ValidationError({"text": str(exc)}) from None
    event = OrderEvent(
        order=order,
        kind=OrderEventKind.NOTE,
        actor=actor_user(actor),
        channel=order_channel(),
        text=cleaned,
    )
    model_full_save(event)
    return event
