"""The two ways a bearer token can fail that are not a plain 401: what the API answers."""

from __future__ import annotations

import math

from rest_framework import exceptions


class IdentityProviderUnavailable(exceptions.APIException):
    """The IdP was needed (keys, userinfo) and could not be reached: retry, don't sign in again."""

    status_code = 503
    default_detail = "The identity provider cannot be reached; try again shortly."
    default_code = "idp_unavailable"

    def __init__(self, *, retry_after: float = 5) -> None:
        super().__init__()
        self.wait = max(1, math.ceil(retry_after))  # DRF turns this into Retry-After


def invalid_token_error(reason: str) -> exceptions.AuthenticationFailed:
    """The 401 for a token we refuse; ``reason`` goes into ``WWW-Authenticate``."""
    return exceptions.AuthenticationFailed(reason, code="invalid_token")
