"""Helpers shared by the bearer-token tests: provisioned people, headers, concurrent requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group, Permission
from django.db import connections

from apps.accounts.identity_provider import identity_providers
from apps.accounts.idp_documents import SigningKeys
from tests.factories import UserFactory
from tests.idp_fixtures import PROVIDER_ID

WRITE_PERMS = [
    f"{action}_{model}"
    for model in ("customer", "item", "order")
    for action in ("view", "add", "change", "delete")
]


def group_with(name: str, codenames: list[str]) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.set(Permission.objects.filter(codename__in=codenames))
    return group


def provision_sso_user(sub: str, *, groups: Iterable[Group] = (), is_staff: bool = True) -> Any:
    """A staff member who has signed in once by SSO (what the admin login leaves behind)."""
    user: Any = UserFactory(username=sub, is_staff=is_staff)
    user.groups.set(groups)
    SocialAccount.objects.create(user=user, provider=PROVIDER_ID, uid=sub, extra_data={})
    return user


def bearer(token: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def threads() -> Iterator[Threads]:
    """Twenty request threads (the size of the bursts in the fault tests)."""
    pool = Threads(20)
    yield pool
    pool.close()


def signing_keys() -> SigningKeys:
    """The key client of the configured IdP (downloads discovery first if needed)."""
    provider = identity_providers().current()
    assert provider is not None, "OIDC_ISSUER is not set"
    return provider.signing_keys()


def wait_for_background_refresh(keys: SigningKeys, *, since: float, timeout: float = 10.0) -> None:
    """Wait until a key download that started after ``since`` (``time.monotonic()``) has ended.

    A request that finds the keys due starts their refresh on a thread of its own, which may not
    have begun when the request returns: "nothing in flight" alone does not mean it is over.
    """
    deadline = time.monotonic() + timeout
    while keys.last_attempt < since or keys.client.flights.in_flight(keys.flight_key):
        assert time.monotonic() < deadline, "the key refresh did not finish"
        time.sleep(0.01)


def _fresh(keys: SigningKeys) -> bool:
    cached = keys.cached()
    return cached is not None and cached[1]


def wait_for_fresh_keys(keys: SigningKeys, timeout: float = 10.0) -> None:
    """Wait until the cached keys are fresh and no download is in flight: a refresh that a
    request started in the background (the IdP answering) has reached the IdP and ended."""
    deadline = time.monotonic() + timeout
    while not _fresh(keys) or keys.client.flights.in_flight(keys.flight_key):
        assert time.monotonic() < deadline, "the keys were not refreshed"
        time.sleep(0.01)


class Threads:
    """``size`` threads kept for a whole test, released together for each burst of requests.

    The threads keep their database connections between bursts (opening one is part of a
    thread's first request, not of what the app does per request) and close them at the end.
    Transactional tests only: the threads must see committed rows.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="burst")

    def _together(self, call: Callable[[int], Any]) -> list[Any]:
        barrier = threading.Barrier(self.size)

        def task(index: int) -> Any:
            barrier.wait(timeout=30)  # every task on its own thread, started at the same time
            return call(index)

        futures = [self._pool.submit(task, i) for i in range(self.size)]
        return [future.result(timeout=60) for future in futures]

    def burst(self, call: Callable[[int], Any]) -> list[tuple[float, Any]]:
        """Run ``call(i)`` on every thread at once: ``[(seconds, result), ...]``."""

        def timed(index: int) -> tuple[float, Any]:
            start = time.monotonic()
            outcome = call(index)
            return time.monotonic() - start, outcome

        return self._together(timed)

    def connect(self) -> None:
        """Open each thread's database connection ahead of the bursts that are timed."""
        self._together(lambda _: connections["default"].ensure_connection())

    def close(self) -> None:
        self._together(lambda _: connections.close_all())
        self._pool.shutdown()
