"""Liveness and readiness probes for the load balancer, ECS and the container HEALTHCHECK.

``/healthz`` answers as long as the process serves requests. ``/readyz`` also proves the database
answers, that every migration on disk is applied and that the configuration checks pass (system
checks tagged ``configuration``: SMS backend and delivery-report secret, allowed hosts, the SMS
template), so a task started before ``migrate`` ran, against the wrong database or with a
configuration that cannot work is kept out of the target group. Both are unauthenticated, cheap
and never cached by proxies; what failed goes to the log, the answer only says how many.

``/readyz`` also asks the shared cache (``CACHE_URL``) and says ``"cache": "shared"``, ``"local"``
(none configured) or ``"unreachable"``. A cache that does not answer leaves the task in service
(``"status": "degraded"``, 200): every task shares the same Redis, so refusing would take them all
out of the load balancer at once while the product still works without it
(``apps/core/shared_cache.py`` says how each limit degrades). ``READYZ_REQUIRE_CACHE`` makes it a
503 instead.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.shared_cache import shared_cache_status

logger = logging.getLogger(__name__)

# Loading the migration graph costs milliseconds; once every migration is applied it stays so
# for the life of this code version, so a positive answer is reused for a while.
MIGRATIONS_OK_TTL_SECONDS = 60.0


class _MigrationState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ok_until = 0.0

    def reset(self) -> None:
        with self._lock:
            self._ok_until = 0.0

    def pending(self) -> list[str]:
        """Names of unapplied migrations (``app.name``), empty when the schema is current."""
        if time.monotonic() < self._ok_until:
            return []
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        names = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
        if not names:
            with self._lock:
                self._ok_until = time.monotonic() + MIGRATIONS_OK_TTL_SECONDS
        return names


migration_state = _MigrationState()


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def configuration_errors() -> list[checks.CheckMessage]:
    """Failing configuration checks (errors and worse); a fraction of a millisecond."""
    return [
        message
        for message in checks.run_checks(tags=["configuration"])
        if message.level >= checks.ERROR and not message.is_silenced()
    ]


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    failing = configuration_errors()
    if failing:
        logger.error(
            "readyz: failing configuration checks: %s",
            "; ".join(f"{m.id}: {m.msg}" for m in failing),
        )
        return JsonResponse(
            {"status": "unavailable", "configuration_errors": len(failing)}, status=503
        )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        pending = migration_state.pending()
    except DatabaseError as exc:
        logger.warning("readyz: database unreachable: %s", exc.__class__.__name__)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    if pending:
        # Names go to the log only: the probe is public.
        logger.warning("readyz: unapplied migrations: %s", ", ".join(pending))
        return JsonResponse(
            {"status": "unavailable", "database": "ok", "pending_migrations": len(pending)},
            status=503,
        )
    cache = shared_cache_status()
    if cache == "unreachable":
        logger.warning("readyz: the shared cache does not answer")
        if settings.READYZ_REQUIRE_CACHE:
            return JsonResponse(
                {"status": "unavailable", "database": "ok", "cache": cache}, status=503
            )
        return JsonResponse({"status": "degraded", "database": "ok", "cache": cache})
    return JsonResponse({"status": "ok", "database": "ok", "cache": cache})


class ProbeMiddleware:
    """Serve ``/healthz`` and ``/readyz`` ahead of the rest of the stack.

    The load balancer and ECS address tasks by IP, so their probes carry a Host header that
    ``ALLOWED_HOSTS`` rightly refuses; probes also need no session, user or CSRF work.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.probes = {"/healthz": healthz, "/readyz": readyz}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)
