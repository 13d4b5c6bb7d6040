"""The audit trail: every history record says who made the change and through which channel.

django-simple-history writes a historical row in the write's own transaction (its ``post_save``
and ``post_delete`` receivers; ``versions.versioned_update`` sends ``post_save`` itself). The
service that writes says who and how, explicitly, just before the write::

    audit_stamp(order, actor=actor, channel=channel)
    model_update(instance=order, ...)

The historical row then carries ``history_user`` (the actor; empty for the system actor),
``history_channel`` (``actors.Channel``) and ``history_change_reason`` (optional words: the file
of an import). Nothing reads the current request: simple-history's request middleware is not
installed, and a history row written without a stamp raises :class:`MissingAuditStamp` — a write
path that forgot to say who it is fails in tests instead of recording nobody.

The stamp is used once: the historical row takes it off the instance, so a second write of the
same instance needs its own stamp. Writers that insert historical rows in bulk (the spreadsheet
writers) fill the same three columns themselves.
"""

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.dispatch import receiver
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from .actors import Actor, Channel, actor_user

_STAMP = "_audit_stamp"


class MissingAuditStamp(RuntimeError):
    """A history-tracked model was written without ``audit_stamp``: a programming error."""


@dataclass(frozen=True)
class AuditStamp:
    user_id: int | None
    channel: str
    reason: str


class AuditedHistory(models.Model):
    """The columns every historical model adds to simple-history's own (``bases=``)."""

    history_channel = models.CharField(
        "channel", max_length=16, choices=Channel.choices, default=Channel.SYSTEM
    )

    class Meta:
        abstract = True


def audit_stamp(instance: models.Model, *, actor: Actor, channel: str, reason: str = "") -> None:
    """Say who writes ``instance`` next and through which channel (see the module docstring)."""
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    user = actor_user(actor)
    # simple-history's documented attributes for the author and the reason of a change.
    instance._history_user = user  # type: ignore[attr-defined]  # read by simple-history
    instance._change_reason = reason or None  # type: ignore[attr-defined]  # read by simple-history
    setattr(instance, _STAMP, AuditStamp(user.pk if user else None, channel, reason))


@receiver(pre_create_historical_record)
def _write_channel(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    stamp: AuditStamp | None = getattr(instance, _STAMP, None)
    if stamp is None:
        raise MissingAuditStamp(
            f"{type(instance).__name__} {instance.pk} written without audit_stamp(): "
            "say who writes it and through which channel"
        )
    history_instance.history_channel = stamp.channel


@receiver(post_create_historical_record)
def _use_stamp_once(sender: Any, instance: Any, **kwargs: Any) -> None:
    for name in (_STAMP, "_history_user", "_change_reason"):
        instance.__dict__.pop(name, None)
