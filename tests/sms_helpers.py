"""The order SMS services as the tests call them most: one order, the system actor."""

from collections.abc import Sequence
from typing import Any

from apps.core.actors import Actor, Channel
from apps.notifications.models import SmsMessage
from apps.notifications.services import sms_caps_check as _caps_check
from apps.notifications.services import sms_queue
from apps.orders.models import Order
from apps.orders.services import (
    order_sms_confirmations_queue_bulk,
    order_sms_queue,
    order_sms_resend,
    order_sms_resend_many,
)
from apps.orders.sms import (
    order_sms_draft,
    order_sms_subject,
    order_sms_text,
    orders_with_relations,
)


def sms_confirmation_queue(*, order: Order, actor: Actor = None) -> SmsMessage:
    """The order's confirmation, queued whatever ``SMS_NOTIFY_STATUSES`` says."""
    [order] = orders_with_relations([order])
    return sms_queue(draft=order_sms_draft(order=order, status="placed"), actor=actor)


def sms_confirmation_text(*, order: Order) -> str:
    return order_sms_text(order=order, status="placed")


def sms_status_queue(*, order: Order, status: str) -> SmsMessage | None:
    return order_sms_queue(order=order, status=status, actor=None, channel=Channel.SYSTEM)


def sms_status_text(*, order: Order, status: str) -> str:
    return order_sms_text(order=order, status=status)


def sms_resend(*, order: Order, actor: Actor) -> SmsMessage:
    return order_sms_resend(order=order, actor=actor, channel=Channel.ADMIN)


def sms_resend_bulk(*, orders: Sequence[Order], actor: Actor) -> int:
    return order_sms_resend_many(orders=orders, actor=actor, channel=Channel.ADMIN).queued


def sms_confirmations_queue_bulk(*, orders: Sequence[Order]) -> int:
    return order_sms_confirmations_queue_bulk(
        orders=list(orders), actor=None, channel=Channel.SYSTEM
    )


def sms_caps_check(*, orders: Sequence[Order], actor: Actor = None, resend: bool = False) -> Any:
    subjects = [order_sms_subject(o) for o in orders_with_relations(orders)]
    return _caps_check(subjects=subjects, actor=actor, resend=resend)
