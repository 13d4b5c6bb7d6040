"""Bearer-token verification for the API, against the same IdP as staff SSO.

JWT access tokens are verified locally: signature against the IdP's JWKS (kept in process memory,
fetched again when a token names an unknown ``kid``), ``iss``, ``aud`` (``OIDC_API_AUDIENCE``),
``exp``/``nbf`` with a small leeway, and only RS256/ES256. Opaque tokens are sent to the userinfo
endpoint once and the answer is cached for a short time under a hash of the token, so a client that
reuses its token costs no IdP call per request either.

The token's ``sub`` must belong to a provisioned user: someone who has signed in to the admin by
SSO (allauth ``SocialAccount`` uid) or a ``ServiceAccount`` created by staff for a machine client.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from rest_framework import exceptions

logger = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("RS256", "ES256")
_USERINFO_CACHE_PREFIX = "oidc:userinfo:"
_REJECTED = "__rejected__"


class IdentityProviderUnavailable(exceptions.APIException):
    """The IdP was needed (keys, userinfo) and could not be reached: retry, don't sign in again."""

    status_code = 503
    default_detail = "The identity provider cannot be reached; try again shortly."
    default_code = "idp_unavailable"
    wait = 5  # DRF turns this into Retry-After


def _fail(reason: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(reason, code="invalid_token")


def bearer_auth_configured() -> bool:
    return bool(getattr(settings, "OIDC_ISSUER", ""))


def _timeout() -> float:
    return float(getattr(settings, "OIDC_HTTP_TIMEOUT", 5))


def _idp_get(url: str, **kwargs: Any) -> requests.Response:
    try:
        response = requests.get(url, timeout=_timeout(), **kwargs)
    except requests.RequestException as exc:
        logger.warning("identity provider unreachable: %s (%s)", url, exc)
        raise IdentityProviderUnavailable() from exc
    if response.status_code >= 500:
        logger.warning("identity provider error %s on %s", response.status_code, url)
        raise IdentityProviderUnavailable()
    return response


@dataclass
class _ProviderState:
    """Per-process cache of the IdP's discovery document and signing keys."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    issuer: str = ""
    discovery: dict[str, Any] = field(default_factory=dict)
    discovery_expires: float = 0.0
    keys: dict[str | None, jwt.PyJWK] = field(default_factory=dict)
    keys_expires: float = 0.0
    keys_fetched: float = float("-inf")


_state = _ProviderState()


def reset_caches() -> None:
    """Forget discovery and keys (used when settings change, e.g. in tests)."""
    global _state
    _state = _ProviderState()


def _current_state() -> _ProviderState:
    global _state
    if _state.issuer != settings.OIDC_ISSUER:
        _state = _ProviderState(issuer=settings.OIDC_ISSUER)
    return _state


def _discovery() -> dict[str, Any]:
    state = _current_state()
    now = time.monotonic()
    if state.discovery and now < state.discovery_expires:
        return state.discovery
    url = settings.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = _idp_get(url)
        if response.status_code != 200:
            logger.warning("discovery answered %s", response.status_code)
            raise IdentityProviderUnavailable()
        state.discovery = response.json()
    except (IdentityProviderUnavailable, ValueError):
        if not state.discovery:
            raise IdentityProviderUnavailable() from None
        # An outage must not turn a document we already have into errors: keep it a while.
        state.discovery_expires = now + settings.OIDC_JWKS_MIN_REFRESH_SECONDS
        return state.discovery
    state.discovery_expires = now + settings.OIDC_DISCOVERY_CACHE_SECONDS
    return state.discovery


def _endpoint(setting: str, key: str) -> str:
    return getattr(settings, setting, None) or _discovery()[key]


def _load_keys(state: _ProviderState) -> None:
    # Attempts count, failed ones too: during an outage at most one request per interval waits
    # for the IdP (the others are behind the lock).
    state.keys_fetched = time.monotonic()
    response = _idp_get(_endpoint("OIDC_OP_JWKS_ENDPOINT", "jwks_uri"))
    try:
        document = response.json() if response.status_code == 200 else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        logger.warning("JWKS answered %s without a key set", response.status_code)
        raise IdentityProviderUnavailable()
    keys: dict[str | None, jwt.PyJWK] = {}
    for data in document.get("keys", []):
        if data.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue  # a key type or algorithm we don't accept
        keys[data.get("kid")] = key
    state.keys = keys
    state.keys_expires = time.monotonic() + settings.OIDC_JWKS_CACHE_SECONDS


def _signing_key(kid: str | None) -> jwt.PyJWK:
    state = _current_state()
    with state.lock:
        now = time.monotonic()
        if now >= state.keys_expires:
            try:
                _load_keys(state)
            except IdentityProviderUnavailable:
                if not state.keys:
                    raise
                # Keys expire so that withdrawn ones stop working, not to fail during an outage:
                # keep the ones we have and try again shortly.
                logger.warning("JWKS refresh failed; using the cached keys")
                state.keys_expires = now + settings.OIDC_JWKS_MIN_REFRESH_SECONDS
        key = state.keys.get(kid)
        if key is None and now - state.keys_fetched >= settings.OIDC_JWKS_MIN_REFRESH_SECONDS:
            # A new kid usually means the IdP rotated its keys. The minimum interval stops
            # tokens with made-up kids from turning every request into a JWKS download.
            _load_keys(state)
            key = state.keys.get(kid)
        if key is None and kid is None and len(state.keys) == 1:
            key = next(iter(state.keys.values()))
    if key is None:
        raise _fail("Token signed with an unknown key.")
    return key


def _looks_like_jwt(token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return isinstance(header, dict) and "alg" in header


def verify_jwt(token: str) -> dict[str, Any]:
    """Verified claims of a JWT access token, or AuthenticationFailed naming the reason."""
    header = jwt.get_unverified_header(token)
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise _fail(f"Token algorithm {alg!r} is not accepted.")
    audience = settings.OIDC_API_AUDIENCE
    if not audience:
        raise _fail("JWT access tokens are not accepted: no API audience is configured.")
    key = _signing_key(header.get("kid"))
    if key.algorithm_name != alg:
        raise _fail("Token algorithm does not match its key.")
    try:
        return jwt.decode(
            token,
            key=key.key,
            algorithms=[alg],
            audience=audience,
            # Auth0 writes its issuer with a trailing slash, most others without.
            issuer=[settings.OIDC_ISSUER.rstrip("/"), settings.OIDC_ISSUER.rstrip("/") + "/"],
            leeway=settings.OIDC_API_LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _fail("Token has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise _fail("Token is not valid yet.") from exc
    except jwt.InvalidIssuerError as exc:
        raise _fail("Token was issued by another issuer.") from exc
    except jwt.InvalidAudienceError as exc:
        raise _fail("Token is not meant for this API (audience).") from exc
    except jwt.InvalidSignatureError as exc:
        raise _fail("Token signature is invalid.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise _fail(f"Token lacks the {exc.claim!r} claim.") from exc
    except jwt.PyJWTError as exc:
        raise _fail("Token is malformed.") from exc


def _userinfo_cache_key(token: str) -> str:
    return _USERINFO_CACHE_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def userinfo_claims(token: str) -> dict[str, Any]:
    """Claims for an opaque token from the userinfo endpoint, cached under the token's hash."""
    if not settings.OIDC_API_ACCEPT_OPAQUE_TOKENS:
        raise _fail("Token is not a JWT access token.")
    cache_key = _userinfo_cache_key(token)
    cached = cache.get(cache_key)
    if cached == _REJECTED:
        raise _fail("Token was rejected by the identity provider.")
    if cached is not None:
        return cached
    response = _idp_get(
        _endpoint("OIDC_OP_USER_ENDPOINT", "userinfo_endpoint"),
        headers={"Authorization": f"Bearer {token}"},
    )
    ttl = settings.OIDC_USERINFO_CACHE_SECONDS
    if response.status_code in (400, 401, 403):
        # Refusals are cached too, so replaying a bad token does not reach the IdP each time.
        cache.set(cache_key, _REJECTED, ttl)
        raise _fail("Token was rejected by the identity provider.")
    try:
        claims = response.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise IdentityProviderUnavailable() from exc
    if response.status_code != 200 or not isinstance(claims, dict):
        raise IdentityProviderUnavailable()
    cache.set(cache_key, claims, ttl)
    return claims


def token_claims(token: str) -> dict[str, Any]:
    if _looks_like_jwt(token):
        return verify_jwt(token)
    if token.count(".") == 2:
        raise _fail("Token is malformed.")
    return userinfo_claims(token)


def user_for_subject(subject: str) -> Any:
    """The active user provisioned for an IdP subject: an SSO person or a service account.

    Two indexed lookups rather than one OR across both joins, which databases plan badly.
    """
    from allauth.socialaccount.models import SocialAccount

    from .models import ServiceAccount

    account: SocialAccount | ServiceAccount
    try:
        account = SocialAccount.objects.select_related("user").get(
            provider=settings.OIDC_PROVIDER_ID, uid=subject
        )
    except SocialAccount.DoesNotExist:
        try:
            account = ServiceAccount.objects.select_related("user").get(subject=subject)
        except ServiceAccount.DoesNotExist:
            raise _fail("Token subject is not a provisioned user of this application.") from None
    if not account.user.is_active:
        raise _fail("User is inactive.")
    return account.user


class BearerTokenBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc backend used only by the DRF class; sessions belong to allauth.

    The parent's constructor insists on token/userinfo endpoint settings; endpoints come from the
    IdP's discovery document instead, so it is not called.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = get_user_model()

    def authenticate(self, request: Any, **kwargs: Any) -> None:
        return None  # never a session login backend

    def get_or_create_user(self, access_token: str, id_token: Any, payload: Any) -> Any:
        claims = token_claims(access_token)
        subject = claims.get(settings.OIDC_SUBJECT_CLAIM)
        if not isinstance(subject, str) or not subject:
            raise _fail(f"Token has no {settings.OIDC_SUBJECT_CLAIM!r} claim.")
        return user_for_subject(subject)
