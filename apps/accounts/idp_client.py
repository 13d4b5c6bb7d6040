"""The one way out to the IdP: split timeouts, a failure back-off and shared calls.

After a failure, calls are refused for ``OIDC_IDP_FAILURE_BACKOFF_SECONDS`` (:class:`Backoff`)
with a 503 instead of each waiting for the IdP; concurrent requests that need the same fetch
share one call (:class:`SingleFlight`). No lock is held while a call is in flight, so requests
never queue behind one another. The state is this process's: each process learns of an outage
once (the objects are owned by the accounts app config through ``IdentityProviders``).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import requests

from .token_errors import IdentityProviderUnavailable

logger = logging.getLogger("apps.accounts.bearer")


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


class Flight:
    """One call in flight and, once it ends, its value or error."""

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
        self._flights: dict[Hashable, Flight] = {}

    def in_flight(self, key: Hashable) -> bool:
        return key in self._flights

    def run(self, key: Hashable, call: Callable[[], Any], *, wait: float) -> Any:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = Flight()
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
