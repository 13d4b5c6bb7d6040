"""Bearer tokens for /v1: from an access token to a user, against the staff SSO's IdP.

mozilla-django-oidc's DRF class (``apps.accounts.authentication``) reads the ``Authorization``
header and hands the token to :class:`BearerTokenBackend`, its ``OIDCAuthenticationBackend``
subclass, whose claims-to-user steps do the work. The parts, in the order a request meets them,
each in its own module:

- ``identity_provider``: what this process knows about the issuer (owned by the accounts app
  config), turning a token into claims: a JWT verified locally with the signing keys, an opaque
  token through the userinfo endpoint;
- ``idp_client``: the one way out to the IdP (split timeouts, failure back-off, shared calls);
- ``idp_documents``: the discovery document and the signing keys, kept and refreshed;
- ``unknown_tokens``: userinfo answers kept in the shared cache, and the per-address cap on IdP
  calls for tokens not in it;
- ``provisioning``: the token's subject is an SSO person (allauth ``SocialAccount`` uid) or a
  ``ServiceAccount``, never matched by email;
- ``access``: the one rule for who may use the back office (active staff, or an active service
  account on the API); people's flags and groups follow the token's groups claim first, unless a
  newer view of them was applied already (``ClaimsState``: an old token cannot undo a change).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import jwt
from django.conf import settings
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from rest_framework import exceptions
from rest_framework.request import Request

from .access import access_refusal
from .identity_provider import identity_providers
from .provisioning import issued_at, provisioned_user
from .services import user_claims_applied, user_sync_from_claims
from .token_errors import invalid_token_error

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


def looks_like_jwt(token: str) -> bool:
    if token.count(".") != 2:
        return False
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return isinstance(header, dict) and "alg" in header


class BearerTokenBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend for its DRF class; sessions belong to allauth.

    Its constructor reads the endpoint and client settings (empty endpoints = from discovery);
    the claims-to-user steps below are the parent's, done our way: claims from a locally
    verified JWT or the cached userinfo answer, users found by subject and never created, claims
    synced. The DRF class hands over the request (``self.request``, as mozilla's own
    ``authenticate`` keeps it) for the unknown-token limit.
    """

    # What one authentication learns along the way (mozilla's DRF class builds a backend for
    # each request): the request, for the unknown-token limit; when the IdP said what
    # get_userinfo returned (a JWT's iat, a userinfo answer's fetch time); which kind of user
    # filter_users_by_claims found.
    request: HttpRequest | Request | None = None
    claims_as_of: datetime | None = None
    service_account: bool = False

    def authenticate(self, request: Any, **kwargs: Any) -> None:
        return None  # never a session login backend

    def get_userinfo(self, access_token: str, id_token: Any, payload: Any) -> dict[str, Any]:
        self.claims_as_of = None
        provider = identity_providers().current()
        if provider is None:
            # Not a judgement on the token: the plain authentication_failed code.
            raise exceptions.AuthenticationFailed(
                "Bearer tokens are not accepted: no identity provider is configured."
            )
        if looks_like_jwt(access_token):
            claims = provider.jwt_claims(access_token, jwks_endpoint=self.OIDC_OP_JWKS_ENDPOINT)
            self.claims_as_of = issued_at(claims)
            return claims
        if access_token.count(".") == 2:
            raise invalid_token_error("Token is malformed.")
        if not settings.OIDC_API_ACCEPT_OPAQUE_TOKENS:
            raise invalid_token_error("Token is not a JWT access token.")
        claims, self.claims_as_of = provider.userinfo_claims(
            access_token, request=self.request, endpoint=self.OIDC_OP_USER_ENDPOINT
        )
        return claims

    def verify_claims(self, claims: Mapping[str, Any]) -> bool:
        subject = claims.get(settings.OIDC_SUBJECT_CLAIM)
        if not isinstance(subject, str) or not subject:
            raise invalid_token_error(f"Token has no {settings.OIDC_SUBJECT_CLAIM!r} claim.")
        return True

    def filter_users_by_claims(self, claims: Mapping[str, Any]) -> list[AbstractUser]:
        found = provisioned_user(
            claims[settings.OIDC_SUBJECT_CLAIM],
            claims_state=settings.OIDC_GROUPS_CLAIM in claims,
        )
        if found is None:
            return []
        user, self.service_account = found
        return [user]

    def update_user(self, user: AbstractUser, claims: Mapping[str, Any]) -> AbstractUser:
        """Access follows the person: staff and groups as the token says now, then the one
        access rule (``access``): active staff, or an active service account."""
        if not user.is_active:
            raise invalid_token_error("User is inactive.")
        if self.service_account:
            return user  # machine clients are never staff; their groups are set in the admin
        as_of = self.claims_as_of
        if (
            settings.OIDC_GROUPS_CLAIM in claims
            and as_of is not None
            and not user_claims_applied(user=user, claims=claims, as_of=as_of)
        ):
            user = user_sync_from_claims(user=user, claims=claims, as_of=as_of)
        refusal = access_refusal(user, machines=False)
        if refusal is not None:
            raise invalid_token_error(refusal)
        return user

    def create_user(self, claims: Mapping[str, Any]) -> AbstractUser:
        raise invalid_token_error("Token subject is not a provisioned user of this application.")

    def get_or_create_user(self, access_token: str, id_token: Any, payload: Any) -> AbstractUser:
        claims = self.get_userinfo(access_token, id_token, payload)
        self.verify_claims(claims)
        users = self.filter_users_by_claims(claims)
        if not users:
            return self.create_user(claims)
        return self.update_user(users[0], claims)
