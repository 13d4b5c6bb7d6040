from collections import Counter
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from apps.core import shared_cache
from tests.factories import UserFactory

ALL_DOMAIN_PERMS = [
    f"{app}.{action}_{model}"
    for app, model in (("customers", "customer"), ("items", "item"), ("orders", "order"))
    for action in ("view", "add", "change", "delete")
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test has its own id: pytest-xdist hands tests to processes by id and a duplicate
    runs once per id in the summary (docs/architecture.md, "Parallel-safe tests")."""
    duplicates = [nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1]
    if duplicates:
        raise pytest.UsageError(f"tests with the same id: {duplicates}")


@pytest.fixture
def staff_user(db):
    """A staff member with every model permission on customers, items and orders."""
    return UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS)


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def _api_settings(settings):
    """A throttle rate no test reaches unless it lowers it; a clean throttle history."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/minute"},
    }
    cache.clear()
    yield
    cache.clear()


class ThrottleClock:
    """The clock of the fixed rate-limit windows (``apps.core.shared_cache.window_hit``), stopped
    one second into a window of every length up to a day: a test's requests all fall into one
    window however long they take, until the test moves the clock with :meth:`advance`."""

    def __init__(self) -> None:
        self.now = 1_800_057_601.0  # 2027-01-16 00:00:01 UTC: a multiple of 86,400, plus one

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def throttle_clock(monkeypatch: pytest.MonkeyPatch) -> ThrottleClock:
    """Every test in this process counts rate limits on a stopped clock (:class:`ThrottleClock`);
    servers started as processes (tests/backoffice/test_two_replicas.py) keep the real one."""
    clock = ThrottleClock()
    monkeypatch.setattr(shared_cache, "time", SimpleNamespace(time=lambda: clock.now))
    return clock


@pytest.fixture
def api_user(db):
    """Every model permission on customers, items and orders (not a superuser)."""
    return UserFactory(perms=ALL_DOMAIN_PERMS)


@pytest.fixture
def viewer(db):
    return UserFactory(perms=[p for p in ALL_DOMAIN_PERMS if ".view_" in p])


@pytest.fixture
def api(api_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(api_user)
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
