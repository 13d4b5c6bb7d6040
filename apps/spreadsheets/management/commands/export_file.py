"""``manage.py export_file <sheet> PATH [--format csv|xlsx] [--as USERNAME]``: every row of the
sheet's model in its export columns, written to PATH (CSV through the database's COPY on
PostgreSQL). Recorded as a spreadsheet job."""

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.replica import replica_reads
from apps.spreadsheets.cli import CommandObserver, TerminalProgress, command_actor
from apps.spreadsheets.exports import csv_write, xlsx_write
from apps.spreadsheets.jobs.create import job_for_command
from apps.spreadsheets.jobs.exports import export_queryset
from apps.spreadsheets.jobs.states import JobCancelled, job_finish
from apps.spreadsheets.models import JobKind, JobStatus
from apps.spreadsheets.registry import sheet_names, sheet_registration_named


class Command(BaseCommand):
    help = "Export customers, items or orders to a CSV or XLSX file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sheet", choices=sheet_names())
        parser.add_argument("path")
        parser.add_argument("--format", choices=["csv", "xlsx"], help="default: from PATH")
        parser.add_argument("--as", dest="username", metavar="USERNAME", help="who exports it")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["path"])
        file_format = opts["format"] or path.suffix.lower().lstrip(".")
        if file_format not in ("csv", "xlsx"):
            raise CommandError("Give --format csv or xlsx (or a PATH ending in .csv or .xlsx).")
        registration = sheet_registration_named(opts["sheet"])
        actor = command_actor(opts["username"])
        # The rows come from the read replica when one is configured and up (core/replica.py);
        # the job's own record is written on the primary.
        with replica_reads(user=actor) as alias:
            queryset = export_queryset(registration, {}).using(alias)
        job = job_for_command(
            kind=JobKind.EXPORT,
            registration=registration,
            file_name=str(path),
            file_format=file_format,
            actor=actor,
        )
        job.rows_total = queryset.count()
        job.save(update_fields=["rows_total"])
        terminal = TerminalProgress(self.stderr, label="exporting")
        observer = CommandObserver(job, terminal)
        write = xlsx_write if file_format == "xlsx" else csv_write
        partial = path.with_name(path.name + ".part")
        try:
            with open(partial, "wb") as out:
                rows = write(registration.sheet(), queryset, out, observer.rows)
            os.replace(partial, path)
        except (OSError, JobCancelled) as exc:
            partial.unlink(missing_ok=True)
            job_finish(job, JobStatus.FAILED, message=f"Failed: no file was written: {exc}")
            self.stderr.write(f"No file was written: {exc}")
            sys.exit(1)
        terminal.show(rows, rows, final=True)
        job_finish(
            job,
            JobStatus.SUCCEEDED,
            rows_read=rows,
            size=path.stat().st_size,
            message=f"Export finished: {rows:,} rows.",
        )
        self.stdout.write(
            f"Wrote {rows:,} {opts['sheet']} to {path} ({path.stat().st_size:,} bytes)."
        )
