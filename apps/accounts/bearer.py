"""Bearer tokens for /v1: from an access token to a user, against the staff SSO's IdP.

mozilla-django-oidc's DRF class (``apps.accounts.authentication``) reads the ``Authorization``
header and hands the token to :class:`BearerTokenBackend`, its ``OIDCAuthenticationBackend``
subclass, whose claims-to-user steps do the work. The parts, in the order a request meets them:

- **IdP calls** (:class:`IdPClient`): the one way out to the IdP. Separate connect and read
  timeouts; a failure is remembered for ``OIDC_IDP_FAILURE_BACKOFF_SECONDS`` (:class:`Backoff`),
  during which calls fail at once with a 503 instead of each waiting for the IdP; concurrent
  requests that need the same fetch share one call (:class:`SingleFlight`). No lock is held while
  a call is in flight, so requests never queue behind one another.
- **discovery** (:class:`Discovery`): ``<issuer>/.well-known/openid-configuration``, kept for
  ``OIDC_DISCOVERY_CACHE_SECONDS`` and kept during outages.
- **keys** (:class:`SigningKeys`): PyJWT's ``PyJWKClient`` with our rules: RS256/ES256 keys only,
  kept ``OIDC_JWKS_CACHE_SECONDS`` and served past that while a refresh runs in the background or
  the IdP is down, at most one download per ``OIDC_JWKS_MIN_REFRESH_SECONDS`` for unknown ``kid``s.
- **userinfo cache** (:func:`userinfo_cache_key`): opaque tokens are sent to the userinfo endpoint
  once per ``OIDC_USERINFO_CACHE_SECONDS``; answers and refusals are cached under the token's
  SHA-256. A token not in the cache costs an IdP call, so those calls are counted per client
  address (:class:`UnknownTokenLimit`, ``OIDC_UNKNOWN_TOKEN_RATE``): beyond the rate, 429.
- **provisioning** (:func:`provisioned_user`): the token's subject is an SSO person (allauth
  ``SocialAccount`` uid) or a ``ServiceAccount``, never matched by email. People must be active
  and staff; their flags and groups follow the token's groups claim when it has one, unless a
  newer view of them was applied already (``ClaimsState``: an old token cannot undo a change).

Where the state lives: everything this process knows about the issuer (discovery, keys,
back-off, calls in flight) is one :class:`IdentityProvider`. The accounts app config owns an
:class:`IdentityProviders` holder that builds it on first use and drops it when an ``OIDC_*``
setting changes (Django's ``setting_changed`` signal), so tests that override settings start
fresh and no module-level variable is mutated. Like the keys before, it is per process: each
worker learns the keys, and an outage, once. Userinfo answers and unknown-token counts live in
Django's cache (per process with the default local-memory cache, shared with a shared one).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import jwt
import requests
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from rest_framework import exceptions
from rest_framework.request import Request

from .services import user_claims_applied, user_sync_from_claims

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

logger = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})
_REFUSED = "__refused__"


class IdentityProviderUnavailable(exceptions.APIException):
    """The IdP was needed (keys, userinfo) and could not be reached: retry, don't sign in again."""

    status_code = 503
    default_detail = "The identity provider cannot be reached; try again shortly."
    default_code = "idp_unavailable"

    def __init__(self, *, retry_after: float = 5) -> None:
        super().__init__()
        self.wait = max(1, math.ceil(retry_after))  # DRF turns this into Retry-After


