"""Writing order events: the path of the current write, and ``created`` events in bulk.

Used by ``services.py`` and by the import's ``OrderSheet`` (``resources.py``), which writes new
orders in bulk and cannot import the services (they import it).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, cast

from simple_history.models import HistoricalRecords

from apps.core.actors import Actor, actor_user
from apps.core.audit import channel_for_request

from .models import OrderEvent, OrderEventKind

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def event_actor(actor: Actor) -> "User | None":
    """The user an event records (``None`` for the system or an anonymous request)."""
    # An authenticated actor is an instance of AUTH_USER_MODEL (auth.User); Actor is wider.
    return cast("User | None", actor_user(actor))


def order_channel() -> str:
    """The path of the current write (``admin``, ``api``, ``system``…), as the audit history
    records it (``apps/core/audit.py``)."""
    return channel_for_request(getattr(HistoricalRecords.context, "request", None))


def order_created_events_record(
    *, orders: Sequence[tuple[int, datetime]], actor: Actor, channel: str
) -> int:
    """``created`` events for orders written in bulk (``(pk, date_created)`` pairs), in the
    caller's transaction; returns how many."""
    user = event_actor(actor)
    created = OrderEvent.objects.bulk_create(
        [
            OrderEvent(order_id=pk, kind=OrderEventKind.CREATED, at=at, actor=user, channel=channel)
            for pk, at in orders
        ],
        batch_size=1000,
    )
    return len(created)
