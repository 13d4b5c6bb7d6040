"""Who asked for a write: services take an ``actor`` and record it (history, SMS, events)."""

from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

#: A signed-in person or service account, an anonymous request, or ``None`` for the system
#: (management commands, the worker).
Actor = AbstractBaseUser | AnonymousUser | None


def actor_user(actor: Actor) -> User | None:
    """The user to write into a record's "who" column: ``None`` unless authenticated.

    The project uses Django's own ``auth.User`` (``AUTH_USER_MODEL`` is not swapped), so an
    authenticated actor is one.
    """
    if actor is not None and actor.is_authenticated:
        return cast(User, actor)
    return None
