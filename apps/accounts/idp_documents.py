"""What the IdP publishes: its discovery document and its signing keys, kept and refreshed.

- **discovery** (:class:`Discovery`): ``<issuer>/.well-known/openid-configuration``, kept for
  ``OIDC_DISCOVERY_CACHE_SECONDS`` and kept during outages.
- **keys** (:class:`SigningKeys`): PyJWT's ``PyJWKClient`` with our rules: RS256/ES256 keys only,
  kept ``OIDC_JWKS_CACHE_SECONDS`` and served past that while a refresh runs in the background or
  the IdP is down, at most one download per ``OIDC_JWKS_MIN_REFRESH_SECONDS`` for unknown
  ``kid``s.

Both are per process (each worker downloads the keys once); they are parts of the
``IdentityProvider`` the accounts app config owns.
"""

from __future__ import annotations

import math
import time
from typing import Any, cast

import jwt

from .idp_client import IdPClient
from .token_errors import invalid_token_error

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})


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
            raise invalid_token_error("Token signed with an unknown key.")
        return key

    @staticmethod
    def _match(jwk_set: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
        keys = list(jwk_set.keys)
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((key for key in keys if key.key_id == kid), None)
