"""A running job's observer: progress and heartbeat, cancel, and the ownership check that ends
a write.

Progress (rows read, an estimate of the total, the counts) and the heartbeat are stored at most
once a second, wherever the job runs (a request or the worker), so the sweep can tell a live run
from a dead one. While an import writes, its transaction must not hold the job's row, so
progress goes through the ``jobs`` database alias (a second connection to the same database;
PostgreSQL) — on other databases the write phase reports only its outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import DatabaseError, connection, connections
from django.utils import timezone

from ..models import SpreadsheetJob
from ..plan import ImportReport
from ..readers import Table
from .states import JobCancelled

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.0


def progress_alias() -> str | None:
    """The connection progress is stored through while a transaction is open, if any."""
    return "jobs" if "jobs" in connections.databases else None


class JobObserver:
    """Follows one run of a job. ``on_invalid_row`` receives each invalid row as read (an error
    file); ``on_commit`` runs inside the write's transaction just before it commits (the job
    marks itself finished there, if its run still owns it)."""

    def __init__(
        self,
        job: SpreadsheetJob,
        *,
        on_invalid_row: Callable[[int, Sequence[Any], Mapping[str, str]], None] | None = None,
        on_commit: Callable[[ImportReport], None] | None = None,
    ) -> None:
        self.job = job
        self.on_invalid_row = on_invalid_row
        self.on_commit = on_commit
        self.last = time.monotonic()

    def _alias(self) -> str | None:
        return progress_alias() if connection.in_atomic_block else "default"

    def store(self, **fields: Any) -> None:
        fields["heartbeat_at"] = timezone.now()
        alias = self._alias()
        if alias is None:
            return  # inside the write transaction on a database without a second connection
        try:
            SpreadsheetJob.objects.using(alias).filter(pk=self.job.pk).update(**fields)
        except DatabaseError:
            logger.warning("progress of job %s not stored", self.job.uuid, exc_info=True)

    def _check_cancelled(self) -> None:
        alias = self._alias() or "default"  # reading is harmless inside the transaction
        cancelled = (
            SpreadsheetJob.objects.using(alias)
            .filter(pk=self.job.pk, cancel_requested=True)
            .exists()
        )
        if cancelled:
            raise JobCancelled

    def _due(self) -> bool:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL:
            return False
        self.last = now
        return True

    def progress(self, report: ImportReport, table: Table) -> None:
        if not self._due():
            return
        read = table.bytes_read()
        total = table.size_hint or table.size
        estimate = report.rows_read
        if read and total and read < total:
            estimate = int(report.rows_read * total / read)
        self.store(
            rows_read=report.rows_read,
            rows_total=max(estimate, report.rows_read),
            bytes_read=read,
            new=report.new,
            updated=report.updated,
            unchanged=report.unchanged,
            invalid=report.invalid,
        )
        self._check_cancelled()

    def rows(self, written: int) -> None:
        """Export progress (rows written so far)."""
        if not self._due():
            return
        self.store(rows_read=written)
        self._check_cancelled()

    def invalid_row(self, number: int, cells: Sequence[Any], errors: Mapping[str, str]) -> None:
        if self.on_invalid_row is not None:
            self.on_invalid_row(number, cells, errors)

    def before_commit(self, report: ImportReport) -> None:
        if self.on_commit is not None:
            self.on_commit(report)
