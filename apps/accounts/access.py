"""Who may use the back office: one rule for the admin and for /v1, however a user signed in.

People need an active account with the staff flag (SSO keeps the flag in step with the IdP's
groups at every sign-in and with every bearer token that carries the groups claim). Machine
clients (a ``ServiceAccount``'s user) are never staff: they need an active account and reach
/v1 only, with bearer tokens.

The rule is applied at three points: the bearer backend (a 401 naming the reason), the DRF
permission every /v1 view checks first (``permissions.BackOfficeAccess``, whatever
authenticated the request), and :class:`~apps.accounts.middleware.SessionAccessMiddleware`,
which ends the session of a user who no longer passes it at their next request, in the admin as
on /v1.
"""

from __future__ import annotations

from typing import Any

from .models import ServiceAccount


def is_service_account(user: Any) -> bool:
    """Whether ``user`` is a machine client's (one query unless it is known not to be)."""
    if user.pk is None or user.is_staff or user.is_superuser:
        return False
    return ServiceAccount.objects.filter(user_id=user.pk).exists()


def access_refusal(user: Any, *, machines: bool) -> str | None:
    """Why ``user`` may not use the back office now, or None when they may.

    ``machines``: whether a service account is welcome (bearer tokens on /v1: yes; sessions: no).
    """
    if not user.is_active:
        return "User is inactive."
    if user.is_staff:
        return None
    if machines and is_service_account(user):
        return None
    return "User has no staff access."
