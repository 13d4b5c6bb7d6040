"""The audit trail: every history record says who made the change and through which channel.

django-simple-history writes a historical row in the write's own transaction (its ``post_save``
and ``post_delete`` receivers; ``versions.versioned_update`` sends ``post_save`` itself). The
service that writes says who and how, explicitly, just before the write::

    audit_stamp(order, actor=actor, channel=channel)
    model_update(instance=order, ...)

The historical row then carries ``history_user`` (the actor; empty for the system actor),
``history_channel`` (``actors.Channel``) and ``history_change_reason`` (optional words: the file
of an import). Nothing reads the current request: simple-history's request middleware is not
installed, and a save or delete of a history-tracked model without a stamp raises
:class:`MissingAuditStamp` before anything is written — a write path that forgot to say who it
is fails instead of recording nobody.

The stamp is used once: the historical row takes it off the instance, so a second write of the
same instance needs its own stamp. Writers that insert historical rows in bulk (the spreadsheet
writers) fill the same three columns themselves.
"""

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.signals import pre_delete, pre_save
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


def _require_stamp(instance: Any) -> None:
    if getattr(instance, _STAMP, None) is None:
        raise MissingAuditStamp(
            f"{type(instance).__name__} {instance.pk} written without audit_stamp(): "
            "say who writes it and through which channel"
        )


def _tracked(sender: Any) -> bool:
    return getattr(sender._meta, "simple_history_manager_attribute", None) is not None


@receiver(pre_save)
def _refuse_unstamped_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Before the row is written, not after: an unstamped save writes nothing."""
    if _tracked(sender) and not raw:
        _require_stamp(instance)


@receiver(pre_delete)
def _refuse_unstamped_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _tracked(sender):
        _require_stamp(instance)


@receiver(pre_create_historical_record)
def _write_channel(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    _require_stamp(instance)
    history_instance.history_channel = getattr(instance, _STAMP).channel


@receiver(post_create_historical_record)
def _use_stamp_once(sender: Any, instance: Any, **kwargs: Any) -> None:
    for name in (_STAMP, "_history_user", "_change_reason"):
        instance.__dict__.pop(name, None)
