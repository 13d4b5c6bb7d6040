"""The shared cache: counters that hold across replicas, and what each limit does without it.

``CACHE_URL`` points Django's ``default`` cache at Redis (``cache_backends.FailSoftRedisCache``,
Django's own ``RedisCache`` that fails soft), so every process of every task shares the API
throttle, the cap on unknown bearer tokens, the userinfo answers, the dashboard's closed days and
read-your-writes marks. Without it the ``default`` cache is local memory (one process:
``make run``). A second alias, ``local``, is always this process's own memory.

Counters are fixed windows made atomic by the cache (:func:`window_hit`): one Redis ``INCR`` per
hit (one command, no read-then-write between two processes; the key is created by the first,
``EXPIRE … NX`` gives it its lifetime), in one round trip. DRF's
``SimpleRateThrottle`` keeps a list per key with ``get`` and ``set`` instead: two processes read
the same list, each appends its request and writes it back, and one request is lost.

While Redis does not answer nothing fails because of it; each call is served by the process's
local memory (``cache_backends``), one warning is logged per outage and Redis is left alone for
``SHARED_CACHE_RETRY_SECONDS``. What that means for each limit:

- the API throttle and the unknown-token cap count per process: each still holds, per process
  (1,200 a minute becomes 1,200 a minute for each gunicorn process), as before the cache was
  shared;
- userinfo answers are not shared: an opaque token is asked of the IdP again (the IdP back-off
  and the per-process cap still apply); the dashboard computes its closed days again;
- read-your-writes marks are lost: a person's heavy reads may use the replica just after a write;
- libraries that use the cache (allauth's rate limits and SSO nonces) keep working per process.

Break-glass lockouts are not here: django-axes keeps them in PostgreSQL (a row per
username/address, ``SELECT … FOR UPDATE`` and ``F() + 1``), shared by every task and kept
whatever happens to Redis.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache, caches

from .cache_backends import local_count

# Window keys outlive their window by this much: app servers' clocks differ by a little.
_CLOCK_SKEW_SECONDS = 5


@dataclass(frozen=True)
class WindowCount:
    """Hits counted in the current window (this one included) and seconds until it ends."""

    count: int
    resets_in: float


def _count(key: str, timeout: int) -> int:
    count = getattr(cache, "count", None)  # FailSoftRedisCache's one-round-trip counter
    return int(count(key, timeout)) if count is not None else local_count(cache, key, timeout)


def window_hit(key: str, *, period: int, now: float | None = None) -> WindowCount:
    """Count one hit for ``key`` in the current ``period``-second window (atomic, shared).

    Windows start at multiples of ``period`` seconds of Unix time, so every process agrees on
    them.
    """
    now = time.time() if now is None else now
    window = math.floor(now / period)
    count = _count(f"window:{key}:{period}:{window}", period + _CLOCK_SKEW_SECONDS)
    return WindowCount(count, (window + 1) * period - now)


def is_shared(backend: Any) -> bool:
    """Whether a cache is shared between processes (not Django's local-memory or dummy)."""
    module = type(backend).__module__
    return not module.startswith(
        ("django.core.cache.backends.locmem", "django.core.cache.backends.dummy")
    )


def shared_cache_status() -> str:
    """``"shared"`` (it answers), ``"local"`` (no shared cache configured) or ``"unreachable"``.

    For ``/readyz``: asks the cache itself, whatever the last failure was.
    """
    backend = caches["default"]
    if not is_shared(backend):
        return "local"
    answers = getattr(backend, "answers", None)
    return "shared" if answers is None or answers() else "unreachable"
