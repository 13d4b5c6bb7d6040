"""Background tasks (django-tasks; the database backend runs them in ``manage.py db_worker``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django_tasks import task

from . import sending
from .models import SmsMessage


def _send(message_id: int) -> str:
    result = sending.sms_send(message_id=message_id)
    if result == "retry":
        due = (
            SmsMessage.objects.filter(pk=message_id)
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        enqueue_send([message_id], run_after=due)
    return result


if TYPE_CHECKING:
    from django_tasks.base import Task


@task()
def sms_send_task(message_id: int) -> str:
    return _send(message_id)


@task()
def sms_send_batch_task(message_ids: list[int]) -> dict[str, int]:
    """Send several messages in one task (bulk imports); each one is claimed on its own."""
    outcome: dict[str, int] = {}
    for message_id in message_ids:
        result = _send(message_id)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


def enqueue_send(message_ids: Sequence[int], *, run_after: datetime | None = None) -> None:
    """Enqueue the send of ``message_ids`` (one task, or one batch task for several).

    A backend that cannot defer (the immediate one, for local use) cannot hold a retry until
    its time: the message stays ``queued`` and ``manage.py sms_sweep`` enqueues it later.
    """
    ids = list(message_ids)
    if len(ids) == 1:
        t: Task[..., Any] = sms_send_task
        args: tuple = (ids[0],)
    else:
        t = sms_send_batch_task
        args = (ids,)
    can_defer = t.get_backend().supports_defer
    if run_after is not None:
        if not can_defer:
            return
        t = t.using(run_after=run_after)
    # The immediate backend runs the task inside this call: it must not see an open
    # transaction, or the claim would not be committed before the provider is called.
    if transaction.get_connection().in_atomic_block and not can_defer:
        transaction.on_commit(lambda: t.enqueue(*args))
        return
    t.enqueue(*args)
