"""What ``manage.py import_file`` and ``export_file`` share: who runs them, progress on a
terminal, and the job record each run leaves (the same records the admin lists)."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from apps.core.actors import Actor

from .jobs.observer import JobObserver
from .models import SpreadsheetJob
from .plan import ImportReport
from .readers import Table


def command_actor(username: str | None) -> Actor:
    """The user a command acts as (``--as USERNAME``), or ``None``: the system actor."""
    if not username:
        return None
    user = get_user_model()._default_manager.filter(username=username).first()
    if user is None or not user.is_active:
        raise CommandError(f"No active user {username!r} (--as).")
    return user


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

    def __init__(self, job: SpreadsheetJob, progress: TerminalProgress, **kwargs: Any) -> None:
        super().__init__(job, **kwargs)
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
