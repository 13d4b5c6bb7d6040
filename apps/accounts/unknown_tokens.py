"""Opaque tokens: the userinfo answers kept in the shared cache, and the cap on tokens not in it.

Opaque tokens are sent to the userinfo endpoint once per ``OIDC_USERINFO_CACHE_SECONDS``;
answers and refusals are kept in the shared cache (``apps.core.shared_cache``) under the token's
SHA-256, so one IdP call serves every process of every task. A token not in the cache costs an
IdP call, so those calls are counted per client address (:class:`UnknownTokenThrottle`,
``OIDC_UNKNOWN_TOKEN_RATE`` in DRF's rate syntax, one atomic counter in the shared cache): beyond
the rate, 429. It runs before authentication can fail, which the API's per-user throttle cannot.

While the shared cache does not answer, answers are kept and the cap counts in each process's
own memory (``apps.core.cache_backends``): each process asks the IdP once per token.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request

from apps.api_toolkit.throttling import AtomicRateThrottle

REFUSED = "__refused__"


def userinfo_cache_key(token: str) -> str:
    return "oidc:userinfo:" + hashlib.sha256(token.encode()).hexdigest()


def userinfo_cached(token: str) -> tuple[dict[str, Any], datetime] | str | None:
    """The kept answer for ``token``: ``(claims, fetched at)``, :data:`REFUSED`, or None."""
    found = cache.get(userinfo_cache_key(token))
    if found == REFUSED or (isinstance(found, tuple) and len(found) == 2):
        return found
    return None


def userinfo_keep(token: str, answer: tuple[dict[str, Any], datetime] | str) -> None:
    cache.set(userinfo_cache_key(token), answer, settings.OIDC_USERINFO_CACHE_SECONDS)


class UnknownTokenThrottle(AtomicRateThrottle):
    """How often one client address may make us ask the IdP about a token we have not seen."""

    scope = "oidc_unknown_token"

    def get_rate(self) -> str | None:
        return settings.OIDC_UNKNOWN_TOKEN_RATE or None

    def get_cache_key(self, request: Request, view: Any) -> str:
        return f"oidc:unknown-token:{self.get_ident(request)}"
