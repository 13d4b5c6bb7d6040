"""Who asked for a write: services take an ``actor`` and record it (history, SMS, events)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

#: A signed-in person or service account, an anonymous request, or ``None`` for the system
#: (management commands, the worker).
Actor = AbstractBaseUser | AnonymousUser | None


def actor_user(actor: Actor) -> AbstractBaseUser | None:
    """The user to write into a record's "who" column: ``None`` unless authenticated."""
    if actor is not None and actor.is_authenticated:
        return actor  # AnonymousUser.is_authenticated is Literal[False]: narrowed away
    return None
