"""The shared cache (apps/core/shared_cache.py) against a real redis-server, and without one."""

from __future__ import annotations

import logging
import threading

import pytest
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from apps.core.cache_backends import DOWN_KEY
from apps.core.shared_cache import shared_cache_status, window_hit
from tests.factories import UserFactory


def test_window_counts_are_atomic_across_connections(redis_url):
    """Eight threads (Django gives each its own Redis connection) hit one window 1,600 times:
    every hit gets its own number, none is lost or doubled."""
    seen: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        mine = [window_hit("atomic", period=3600, now=1_800_000_000.0).count for _ in range(200)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 1601))
    assert caches["local"].get("window:atomic:3600:500000") is None  # nothing counted locally


def test_windows_are_aligned_and_reset(redis_url):
    first = window_hit("aligned", period=60, now=1_800_000_010.0)
    second = window_hit("aligned", period=60, now=1_800_000_059.0)
    third = window_hit("aligned", period=60, now=1_800_000_060.0)
    assert (first.count, second.count, third.count) == (1, 2, 1)
    assert first.resets_in == pytest.approx(50.0)
    assert third.resets_in == pytest.approx(60.0)


def test_values_round_trip_through_redis(redis_url):
    cache.set("answer", ({"sub": "x"}, 42), 60)
    assert cache.get("answer") == ({"sub": "x"}, 42)
    assert caches["local"].get("answer") is None  # it is Redis that holds it
    assert shared_cache_status() == "shared"


def test_without_redis_everything_is_served_by_this_process(redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="apps.core.shared_cache"):
        counts = [window_hit("down", period=60, now=1_800_000_000.0).count for _ in range(3)]
        cache.set("kept", 1, 60)
        assert cache.get("kept") == 1
        assert cache.add("once", 1, 60) and not cache.add("once", 2, 60)
        cache.delete("kept")
        assert cache.get_or_set("computed", 7, 60) == 7
    assert counts == [1, 2, 3]  # still a limit: counted in this process's memory
    assert caches["local"].get("once") == 1
    warnings = [r for r in caplog.records if "shared cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not per call
    assert shared_cache_status() == "unreachable"


def test_a_cache_that_comes_back_is_used_again(redis_url):
    # An outage was noticed a moment ago: the shared cache is skipped, counts are local.
    caches["local"].set(DOWN_KEY, True, 60)
    assert window_hit("back", period=60, now=1_800_000_000.0).count == 1
    assert window_hit("back", period=60, now=1_800_000_000.0).count == 2
    # /readyz's probe finds it answering and ends the outage at once, without waiting out
    # SHARED_CACHE_RETRY_SECONDS: the next hit is Redis's own first.
    assert shared_cache_status() == "shared"
    assert window_hit("back", period=60, now=1_800_000_000.0).count == 1


@pytest.mark.django_db
def test_api_throttle_is_one_count_across_clients(redis_url, settings):
    """Two clients of one user share one window (as two gunicorn workers would)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "4/minute"},
    }
    user = UserFactory(perms=["customers.view_customer"])
    clients = [APIClient(), APIClient()]
    for client in clients:
        client.force_authenticate(user)
    statuses = [clients[n % 2].get("/v1/customers").status_code for n in range(6)]
    assert statuses.count(200) == 4
    throttled = clients[0].get("/v1/customers")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert throttled["Retry-After"] == "59"  # one second into the minute (throttle_clock)


@pytest.mark.django_db
def test_api_still_throttles_while_redis_is_down(redis_down, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/minute"},
    }
    client = APIClient()
    client.force_authenticate(UserFactory(perms=["customers.view_customer"]))
    assert [client.get("/v1/customers").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.django_db
def test_readyz_reports_a_cache_that_does_not_answer(redis_down, client, settings, caplog):
    with caplog.at_level(logging.WARNING, logger="backoffice.health"):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "unreachable"}
    assert any("shared cache does not answer" in r.getMessage() for r in caplog.records)
    settings.READYZ_REQUIRE_CACHE = True
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["cache"] == "unreachable"


@pytest.mark.django_db
def test_signing_in_works_while_redis_is_down(redis_down):
    """Sessions and the lockout are in PostgreSQL; what libraries keep in the cache (allauth's
    rate limits) is served by this process."""
    from django.test import Client

    UserFactory(username="root", is_superuser=True)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "pw-test-12345"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
