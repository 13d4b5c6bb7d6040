"""DRF authentication for `/v1`: OIDC bearer access tokens from the staff IdP.

The class is listed first in ``DEFAULT_AUTHENTICATION_CLASSES``. Requests without an
``Authorization: Bearer`` header are left to the next class (or to the permission check, which
answers 401 with ``WWW-Authenticate: Bearer realm="api"``). Every rejected token is a 401 whose
``WWW-Authenticate`` header carries ``error="invalid_token"`` and the reason; an IdP that cannot be
reached when it is needed is a 503.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from mozilla_django_oidc.contrib.drf import OIDCAuthentication, get_oidc_backend
from rest_framework import exceptions
from rest_framework.request import Request

from .oidc import bearer_auth_configured

# Attribute set on the request when a token was refused, so the challenge can name the reason.
_FAILURE_ATTR = "_bearer_auth_failure"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "'")


class OIDCBearerAuthentication(OIDCAuthentication):
    www_authenticate_realm = "api"

    def __init__(self, backend: Any = None) -> None:
        # The backend is built on first use: importing this class (DRF does it at start-up) must
        # not need the IdP settings, so /v1 still answers when SSO is not configured.
        self._backend = backend

    @property
    def backend(self) -> Any:
        if self._backend is None:
            self._backend = get_oidc_backend()
        return self._backend

    @backend.setter
    def backend(self, value: Any) -> None:
        self._backend = value

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, str] | None:
        try:
            access_token = self.get_access_token(request)
            if not access_token:
                return None
            if not bearer_auth_configured():
                raise exceptions.AuthenticationFailed(
                    "Bearer tokens are not accepted: no identity provider is configured."
                )
            user = self.backend.get_or_create_user(access_token, None, None)
        except exceptions.AuthenticationFailed as exc:
            setattr(request, _FAILURE_ATTR, str(exc.detail))
            raise
        if user is None:  # pragma: no cover - the backend raises with a reason instead
            setattr(request, _FAILURE_ATTR, "unknown subject")
            raise exceptions.AuthenticationFailed("Token subject is not a provisioned user.")
        return user, access_token

    def authenticate_header(self, request: Request) -> str:
        challenge = f'Bearer realm="{self.www_authenticate_realm}"'
        reason = getattr(request, _FAILURE_ATTR, None)
        if reason is None:
            # DRF wraps the Django request; the failure is recorded on whichever we were given.
            reason = getattr(getattr(request, "_request", None), _FAILURE_ATTR, None)
        if reason:
            challenge += f', error="invalid_token", error_description="{_quote(reason)}"'
        return challenge


class OIDCBearerScheme(OpenApiAuthenticationExtension):
    """Documents the bearer authentication class as an HTTP bearer (JWT access token) scheme."""

    target_class = "apps.accounts.authentication.OIDCBearerAuthentication"
    name = "oidcBearer"
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from the company identity provider.",
        }
