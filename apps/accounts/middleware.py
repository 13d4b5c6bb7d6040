"""Sessions end when their user may no longer use the back office (``access``), and when their
sign-in is older than ``SIGN_IN_MAX_AGE_SECONDS``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse

from .access import access_refusal

logger = logging.getLogger(__name__)

#: Session key: when the session's user signed in (seconds since the epoch).
SIGNED_IN_AT_KEY = "signed_in_at"


def mark_signed_in_at(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver (every way of signing in): the sign-in's age starts now."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_KEY] = int(time.time())


def _sign_in_expired(session: Any) -> bool:
    """Whether the session's sign-in is older than ``SIGN_IN_MAX_AGE_SECONDS``. A session from
    before sign-ins were dated counts from now."""
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    now = int(time.time())
    if not isinstance(signed_in_at, int):
        session[SIGNED_IN_AT_KEY] = now
        return False
    return now - signed_in_at >= settings.SIGN_IN_MAX_AGE_SECONDS


class SessionAccessMiddleware:
    """End the session of a user who lost staff access or was deactivated, at its next request;
    and a sign-in older than ``SIGN_IN_MAX_AGE_SECONDS`` (a working day by default), so an SSO
    user goes back through the IdP, which re-reads their groups, at least that often.

    Listed after ``AuthenticationMiddleware`` and ``MessageMiddleware`` (a person is told why
    on the sign-in page). Django's backends already treat a deactivated user's session as
    anonymous (``user_can_authenticate``), but leave the session behind; a user whose staff flag
    was removed (in the admin, or by the IdP's groups at a sign-in or through a bearer token)
    would keep a working session until it expired. Requests without a session cookie cost
    nothing here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) is not None:
            user = request.user
            if not user.is_authenticated:
                logger.info("session of an unknown or deactivated user ended")
                session.flush()
            elif (refusal := access_refusal(user, machines=False)) is not None:
                logger.info("session of user %s ended: %s", user.pk, refusal)
                logout(request)
                messages.warning(request, f"You were signed out: {refusal}", fail_silently=True)
            elif _sign_in_expired(session):
                hours = settings.SIGN_IN_MAX_AGE_SECONDS / 3600
                age = f"{hours:g} hour" + ("" if hours == 1 else "s")
                logger.info("session of user %s ended: signed in over %s ago", user.pk, age)
                logout(request)
                messages.info(
                    request,
                    f"Your sign-in is over {age} old: please sign in again.",
                    fail_silently=True,
                )
        return self.get_response(request)
