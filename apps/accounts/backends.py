from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.conf import settings
from django.http import HttpRequest


class AccountBackend(AuthenticationBackend):
    """allauth's backend (sessions, permissions) with password login behind LOCAL_LOGIN_ENABLED.

    Hiding the form is not enough: with the switch off a posted username and password must not
    authenticate either. SSO logins don't come through ``authenticate`` and are unaffected.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> Any:
        if not settings.LOCAL_LOGIN_ENABLED:
            return None
        return super().authenticate(request, **credentials)
