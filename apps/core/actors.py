"""Who asked for a write, and through which channel.

Every service takes an ``actor`` and a ``channel`` and records both in the audit record it
writes in the same transaction (``audit.audit_stamp`` for history-tracked models; the actor and
channel columns of order events, SMS messages and spreadsheet jobs). ``actor=None`` is the named
system actor — the worker, a command run without ``--as``, housekeeping — and is shown as
"system (<channel>)", never as nobody.
"""

from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import models

#: A signed-in person or service account, an anonymous request, or ``None`` for the system.
Actor = AbstractBaseUser | AnonymousUser | None

SYSTEM_ACTOR_NAME = "system"


class Channel(models.TextChoices):
    """The way a write came in."""

    ADMIN = "admin", "admin"
    API = "api", "API"
    IMPORT = "import", "spreadsheet import"
    WORKER = "worker", "worker"
    COMMAND = "command", "command"
    SYSTEM = "system", "system"


def actor_user(actor: Actor) -> User | None:
    """The user to write into a record's "who" column: ``None`` unless authenticated.

    The project uses Django's own ``auth.User`` (``AUTH_USER_MODEL`` is not swapped), so an
    authenticated actor is one.
    """
    if actor is not None and actor.is_authenticated:
        return cast(User, actor)
    return None


def actor_label(user: AbstractBaseUser | None, channel: str = "") -> str:
    """How a record's author is shown: the person's name, or the named system actor with the
    channel it worked through ("system (worker)")."""
    if user is not None:
        full = user.get_full_name() if isinstance(user, User) else ""
        return full or user.get_username()
    return f"{SYSTEM_ACTOR_NAME} ({channel})" if channel else SYSTEM_ACTOR_NAME


def channel_label(channel: str) -> str:
    """ "the admin", "the API", "a spreadsheet import"…: a channel inside a sentence."""
    labels: dict[str, str] = {
        Channel.ADMIN: "the admin",
        Channel.API: "the API",
        Channel.IMPORT: "a spreadsheet import",
        Channel.WORKER: "the worker",
        Channel.COMMAND: "a command",
        Channel.SYSTEM: "the system",
    }
    return labels.get(channel, channel or "an unknown channel")
