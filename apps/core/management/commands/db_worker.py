"""``manage.py db_worker``: django-tasks-db's worker, which outlives a database restart.

Upstream's worker (django-tasks-db 0.13) re-raises any ``OperationalError`` but a locked SQLite
database, so the process exits when PostgreSQL restarts (a failover, a maintenance window, "the
database system is starting up") and nothing but the orchestrator brings it back. This command
runs the same worker (its options, its loop, its task handling) and, when the database goes
away — while it polls, claims a task or runs one —

- closes its connections and waits with exponential back-off (``WORKER_RECONNECT_BASE_SECONDS``
  doubling up to ``WORKER_RECONNECT_MAX_SECONDS``, with jitter so that several workers do not
  knock together), logging the outage once and its end once;
- goes on polling once a query answers: tasks queued before or during the outage run then;
- marks the task that was running when the connection broke as failed (if it is still marked
  running), never runs it again. Its own writes were in its transactions, so they are either
  committed or gone: an SMS being sent is reconciled by ``sms_sweep`` (never sent twice), a
  spreadsheet job's whole-file transaction is rolled back and the job is failed by the jobs
  sweep once its heartbeat is stale.

A stop signal during the wait ends the process as upstream's does between tasks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Command as UpstreamCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("django_tasks_db")

CONNECTION_LOST = (OperationalError, InterfaceError)


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(*CONNECTION_LOST):  # it is gone already
            connection.close()


def _database_answers() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except CONNECTION_LOST:
        _close_connections()
        return False
    return True


class ReconnectingWorker(Worker):
    """Upstream's worker inside a loop that waits out a lost database (module docstring)."""

    def __init__(self, *, reconnect_base: float, reconnect_max: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reconnect_base = reconnect_base
        self.reconnect_max = reconnect_max
        self.interrupted: DBTaskResult | None = None

    def run(self) -> None:
        while self.running:
            try:
                super().run()
                return  # --batch or --max-tasks ended it
            except CONNECTION_LOST as exc:
                self.wait_for_database(exc)
                self.fail_interrupted(exc)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        except CONNECTION_LOST:
            # Upstream records a task's failure in the database: it could not.
            self.interrupted = db_task_result
            raise

    def wait_for_database(self, exc: BaseException) -> None:
        started = time.monotonic()
        logger.warning(
            "worker %s lost the database (%s: %s); reconnecting with back-off",
            self.worker_id,
            exc.__class__.__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        )
        _close_connections()
        delay = self.reconnect_base
        while self.running:
            time.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311  (jitter, not a secret)
            if _database_answers():
                logger.warning(
                    "worker %s reconnected after %.1f s",
                    self.worker_id,
                    time.monotonic() - started,
                )
                return
            delay = min(delay * 2, self.reconnect_max)

    def fail_interrupted(self, exc: BaseException) -> None:
        """Mark the task the outage interrupted as failed, unless it got further."""
        interrupted, self.interrupted = self.interrupted, None
        if interrupted is None:
            return
        try:
            interrupted.refresh_from_db()
            if interrupted.status == TaskResultStatus.RUNNING:
                interrupted.set_failed(exc)
                logger.warning(
                    "task %s (%s) was interrupted by the database outage: marked failed",
                    interrupted.id,
                    interrupted.task_path,
                )
        except CONNECTION_LOST:
            self.interrupted = interrupted  # lost again already: the loop will retry


class Command(UpstreamCommand):
    help = "Run a database background worker that reconnects after a database restart."

    def handle(self, **options: Any) -> None:
        verbosity = options["verbosity"]
        self.configure_logging(verbosity)
        reload, batch = options["reload"], options["batch"]
        if reload and batch:
            logger.warning("--reload and --batch cannot be specified together: no autoreload.")
            reload = False
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ReconnectingWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=batch,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
            reconnect_base=float(settings.WORKER_RECONNECT_BASE_SECONDS),
            reconnect_max=float(settings.WORKER_RECONNECT_MAX_SECONDS),
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child process runs tasks
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
