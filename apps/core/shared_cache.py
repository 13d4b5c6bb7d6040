"""The shared cache, and what the product does while it does not answer.

``CACHE_URL`` points Django's ``default`` cache at Redis (Django's own ``RedisCache``), so every
process of every task shares the API throttle, the cap on unknown bearer tokens, the userinfo
answers and the dashboard's closed days. Without it the ``default`` cache is local memory (one
process: ``make run``). A second alias, ``local``, is always this process's own memory.

Counters are fixed windows made atomic by the cache: ``incr`` is Redis ``INCR`` (one command, no
read-then-write between two processes), and the first hit of a window is an ``add`` (``SET NX``)
that only one process can win; the loser increments. DRF's ``SimpleRateThrottle`` keeps a list
per key with ``get`` and ``set`` instead: two processes read the same list, each appends its
request and writes it back, and one request is lost from the count.

While the shared cache does not answer (Redis down, a network fault), nothing fails because of
it; every call below catches the client's errors, logs one warning per outage and skips the
shared cache for ``SHARED_CACHE_RETRY_SECONDS`` (so requests do not each wait for a timeout):

- counters count in the process's ``local`` cache: each limit still holds, per process (a
  limit of 1,200 a minute becomes 1,200 a minute for each gunicorn worker), as before the cache
  was shared;
- reads miss and writes are dropped: a userinfo answer is asked of the IdP again (the IdP
  back-off and the per-process unknown-token cap still apply), the dashboard computes its
  closed days on every visit.

Break-glass lockouts are not here: django-axes keeps them in PostgreSQL (a row per
username/address, ``SELECT … FOR UPDATE`` and ``F() + 1``), shared by every task and kept
whatever happens to Redis.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_DOWN_KEY = "shared-cache:down"
# Window keys outlive their window by this much: app servers' clocks differ by a little.
_CLOCK_SKEW_SECONDS = 5


@dataclass(frozen=True)
class WindowCount:
    """Hits counted in the current window (this one included) and seconds until it ends."""

    count: int
    resets_in: float


def _local() -> Any:
    return caches["local"]


def _shared() -> Any | None:
    """The default cache, or None while it is known not to answer."""
    if _local().get(_DOWN_KEY):
        return None
    return caches["default"]


def _failed(operation: str, exc: Exception) -> None:
    retry = float(getattr(settings, "SHARED_CACHE_RETRY_SECONDS", 5))
    # ``add`` succeeds once per outage window: one log line, not one per request.
    if _local().add(_DOWN_KEY, True, retry):
        logger.warning(
            "shared cache unavailable (%s: %s); limits count per process, caches miss, "
            "for the next %.0f s",
            operation,
            exc.__class__.__name__,
            retry,
        )


def cache_get(key: str, default: Any = None) -> Any:
    """The shared cache's value for ``key``; ``default`` when it has none or does not answer."""
    shared = _shared()
    if shared is None:
        return default
    try:
        return shared.get(key, default)
    except RedisError as exc:
        _failed("get", exc)
        return default


def cache_set(key: str, value: Any, timeout: float) -> None:
    """Store ``value`` in the shared cache; dropped while it does not answer."""
    shared = _shared()
    if shared is None:
        return
    try:
        shared.set(key, value, timeout)
    except RedisError as exc:
        _failed("set", exc)


def _count(cache: Any, key: str, timeout: int) -> int:
    try:
        return int(cache.incr(key))
    except ValueError:  # first hit of the window (or the key expired): open it
        if cache.add(key, 1, timeout):
            return 1
        return int(cache.incr(key))  # another process opened it first


def window_hit(key: str, *, period: int, now: float | None = None) -> WindowCount:
    """Count one hit for ``key`` in the current ``period``-second window (atomic, shared).

    Windows start at multiples of ``period`` seconds of Unix time, so every process agrees on
    them. Falls back to the process's own memory while the shared cache does not answer.
    """
    now = time.time() if now is None else now
    window = math.floor(now / period)
    window_key = f"window:{key}:{period}:{window}"
    resets_in = (window + 1) * period - now
    timeout = period + _CLOCK_SKEW_SECONDS
    shared = _shared()
    if shared is not None:
        try:
            return WindowCount(_count(shared, window_key, timeout), resets_in)
        except RedisError as exc:
            _failed("incr", exc)
    return WindowCount(_count(_local(), window_key, timeout), resets_in)


def shared_cache_status() -> str:
    """``"shared"`` (it answers), ``"local"`` (no shared cache configured) or ``"unreachable"``.

    For ``/readyz``: asks the cache itself, whatever the last failure was.
    """
    cache = caches["default"]
    if not is_shared(cache):
        return "local"
    try:
        cache.get("shared-cache:ping")
    except RedisError as exc:
        _failed("ping", exc)
        return "unreachable"
    _local().delete(_DOWN_KEY)
    return "shared"


def is_shared(cache: Any) -> bool:
    """Whether a cache is shared between processes (not Django's local-memory or dummy)."""
    backend = type(cache).__module__
    return not backend.startswith(
        ("django.core.cache.backends.locmem", "django.core.cache.backends.dummy")
    )
