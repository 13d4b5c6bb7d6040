"""Sessions end when their user may no longer use the back office (``access``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse

from .access import access_refusal

logger = logging.getLogger(__name__)


class SessionAccessMiddleware:
    """End the session of a user who lost staff access or was deactivated, at its next request.

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
        return self.get_response(request)