def refuse(reason: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(reason, code="invalid_token")


# IdP calls ---------------------------------------------------------------------------------


class Backoff:
    """Remembers that the IdP failed, so that requests fail fast instead of each waiting for it.

    After a failure, calls are refused for ``seconds``. Then one call goes through as a probe
    (the others are still refused for as long as it may take); a success clears the back-off.
    """

    def __init__(self, seconds: float, probe_seconds: float) -> None:
        self.seconds = seconds
        self.probe_seconds = probe_seconds
        self._lock = threading.Lock()
        self._down = False
        self._until = 0.0

    def retry_after(self) -> float:
        return max(1.0, self._until - time.monotonic()) if self._down else self.seconds

    def blocked(self) -> bool:
        return self._down and time.monotonic() < self._until

    def before_call(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._down:
                if now < self._until:
                    raise IdentityProviderUnavailable(retry_after=self._until - now)
                self._until = now + self.probe_seconds

    def failed(self) -> None:
        with self._lock:
            self._down = True
            self._until = time.monotonic() + self.seconds

    def succeeded(self) -> None:
        with self._lock:
            self._down = False
            self._until = 0.0


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class SingleFlight:
    """Concurrent callers asking for the same thing share one call instead of queueing.

    The first caller for a key makes the call; the others wait for its outcome (at most ``wait``
    seconds) and get the same value, or a copy of the same error. The lock only guards the table
    of calls in flight, never the call itself.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}

    def in_flight(self, key: Hashable) -> bool:
        return key in self._flights

    def run(self, key: Hashable, call: Callable[[], Any], *, wait: float) -> Any:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            if not flight.done.wait(wait):
                raise IdentityProviderUnavailable()
            if flight.error is not None:
                raise copy.copy(flight.error).with_traceback(None)
            return flight.value
        try:
            flight.value = call()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()
        return flight.value

    def run_in_background(self, key: Hashable, call: Callable[[], Any], *, wait: float) -> None:
        """Start ``call`` on a thread unless a call for ``key`` is already in flight."""
        if self.in_flight(key):
            return

        def quietly() -> None:
            try:
                self.run(key, call, wait=wait)
            except Exception as exc:  # a refresh that failed is retried later
                logger.info("background refresh of %s failed: %s", key, exc)

        threading.Thread(target=quietly, name=f"oidc-refresh-{key}", daemon=True).start()


class IdPClient:
    """GET requests to the IdP with split timeouts, failure back-off and shared calls."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, backoff: float) -> None:
        self.timeout = (connect_timeout, read_timeout)
        # A reader waiting for a shared call gives up once the call must have timed out.
        self.longest_call = connect_timeout + read_timeout + 1.0
        self.backoff = Backoff(backoff, probe_seconds=self.longest_call)
        self.flights = SingleFlight()

    def unavailable(self) -> IdentityProviderUnavailable:
        return IdentityProviderUnavailable(retry_after=self.backoff.retry_after())

    def failed(self, reason: str, *args: Any) -> IdentityProviderUnavailable:
        """Record a failure (the IdP answered, but not usefully) and return the error to raise."""
        logger.warning("identity provider failure: " + reason, *args)
        self.backoff.failed()
        return self.unavailable()

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        """``(status, parsed JSON or None)``; raises IdentityProviderUnavailable on a fault."""
        self.backoff.before_call()
        try:
            response = requests.get(
                url, headers=dict(headers or {}), timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise self.failed("%s unreachable (%s)", url, exc.__class__.__name__) from exc
        if response.status_code >= 500:
            raise self.failed("%s answered %s", url, response.status_code)
        self.backoff.succeeded()
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None


# Discovery ---------------------------------------------------------------------------------


class Discovery:
    """The IdP's discovery document: kept ``lifespan`` seconds, refreshed in the background
    after that, and kept for as long as the IdP cannot give a new one."""

    def __init__(self, issuer: str, client: IdPClient, *, lifespan: float) -> None:
        self.url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        self.client = client
        self.lifespan = lifespan
        self._entry: tuple[dict[str, Any], float] | None = None  # (document, expires at)

    def document(self) -> dict[str, Any]:
        entry = self._entry
        if entry is None:
            return cast(
                dict[str, Any],
                self.client.flights.run("discovery", self.fetch, wait=self.client.longest_call),
            )
        document, expires = entry
        if time.monotonic() >= expires and not self.client.backoff.blocked():
            self.client.flights.run_in_background(
                "discovery", self.fetch, wait=self.client.longest_call
            )
        return document

    def fetch(self) -> dict[str, Any]:
        status, document = self.client.get_json(self.url)
        if status != 200 or not isinstance(document, dict):
            raise self.client.failed("discovery answered %s without a document", status)
        self._entry = (document, time.monotonic() + self.lifespan)
        return document

    def endpoint(self, name: str, override: str | None = None) -> str:
        if override:
            return override
        value = self.document().get(name)
        if not isinstance(value, str) or not value:
            raise self.client.failed("discovery has no %s", name)
        return value


# Keys --------------------------------------------------------------------------------------


def _usable_signing_key(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("use", "sig") != "sig":
        return False
    try:
        return jwt.PyJWK(data).algorithm_name in ALLOWED_ALGORITHMS
    except jwt.PyJWTError:
        return False


class SigningKeys(jwt.PyJWKClient):
    """PyJWT's JWKS client with our rules.

    Upstream ``get_signing_key`` holds a lock while it downloads (every request then waits behind
    a slow IdP, one after the other) and its ``fetch_data`` has one timeout and no memory of
    failures; both are replaced. What stays upstream's: the key set cache (``jwk_set_cache``,
    ``lifespan`` = ``OIDC_JWKS_CACHE_SECONDS``) and ``get_jwk_set``, which parses and caches.
    """

    def __init__(self, uri: str, *, client: IdPClient, lifespan: float, min_refresh: float) -> None:
        super().__init__(
            uri,
            cache_jwk_set=True,
            lifespan=lifespan,
            timeout=client.timeout[1],
            cooldown_duration=min_refresh,
        )
        self.client = client
        self.min_refresh = min_refresh
        self.last_attempt = -math.inf  # monotonic time of the last download, failed ones too
        self.flight_key = ("jwks", uri)

    def fetch_data(self) -> dict[str, Any]:
        """Download the key set and keep only RS256/ES256 signing keys."""
        self.last_attempt = time.monotonic()
        status, document = self.client.get_json(self.uri)
        keys = document.get("keys") if isinstance(document, dict) else None
        if status != 200 or not isinstance(keys, list):
            raise self.client.failed("JWKS answered %s without a key set", status)
        usable = [key for key in keys if _usable_signing_key(key)]
        if not usable:
            raise self.client.failed("JWKS has no RS256/ES256 signing key")
        return {"keys": usable}

    def refresh(self) -> jwt.PyJWKSet:
        """Download now; concurrent callers share the download."""
        return cast(
            jwt.PyJWKSet,
            self.client.flights.run(
                self.flight_key,
                lambda: self.get_jwk_set(refresh=True),
                wait=self.client.longest_call,
            ),
        )

    def cached(self) -> tuple[jwt.PyJWKSet, bool] | None:
        """The cached key set and whether it is still fresh, or None before the first download.

        Upstream ``jwk_set_cache.get()`` answers None once the set has expired; expired keys are
        still the best we have during an outage, so the cache entry is read directly.
        """
        assert self.jwk_set_cache is not None
        entry = self.jwk_set_cache.jwk_set_with_timestamp
        if entry is None:
            return None
        return entry.get_jwk_set(), not self.jwk_set_cache.is_expired()

    def get_signing_key(self, kid: str | None) -> jwt.PyJWK:
        cached = self.cached()
        if cached is None:
            jwk_set = self.refresh()
        else:
            jwk_set, fresh = cached
            if not fresh and not self.client.backoff.blocked():
                self.client.flights.run_in_background(
                    self.flight_key,
                    lambda: self.get_jwk_set(refresh=True),
                    wait=self.client.longest_call,
                )
        key = self._match(jwk_set, kid)
        if key is None and (
            time.monotonic() - self.last_attempt >= self.min_refresh
            or self.client.flights.in_flight(self.flight_key)
        ):
            # A new kid usually means the IdP rotated its keys. The minimum interval stops
            # tokens with made-up kids from turning every request into a JWKS download.
            key = self._match(self.refresh(), kid)
        if key is None:
            raise refuse("Token signed with an unknown key.")
        return key

    @staticmethod
    def _match(jwk_set: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
        keys = list(jwk_set.keys)
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((key for key in keys if key.key_id == kid), None)


# Userinfo cache and the limit for tokens not in it ------------------------------------------


def userinfo_cache_key(token: str) -> str:
    return "oidc:userinfo:" + hashlib.sha256(token.encode()).hexdigest()


def client_address(request: HttpRequest | Request | None) -> str:
    """The address the request came from, as the first proxy in front of us saw it.

    Behind ``AXES_PROXY_COUNT`` proxies (1 behind the load balancer; the password lockout uses
    the same setting) the client is that many entries from the right of X-Forwarded-For: proxies
    append, so entries further left were written by the client and prove nothing.
    """
    if request is None:
        return "unknown"
    meta = request.META
    proxies = int(getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return str(meta.get("REMOTE_ADDR") or "unknown")


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class UnknownTokenLimit:
    """How often one client address may make us ask the IdP about a token we have not seen.

    It runs before authentication can fail, which the API's per-user throttle cannot. Windows
    in Django's cache (``add`` + ``incr``, atomic in shared caches): a window opens with an
    address's first unknown token and allows ``count`` calls for ``period`` seconds.
    ``OIDC_UNKNOWN_TOKEN_RATE`` is written like DRF's rates: ``30/minute``, ``5/second``,
    ``1000/hour``, ``10000/day``.
    """

    def __init__(self, rate: str) -> None:
        count, _, period = rate.partition("/")
        if not count.strip().isdigit() or period.strip()[:1] not in _PERIODS:
            raise ValueError(f"OIDC_UNKNOWN_TOKEN_RATE {rate!r} is not like '30/minute'")
        self.count = int(count)
        self.period = _PERIODS[period.strip()[0]]

    def wait(self, address: str) -> float | None:
        """Count one call for ``address``: None if allowed, else seconds until it is."""
        now = time.time()
        window = f"oidc:unknown-token:{address}"
        cache.add(window, now, self.period)
        opened = cache.get(window, now)
        counter = f"{window}:{opened}"
        cache.add(counter, 0, self.period + 1)
        try:
            used = cache.incr(counter)
        except ValueError:  # evicted between add and incr
            cache.set(counter, 1, self.period + 1)
            used = 1
        if used <= self.count:
            return None
        return max(1.0, opened + self.period - now)


# Per-issuer state and its owner ------------------------------------------------------------


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
            raise refuse(f"Token algorithm {alg!r} is not accepted.")
        audience = settings.OIDC_API_AUDIENCE
        if not audience:
            raise refuse("JWT access tokens are not accepted: no API audience is configured.")
        key = self.signing_keys(jwks_endpoint).get_signing_key(header.get("kid"))
        if key.algorithm_name != alg:
            raise refuse("Token algorithm does not match its key.")
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
            raise refuse("Token has expired.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise refuse("Token is not valid yet.") from exc
        except jwt.InvalidIssuerError as exc:
            raise refuse("Token was issued by another issuer.") from exc
        except jwt.InvalidAudienceError as exc:
            raise refuse("Token is not meant for this API (audience).") from exc
        except jwt.InvalidSignatureError as exc:
            raise refuse("Token signature is invalid.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise refuse(f"Token lacks the {exc.claim!r} claim.") from exc
        except jwt.PyJWTError as exc:
            raise refuse("Token is malformed.") from exc

    def userinfo_claims(
        self, token: str, *, request: HttpRequest | Request | None, endpoint: str | None = None
    ) -> tuple[dict[str, Any], datetime]:
        """Claims for an opaque token from the userinfo endpoint, and when they were fetched.

        Answers are cached under the token's hash for ``OIDC_USERINFO_CACHE_SECONDS``.
        """
        cache_key = userinfo_cache_key(token)
        cached = cache.get(cache_key)
        if cached == _REFUSED:
            raise refuse("Token was rejected by the identity provider.")
        if cached is not None:
            return cast(tuple[dict[str, Any], datetime], cached)
        # Only requests that would reach the IdP count: not those refused during a back-off,
        # nor those joining a call already in flight for the same token.
        if self.client.backoff.blocked():
            raise self.client.unavailable()
        flight_key = ("userinfo", cache_key)
        rate = settings.OIDC_UNKNOWN_TOKEN_RATE
        if rate and not self.client.flights.in_flight(flight_key):
            wait = UnknownTokenLimit(rate).wait(client_address(request))
            if wait is not None:
                raise exceptions.Throttled(
                    wait=wait, detail="Too many unknown tokens from this address; try again later."
                )
        url = self.discovery.endpoint("userinfo_endpoint", endpoint)

        def ask() -> Any:
            status, claims = self.client.get_json(url, headers={"Authorization": f"Bearer {token}"})
            ttl = settings.OIDC_USERINFO_CACHE_SECONDS
            if status in (400, 401, 403):
                # Refusals are cached too: replaying a bad token does not reach the IdP again.
                cache.set(cache_key, _REFUSED, ttl)
                return _REFUSED
            if status != 200 or not isinstance(claims, dict):
                raise self.client.failed("userinfo answered %s without claims", status)
            answer = (claims, timezone.now())
            cache.set(cache_key, answer, ttl)
            return answer

        answer = self.client.flights.run(flight_key, ask, wait=self.client.longest_call)
        if answer == _REFUSED:
            raise refuse("Token was rejected by the identity provider.")
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


# Provisioning ------------------------------------------------------------------------------


def provisioned_user(
    subject: str, *, claims_state: bool = False
) -> tuple[AbstractUser, bool] | None:
    """The user provisioned for an IdP subject and whether it is a machine's, or None.

    An SSO person (allauth ``SocialAccount`` uid) first, else a ``ServiceAccount``: two indexed
    lookups rather than one OR across both joins, which databases plan badly. ``claims_state``
    joins the person's ``ClaimsState`` (wanted when the token carries the groups claim).
    """
    users = get_user_model().objects.all()
    people = users.select_related("claims_state") if claims_state else users
    try:
        person = people.get(
            socialaccount__provider=settings.OIDC_PROVIDER_ID, socialaccount__uid=subject
        )
    except ObjectDoesNotExist:
        pass
    else:
        return cast("AbstractUser", person), False
    try:
        machine = users.get(service_account__subject=subject)
    except ObjectDoesNotExist:
        return None
    return cast("AbstractUser", machine), True


def issued_at(claims: Mapping[str, Any]) -> datetime | None:
    """When a JWT was issued (``iat``, else ``nbf``); None if it does not say (not synced then)."""
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
    return None


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
            raise refuse("Token is malformed.")
        if not settings.OIDC_API_ACCEPT_OPAQUE_TOKENS:
            raise refuse("Token is not a JWT access token.")
        claims, self.claims_as_of = provider.userinfo_claims(
            access_token, request=self.request, endpoint=self.OIDC_OP_USER_ENDPOINT
        )
        return claims

    def verify_claims(self, claims: Mapping[str, Any]) -> bool:
        subject = claims.get(settings.OIDC_SUBJECT_CLAIM)
        if not isinstance(subject, str) or not subject:
            raise refuse(f"Token has no {settings.OIDC_SUBJECT_CLAIM!r} claim.")
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
        """Access follows the person: active, staff, and staff/groups as the token says now."""
        if not user.is_active:
            raise refuse("User is inactive.")
        if self.service_account:
            return user  # machine clients are never staff; their groups are set in the admin
        as_of = self.claims_as_of
        if (
            settings.OIDC_GROUPS_CLAIM in claims
            and as_of is not None
            and not user_claims_applied(user=user, claims=claims, as_of=as_of)
        ):
            user = user_sync_from_claims(user=user, claims=claims, as_of=as_of)
        if not user.is_staff:
            raise refuse("User has no staff access.")
        return user

    def create_user(self, claims: Mapping[str, Any]) -> AbstractUser:
        raise refuse("Token subject is not a provisioned user of this application.")

    def get_or_create_user(self, access_token: str, id_token: Any, payload: Any) -> AbstractUser:
        claims = self.get_userinfo(access_token, id_token, payload)
        self.verify_claims(claims)
        users = self.filter_users_by_claims(claims)
        if not users:
            return self.create_user(claims)
        return self.update_user(users[0], claims)
