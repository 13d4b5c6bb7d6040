"""Heavy reads on the read replica (``DATABASE_REPLICA_URL``), every write on the primary.

What reads the replica: exports (spreadsheet jobs and downloads), the dashboard's closed days and
list counts (the admin's bulk-action counts), each inside ``with replica_reads(user=…):``. The
block decides once, when it is entered, where its reads go, and :class:`PrimaryReplicaRouter`
(``DATABASE_ROUTERS``) sends them there; everything else, and every write inside the block too,
goes to the primary (``default``). The replica is used only when

- it is configured (an alias ``replica`` in ``DATABASES``);
- it answers and its replay lag is at most ``DATABASE_REPLICA_MAX_LAG_SECONDS`` — checked at most
  every ``DATABASE_REPLICA_CHECK_SECONDS`` per process; a replica that lags or does not answer
  is logged (once per check) and the primary serves the reads;
- the person the reads are for wrote nothing in the last
  ``DATABASE_REPLICA_READ_YOUR_WRITES_SECONDS`` ("read your writes": :class:`RecentWriterMiddleware`
  notes, in the shared cache, when a signed-in user's write request succeeded; the block is
  handed that user).

The lag: 0 while the replica has replayed all the WAL it received, else the age of the last
transaction it replayed (``pg_last_xact_replay_timestamp``) — a replica whose replay is paused or
behind shows how far behind it is, an idle one shows 0.

Where the block's decision is kept: a context variable (per thread and per asyncio task, reset
when the block ends), which is how a router learns about its caller — Django hands routers only
the model and hints.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
_READS_FROM: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "replica_reads_from", default=None
)
_LAG_SQL = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN NULL
        WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
        ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
    END
"""


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag() -> float | None:
    """Seconds the replica is behind (module docstring); None when it is not a standby."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(_LAG_SQL)
        (lag,) = cursor.fetchone()
    return None if lag is None else float(lag)


def _replica_usable() -> bool:
    """Whether the replica answers within its lag bound; asked at most once per check period."""
    local = caches["local"]
    known = local.get("replica:usable")
    if known is not None:
        return bool(known)
    bound = float(settings.DATABASE_REPLICA_MAX_LAG_SECONDS)
    try:
        lag = replica_lag()
    except DatabaseError as exc:
        connections[REPLICA].close()
        logger.warning(
            "read replica unreachable (%s): heavy reads use the primary", exc.__class__.__name__
        )
        usable = False
    else:
        usable = lag is not None and lag <= bound
        if lag is None:
            logger.warning("read replica is not a standby: heavy reads use the primary")
        elif not usable:
            logger.warning(
                "read replica lags %.1f s (bound %.1f s): heavy reads use the primary", lag, bound
            )
    local.set("replica:usable", usable, float(settings.DATABASE_REPLICA_CHECK_SECONDS))
    return usable


def _wrote_key(user_pk: Any) -> str:
    return f"replica:wrote:{user_pk}"


def wrote_recently(user: Any) -> bool:
    """Whether ``user`` made a write within the read-your-writes window."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    at = cache.get(_wrote_key(user.pk))
    window = float(settings.DATABASE_REPLICA_READ_YOUR_WRITES_SECONDS)
    return at is not None and time.time() - float(at) < window


def note_write(user: Any) -> None:
    """Remember that ``user`` just wrote: their heavy reads use the primary for a while."""
    window = float(settings.DATABASE_REPLICA_READ_YOUR_WRITES_SECONDS)
    if window > 0 and user is not None and getattr(user, "is_authenticated", False):
        cache.set(_wrote_key(user.pk), time.time(), window)


def heavy_read_alias(*, user: Any = None) -> str:
    """Where heavy reads for ``user`` go now: ``replica`` or ``default`` (module docstring)."""
    if not replica_configured() or wrote_recently(user):
        return PRIMARY
    return REPLICA if _replica_usable() else PRIMARY


@contextmanager
def replica_reads(*, user: Any = None) -> Iterator[str]:
    """Reads in the block go to the replica when it may serve them; yields the alias chosen."""
    alias = heavy_read_alias(user=user)
    token = _READS_FROM.set(alias)
    try:
        yield alias
    finally:
        _READS_FROM.reset(token)


class PrimaryReplicaRouter:
    """``DATABASE_ROUTERS``: reads inside ``replica_reads`` go where it chose; writes never go
    to the replica. Elsewhere it has no opinion (Django's default: the primary, or the
    database an instance came from)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return _READS_FROM.get()

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        instance = hints.get("instance")
        if instance is not None and getattr(instance._state, "db", None) == REPLICA:
            return PRIMARY  # an object read from the replica is saved on the primary
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True  # one database seen twice
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None  # the replica copies the primary's schema


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class RecentWriterMiddleware:
    """Note a signed-in user's successful write request (read your writes, module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in _SAFE_METHODS and response.status_code < 400:
            # DRF sets the user it authenticated (a bearer token's too) on the Django request.
            note_write(getattr(request, "user", None))
        return response
