"""Request rates for /v1, counted atomically in the shared cache.

DRF's ``SimpleRateThrottle`` parses the rate (``parse_rate``: ``1200/minute``) and names the key;
its ``allow_request`` keeps a list of timestamps per key with ``cache.get`` and ``cache.set``,
which two processes can interleave (both read the list, both write it back, one request is lost
from the count). :class:`AtomicRateThrottle` replaces that one method with a fixed window
counted by ``apps.core.shared_cache.window_hit`` (Redis ``INCR``): with several gunicorn workers
and tasks behind the load balancer, the rate holds for the whole deployment. A window allows a
burst of the whole rate at its end and again at the start of the next: over any window-length
span a client gets at most twice the rate, over longer spans the rate.
"""

from typing import Any, cast

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from apps.core.shared_cache import window_hit
from apps.security.client_address import client_address


class AtomicRateThrottle(SimpleRateThrottle):
    """A DRF throttle whose count is one atomic counter per key and window (module docstring)."""

    # Set by DRF's constructor from ``parse_rate`` (djangorestframework-stubs omit them).
    num_requests: int | None
    duration: int | None
    seconds_to_wait: float | None = None

    def get_ident(self, request: Request) -> str:
        # The one client-address rule (X-Forwarded-For with TRUSTED_PROXY_COUNT), not DRF's
        # NUM_PROXIES.
        return client_address(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        assert self.duration is not None and self.num_requests is not None
        hit = window_hit(self.key, period=int(self.duration))
        if hit.count <= self.num_requests:
            self.seconds_to_wait = None
            return True
        self.seconds_to_wait = hit.resets_in
        return False

    def wait(self) -> float | None:
        return self.seconds_to_wait


class UserThrottle(AtomicRateThrottle, UserRateThrottle):
    """Per-user rate from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]``.

    DRF binds the rates dict when the throttle module is imported; reading it per request keeps
    the rate configurable in tests and at run time.
    """

    def get_rate(self) -> str | None:
        # djangorestframework-stubs type the rates as numbers; DRF's rates are "100/min" strings.
        rates = cast("dict[str, str | None]", api_settings.DEFAULT_THROTTLE_RATES)
        return rates.get(self.scope) if self.scope is not None else None


def rate_problem(rate: str) -> str | None:
    """Why DRF's ``parse_rate`` refuses ``rate`` (``"30/minute"``), or None when it takes it."""

    class Probe(SimpleRateThrottle):
        def get_rate(self) -> str:
            return rate

    try:
        Probe()
    except (ValueError, KeyError, IndexError):
        return f"{rate!r} is not a rate like '30/minute' (per second, minute, hour or day)"
    return None
