"""What this process knows about the configured issuer, and its owner.

An :class:`IdentityProvider` holds the IdP client (back-off, calls in flight), the discovery
document and the signing keys of one issuer, and turns a token into claims: a JWT verified
locally, an opaque token through the userinfo endpoint (answers kept in the shared cache, calls
for unknown tokens capped per client address: ``unknown_tokens``). The accounts app config owns
an :class:`IdentityProviders` that builds it on first use and drops it when an ``OIDC_*``
setting changes (Django's ``setting_changed`` signal), so tests that override settings start
fresh and no module-level variable is mutated.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, cast

import jwt
from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from .idp_client import IdPClient
from .idp_documents import ALLOWED_ALGORITHMS, Discovery, SigningKeys
from .token_errors import invalid_token_error
from .unknown_tokens import (
    REFUSED,
    UnknownTokenThrottle,
    userinfo_cache_key,
    userinfo_cached,
    userinfo_keep,
)


class IdentityProvider:
    """What this process knows about one issuer: discovery, keys, back-off and calls in flight."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.client = IdPClient(
            connect_timeout=settings.OIDC_HTTP_CONNECT_TIMEOUT,
            read_timeout=settings.OIDC_HTTP_TIMEOUT,
            backoff=settings.OIDC_IDP_FAILURE_BACKOFF_SECONDS,
        )
        self.discovery = Discovery(
            issuer, self.client, lifespan=settings.OIDC_DISCOVERY_CACHE_SECONDS
        )
        self._keys: SigningKeys | None = None
        self._lock = threading.Lock()  # guards the creation of the key client, nothing else

    def signing_keys(self, jwks_endpoint: str | None = None) -> SigningKeys:
        keys = self._keys
        if keys is None:
            uri = self.discovery.endpoint("jwks_uri", jwks_endpoint)
            with self._lock:
                if self._keys is None:
                    try:
                        self._keys = SigningKeys(
                            uri,
                            client=self.client,
                            lifespan=settings.OIDC_JWKS_CACHE_SECONDS,
                            min_refresh=settings.OIDC_JWKS_MIN_REFRESH_SECONDS,
                        )
                    except jwt.PyJWKClientError as exc:
                        raise self.client.failed("unusable jwks_uri %r", uri) from exc
                keys = self._keys
        return keys

    def jwt_claims(self, token: str, *, jwks_endpoint: str | None = None) -> dict[str, Any]:
        """Verified claims of a JWT access token, or AuthenticationFailed naming the reason."""
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise invalid_token_error(f"Token algorithm {alg!r} is not accepted.")
        audience = settings.OIDC_API_AUDIENCE
        if not audience:
            raise invalid_token_error(
                "JWT access tokens are not accepted: no API audience is configured."
            )
        key = self.signing_keys(jwks_endpoint).get_signing_key(header.get("kid"))
        if key.algorithm_name != alg:
            raise invalid_token_error("Token algorithm does not match its key.")
        issuer = self.issuer.rstrip("/")
        try:
            return jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=audience,
                # Auth0 writes its issuer with a trailing slash, most others without.
                issuer=[issuer, issuer + "/"],
                leeway=settings.OIDC_API_LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise invalid_token_error("Token has expired.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise invalid_token_error("Token is not valid yet.") from exc
        except jwt.InvalidIssuerError as exc:
            raise invalid_token_error("Token was issued by another issuer.") from exc
        except jwt.InvalidAudienceError as exc:
            raise invalid_token_error("Token is not meant for this API (audience).") from exc
        except jwt.InvalidSignatureError as exc:
            raise invalid_token_error("Token signature is invalid.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise invalid_token_error(f"Token lacks the {exc.claim!r} claim.") from exc
        except jwt.PyJWTError as exc:
            raise invalid_token_error("Token is malformed.") from exc

    def userinfo_claims(
        self, token: str, *, request: HttpRequest | Request | None, endpoint: str | None = None
    ) -> tuple[dict[str, Any], datetime]:
        """Claims for an opaque token from the userinfo endpoint, and when they were fetched.

        Answers are cached under the token's hash for ``OIDC_USERINFO_CACHE_SECONDS``.
        """
        cached = userinfo_cached(token)
        if cached == REFUSED:
            raise invalid_token_error("Token was rejected by the identity provider.")
        if cached is not None:
            return cast(tuple[dict[str, Any], datetime], cached)
        # Only requests that would reach the IdP count: not those refused during a back-off,
        # nor those joining a call already in flight for the same token.
        if self.client.backoff.blocked():
            raise self.client.unavailable()
        flight_key = ("userinfo", userinfo_cache_key(token))
        if not self.client.flights.in_flight(flight_key):
            throttle = UnknownTokenThrottle()
            if not throttle.allow_request(cast(Request, request), None):
                raise exceptions.Throttled(
                    wait=throttle.wait(),
                    detail="Too many unknown tokens from this address; try again later.",
                )
        url = self.discovery.endpoint("userinfo_endpoint", endpoint)

        def ask() -> Any:
            status, claims = self.client.get_json(url, headers={"Authorization": f"Bearer {token}"})
            if status in (400, 401, 403):
                # Refusals are kept too: replaying a bad token does not reach the IdP again.
                userinfo_keep(token, REFUSED)
                return REFUSED
            if status != 200 or not isinstance(claims, dict):
                raise self.client.failed("userinfo answered %s without claims", status)
            answer = (claims, timezone.now())
            userinfo_keep(token, answer)
            return answer

        answer = self.client.flights.run(flight_key, ask, wait=self.client.longest_call)
        if answer == REFUSED:
            raise invalid_token_error("Token was rejected by the identity provider.")
        return cast(tuple[dict[str, Any], datetime], answer)


class IdentityProviders:
    """Owner of the configured issuer's :class:`IdentityProvider` (held by the app config)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: IdentityProvider | None = None

    def current(self) -> IdentityProvider | None:
        """The provider for ``OIDC_ISSUER``, built on first use; None while SSO is off."""
        issuer = settings.OIDC_ISSUER
        if not issuer:
            return None
        provider = self._current
        if provider is None or provider.issuer != issuer:
            with self._lock:
                provider = self._current
                if provider is None or provider.issuer != issuer:
                    provider = self._current = IdentityProvider(issuer)
        return provider

    def reset(self) -> None:
        """Forget everything learnt from the IdP (settings changed)."""
        with self._lock:
            self._current = None


def identity_providers() -> IdentityProviders:
    """The holder the accounts app made when it was ready (``AccountsConfig.ready``)."""
    holder = getattr(apps.get_app_config("accounts"), "identity_providers")  # noqa: B009
    return cast(IdentityProviders, holder)
