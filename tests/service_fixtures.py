"""Fixtures for the services `make test` starts beside the suite (scripts/test-services.sh).

Each skips, saying why and how to get the service, when the run has none: on a machine without
redis-server, or on SQLite (no replica).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import override_settings

from apps.core.shared_cache import is_shared

NO_REDIS = (
    "needs a redis-server: `make test` starts one (scripts/test-services.sh); "
    "apt-get install redis-server"
)
NO_REPLICA = (
    "needs a streaming PostgreSQL replica: `make test` with DATABASE_URL=postgres://… makes one "
    "with pg_basebackup (scripts/test-services.sh)"
)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test run's Redis (its URL with the database this worker uses), with no outage
    remembered from an earlier test."""
    if not settings.TEST_REDIS_URL or not is_shared(caches["default"]):
        pytest.skip(NO_REDIS)
    caches["local"].clear()
    yield str(settings.CACHES["default"]["LOCATION"])
    caches["local"].clear()


def closed_port_cache() -> dict[str, Any]:
    """CACHES whose shared cache is a Redis address where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from backoffice.settings.base import cache_settings

    return cache_settings(f"redis://127.0.0.1:{port}/0", timeout=0.2)


@pytest.fixture
def replica(transactional_db: Any, settings: Any) -> Iterator[str]:
    """The streaming replica of the test database, as the ``replica`` connection of this test.

    Transactional: rows reach the replica only once committed on the primary. Waits for the
    replica to have replayed everything committed before it returns.
    """
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): " + NO_REPLICA)
    if not settings.TEST_DATABASE_REPLICA_URL:
        pytest.skip(NO_REPLICA)
    url = urlsplit(settings.TEST_DATABASE_REPLICA_URL)
    primary = connections["default"].settings_dict
    replica_settings = {
        **primary,
        "HOST": url.hostname,
        "PORT": url.port,
        "OPTIONS": {**primary.get("OPTIONS", {}), "connect_timeout": 2},
    }
    # The test settings have no replica, so every other test reads the primary whatever a
    # replica_reads() block asks for. Here the connection is made for this test (Django allows
    # connections made at run time in any test) and the router is told it exists.
    connections["replica"] = load_backend(primary["ENGINE"]).DatabaseWrapper(
        replica_settings, "replica"
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Overriding setting DATABASES")
        settings.DATABASES = {**settings.DATABASES, "replica": replica_settings}
    try:
        replica_caught_up()
        yield "replica"
    finally:
        connections["replica"].close()
        del connections["replica"]


def replica_caught_up(timeout: float = 10.0) -> None:
    """Wait until the replica has replayed the primary's WAL as of now."""
    import time

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    with connections["replica"].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the replica did not catch up in time")
            time.sleep(0.05)


@pytest.fixture
def redis_down(_api_settings: Any) -> Iterator[None]:
    """The shared cache configured at an address where nothing answers, for this test.

    Set up after (so undone before) the suite's own cache clearing, which needs a cache that
    answers.
    """
    with override_settings(CACHES=closed_port_cache(), SHARED_CACHE_RETRY_SECONDS=60):
        caches["local"].clear()  # local memory outlives a change of CACHES: no earlier outage
        yield
        caches["local"].clear()
