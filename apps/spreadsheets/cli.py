"""What ``manage.py import_file`` and ``export_file`` share: models by name, progress on a
terminal, and the job record each run leaves (the same records the admin lists)."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from django.core.management.base import CommandError
from django.utils import timezone

from .engine import ImportReport
from .jobs import JobObserver
from .models import JobKind, JobPhase, JobStatus, SpreadsheetJob
from .readers import Table

MODELS = {"customers": "customers.customer", "items": "items.item", "orders": "orders.order"}


def model_label(name: str) -> str:
    try:
        return MODELS[name]
    except KeyError:
        raise CommandError(f"Unknown model {name!r}: use one of {', '.join(MODELS)}.") from None


def job_for_command(
    *, kind: str, model: str, file_name: str, file_format: str, options: Mapping[str, Any]
) -> SpreadsheetJob:
    now = timezone.now()
    return SpreadsheetJob.objects.create(
        kind=kind,
        model=model,
        status=JobStatus.RUNNING,
        phase=JobPhase.EXPORT if kind == JobKind.EXPORT else JobPhase.WRITE,
        file_name=file_name[-255:],
        file_format=file_format,
        options={**options, "command": True},
        started_at=now,
        heartbeat_at=now,
    )


class TerminalProgress:
    """A progress bar on a terminal; a plain line every few seconds otherwise (logs, CI)."""

    def __init__(self, out: Any, *, label: str, interval: float = 5.0) -> None:
        self.out = out
        self.label = label
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.interval = 0.2 if self.tty else interval
        self.started = time.monotonic()
        self.last = 0.0

    def show(self, done: int, total: int | None, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        speed = f"{rate:,.0f} rows/s"
        if total:
            share = min(done / total, 1.0)
            if self.tty:
                bar = "#" * int(30 * share)
                line = f"\r{self.label} [{bar:<30}] {share:4.0%} {done:,}/{total:,} rows {speed}"
            else:
                line = (
                    f"{self.label}: {done:,} of ~{total:,} rows ({share:.0%}), {speed}, "
                    f"{elapsed:.0f} s"
                )
        else:
            start = "\r" if self.tty else ""
            line = f"{start}{self.label}: {done:,} rows, {speed}, {elapsed:.0f} s"
        self.out.write(line if self.tty else line + "\n")
        if self.tty and final:
            self.out.write("\n")
        self.out.flush()


class CommandObserver(JobObserver):
    """The job's observer, also drawing progress on the terminal."""

    def __init__(self, job: SpreadsheetJob, progress: TerminalProgress) -> None:
        super().__init__(job, live=True)
        self.terminal = progress

    def progress(self, report: ImportReport, table: Table) -> None:
        read, total = table.bytes_read(), table.size_hint or table.size
        estimate = (
            int(report.rows_read * total / read)
            if read and total and read < total
            else report.rows_read
        )
        self.terminal.show(report.rows_read, estimate)
        super().progress(report, table)

    def rows(self, written: int) -> None:
        self.terminal.show(written, self.job.rows_total or None)
        super().rows(written)

    def invalid_row(self, number: int, cells: Sequence[Any], errors: Mapping[str, str]) -> None:
        return None


def stderr() -> IO[str]:
    return sys.stderr
