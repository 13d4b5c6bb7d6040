"""The shared cache's backend: Django's own ``RedisCache``, which fails soft.

Django's ``RedisCache`` raises the client's errors, so while Redis does not answer every user of
the default cache fails with it: our throttles and caps, but also libraries that use the cache
on their own (allauth keeps its rate limits and the OIDC nonces of SSO sign-ins there). This
subclass catches ``redis.exceptions.RedisError`` in each call and serves that call from this
process's local memory instead (the ``local`` cache alias): reads miss what Redis held, counters
count per process, writes last as long as the process. After a failure Redis is left alone for
``SHARED_CACHE_RETRY_SECONDS`` (so requests do not each wait for the socket timeout) and one
warning is logged per outage. ``apps/core/shared_cache.py`` says what that means for each limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("apps.core.shared_cache")

DOWN_KEY = "shared-cache:down"


def _local() -> Any:
    return caches["local"]


def local_count(cache: Any, key: str, timeout: int) -> int:
    """``count`` on a cache without it (local memory): ``incr``, or ``add`` for the first."""
    try:
        return int(cache.incr(key))
    except ValueError:  # first hit of the window (or the key expired): open it
        if cache.add(key, 1, timeout):
            return 1
        return int(cache.incr(key))  # another thread opened it first


class FailSoftRedisCache(RedisCache):
    """``RedisCache`` whose calls fall back to local memory while Redis does not answer."""

    def _soft(self, name: str, *args: Any, **kwargs: Any) -> Any:
        local = _local()
        if local.get(DOWN_KEY):
            return getattr(local, name)(*args, **kwargs)
        call: Callable[..., Any] = getattr(super(), name)
        try:
            return call(*args, **kwargs)
        except RedisError as exc:
            self.failed(name, exc)
            return getattr(local, name)(*args, **kwargs)

    def failed(self, operation: str, exc: BaseException) -> None:
        retry = float(getattr(settings, "SHARED_CACHE_RETRY_SECONDS", 5))
        # ``add`` succeeds once per outage window: one log line, not one per request.
        if _local().add(DOWN_KEY, True, retry):
            logger.warning(
                "shared cache unavailable (%s: %s); limits count per process, caches miss, "
                "for the next %.0f s",
                operation,
                exc.__class__.__name__,
                retry,
            )

    def answers(self) -> bool:
        """Whether Redis answers now (asked whatever the last failure was); ends an outage."""
        try:
            super().get("shared-cache:ping")
        except RedisError as exc:
            self.failed("ping", exc)
            return False
        _local().delete(DOWN_KEY)
        return True

    def count(self, key: str, timeout: int) -> int:
        """Add one to the counter ``key`` (created at 1, expiring after ``timeout`` seconds)
        and return it: one round trip, atomic.

        Django's ``RedisCache.incr`` asks ``EXISTS`` first (a second round trip) and refuses a
        missing key, so a window's counter would need ``incr``, then ``add``, then ``incr``
        again; its client is reached through ``_cache``, which has no public accessor.
        ``INCR`` creates the key; ``EXPIRE … NX`` (Redis 7) sets its lifetime once.
        """
        local = _local()
        if not local.get(DOWN_KEY):
            name = self.make_and_validate_key(key)
            try:
                client = self._cache.get_client(name, write=True)  # type: ignore[attr-defined]  # a cached_property of RedisCache that django-stubs omit
                pipeline = client.pipeline(transaction=False)
                pipeline.incr(name)
                pipeline.expire(name, timeout, nx=True)
                counted, _ = pipeline.execute()
                return int(counted)
            except RedisError as exc:
                self.failed("incr", exc)
        return local_count(local, key, timeout)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._soft("delete_many", *args, **kwargs)

    def clear(self) -> Any:
        return self._soft("clear")
