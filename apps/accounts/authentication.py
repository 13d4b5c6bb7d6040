"""DRF authentication for `/v1`: OIDC bearer access tokens from the staff IdP.

mozilla-django-oidc's DRF class reads the ``Authorization: Bearer`` header and asks the backend
(``OIDC_DRF_AUTH_BACKEND`` = ``apps.accounts.bearer.BearerTokenBackend``) for the user. The class
is listed first in ``DEFAULT_AUTHENTICATION_CLASSES``. Requests without a bearer header are left
to the next class (or to the permission check, which answers 401 with
``WWW-Authenticate: Bearer realm="api"``). Every rejected token is a 401 whose
``WWW-Authenticate`` header carries ``error="invalid_token"`` and the reason; an IdP that cannot
be reached when it is needed is a 503 with ``Retry-After``; too many unknown tokens from one
address is a 429 with ``Retry-After`` (``apps.accounts.bearer``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from mozilla_django_oidc.contrib.drf import OIDCAuthentication
from rest_framework import exceptions
from rest_framework.request import Request

# Attribute set on the request when a token was refused, so the challenge can name the reason.
_FAILURE_ATTR = "_bearer_auth_failure"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "'")


class OIDCBearerAuthentication(OIDCAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, str] | None:
        # The backend counts IdP calls per client address: it needs the request, which
        # mozilla's backends keep as ``self.request``.
        self.backend.request = request
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed as exc:
            setattr(request, _FAILURE_ATTR, str(exc.detail))
            raise

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
