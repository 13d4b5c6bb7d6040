"""The status workflow: the one way an order's status changes (``order_transition``), checked
before any order is touched (``order_transition_check``), and in bulk (``order_transition_many``).

The moves themselves, their permissions and their wording are the move table (``moves.py``); what
each status allows is ``rules.py``.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor, Channel, actor_user
from apps.core.errors import StaleVersionError
from apps.core.services import model_update
from apps.core.versions import lock_version
from apps.customers.services import customer_lock

from .models import Order, OrderEvent, OrderEventKind, OrderStatus
from .rules import (
    REVENUE_EXCLUDED,
    TRANSITION_PERMISSIONS,
    CancelReasonError,
    InvalidTransitionError,
    order_status_clean,
    order_transition_allowed,
    order_transition_reason_clean,
)
from .services import order_sms_queue
from .stats import customer_order_stats_refresh


def _check_transition_permission(actor: Actor, to: str) -> None:
    permission = TRANSITION_PERMISSIONS.get(to)
    if actor is None or permission is None:
        return  # the system (commands, the worker); moves to ``placed`` are refused later
    if not actor.has_perm(permission):  # type: ignore[union-attr]  # AnonymousUser has it too
        raise PermissionDenied(f"You may not move orders to {to}.")


def order_transition_check(
    *, to: Any, reason: str | None, actor: Actor, reason_code: str | None = None
) -> tuple[str, str, str]:
    """The target status, the reason code and the reason's words of a move, checked before any
    order is touched: the status exists, the reason is there when needed (a cancellation's code,
    ``rules.order_transition_reason_clean``), the actor holds the move's permission."""
    target, code, text = _transition_arguments(to, reason, reason_code)
    _check_transition_permission(actor, target)
    return target, code, text


def _transition_arguments(
    to: Any, reason: str | None, reason_code: str | None
) -> tuple[str, str, str]:
    try:
        target = order_status_clean(to)
    except ValueError as exc:
        raise ValidationError({"to": str(exc)}) from None
    try:
        code, text = order_transition_reason_clean(
            to=target, reason=reason, reason_code=reason_code
        )
    except CancelReasonError as exc:
        raise ValidationError({exc.field: str(exc)}) from None
    return target, code, text


def _transition(
    *,
    order: Order,
    to: str,
    reason: str,
    reason_code: str,
    actor: Actor,
    channel: str,
    expected_version: int | None = None,
    at: datetime | None = None,
    notify: bool = True,
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
        raise InvalidTransitionError(number=locked.number, current=current, to=to)
    now = at or timezone.now()
    if at is not None:
        locked._history_date = at  # type: ignore[attr-defined]  # simple-history's documented override
    data: dict[str, Any] = {"status": to, "status_changed_at": now}
    if to == OrderStatus.CANCELLED:
        data.update(cancel_reason=reason_code, cancel_reason_text=reason)
    model_update(
        instance=locked,
        fields=("status", "status_changed_at", "cancel_reason", "cancel_reason_text"),
        data=data,
        actor=actor,
        channel=channel,
        expected_version=expected_version,
        reason=reason,
    )
    OrderEvent.objects.create(
        order=locked,
        kind=OrderEventKind.STATUS,
        at=now,
        actor=actor_user(actor),
        channel=channel,
        from_status=current,
        to_status=to,
        reason_code=reason_code,
        text=reason,
    )
    if to in REVENUE_EXCLUDED:
        customer_lock(customer_ids=[locked.customer_id])
        customer_order_stats_refresh(customer_ids=[locked.customer_id])
    if notify:
        order_sms_queue(order=locked, status=to, actor=actor, channel=channel)
    for name in (*data, "date_modified", "version"):
        setattr(order, name, getattr(locked, name))
    return order


@transaction.atomic
def order_transition(
    *,
    order: Order,
    to: str,
    actor: Actor,
    channel: str = Channel.SYSTEM,
    reason: str | None = None,
    reason_code: str | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
    notify: bool = True,
) -> Order:
    """Move ``order`` to status ``to`` if ``rules.TRANSITIONS`` allows it from its current status.

    The one way an order's status changes. The row is locked and its status re-read, so two
    concurrent moves cannot both pass the check. Records who, when, from, to and the reason as
    an order event, and queues the customer's SMS for the new status (``SMS_NOTIFY_STATUSES``)
    in the same transaction. A cancellation needs ``reason_code`` (one of
    ``rules.cancel_reasons()``; "other" with words in ``reason``; words alone count as "other"),
    stored on the order too (``cancel_reason``, ``cancel_reason_text``). Raises
    ``ValidationError`` (unknown status, missing or unknown reason), ``PermissionDenied`` (the
    actor lacks the move's permission) or
    ``InvalidTransitionError`` (the move is not allowed from the current status); with
    ``expected_version`` (an ``If-Match``), ``StaleVersionError`` when the order is no longer at
    that version.

    ``at`` back-dates a move that happened earlier (the demo data's history: its event, status
    time and audit record); ``notify=False`` records it without texting the customer.
    """
    target, code, text = order_transition_check(
        to=to, reason=reason, reason_code=reason_code, actor=actor
    )
    return _transition(
        order=order,
        to=target,
        reason=text,
        reason_code=code,
        actor=actor,
        channel=channel,
        expected_version=expected_version,
        at=at,
        notify=notify,
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
    channel: str = Channel.SYSTEM,
    reason: str | None = None,
    reason_code: str | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> TransitionOutcome:
    """``order_transition`` for each order that may make the move; the others are skipped and
    counted by their status. Orders are locked in primary-key order (no deadlock between two
    bulk moves); one savepoint per order. ``expected_versions`` (primary key → the version the
    caller's list showed) makes each move conditional on it: an order changed since is left
    alone (``outcome.stale``)."""
    target, code, text = order_transition_check(
        to=to, reason=reason, reason_code=reason_code, actor=actor
    )
    outcome = TransitionOutcome(to=target)
    versions = expected_versions or {}
    for order in sorted(orders, key=lambda o: o.pk):
        try:
            with transaction.atomic():
                moved = _transition(
                    order=order,
                    to=target,
                    reason=text,
                    reason_code=code,
                    actor=actor,
                    channel=channel,
                    expected_version=versions.get(order.pk),
                )
        except InvalidTransitionError as exc:
            outcome.skipped[exc.current] += 1
        except StaleVersionError:
            outcome.stale.append(order)
        else:
            outcome.moved.append(moved)
    return outcome
